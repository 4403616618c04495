"""The audit log: sign-ins, user and team changes, filters, the CSV export, links to conversations."""
import csv
import io
import re
from pathlib import Path

import pytest

from apps.accounts.models import Role
from apps.audit.actions import ACTION_LABELS
from apps.audit.models import AuditEntry
from apps.audit.services import audit_record
from apps.connectors.models import ChannelAuditEvent
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="ada")


def sign_in(client, username, password, ip):
    return client.post("/login/", {"username": username, "password": password, "next": "/"}, REMOTE_ADDR=ip)


def test_sign_ins_and_failed_sign_ins_are_logged_with_the_address(client, make_user):
    user = make_user(username="lola")
    sign_in(client, "lola", "wrong", "192.0.2.10")
    sign_in(client, "lola", "pw-secret-123", "192.0.2.11")
    failed = AuditEntry.objects.get(action="auth.login_failed")
    assert (failed.actor, failed.target_label, failed.ip) == (None, "lola", "192.0.2.10")
    assert "wrong" not in str(failed.after) and "password" not in failed.after
    ok = AuditEntry.objects.get(action="auth.login")
    assert (ok.actor, ok.target_id, ok.ip) == (user, str(user.pk), "192.0.2.11")


def test_changes_show_on_the_page_filtered_and_export_as_csv_with_before_and_after(client, admin, make_user):
    # given a role change, a team creation and a sign-in
    agent = make_user(username="mario")
    api = client_for(admin)
    api.patch(f"/api/users/{agent.pk}/", {"role": "supervisor"}, format="json", REMOTE_ADDR="198.51.100.20")
    api.post("/api/teams/", {"name": "Soporte =1+1"}, format="json")
    sign_in(client.__class__(), "mario", "pw-secret-123", "192.0.2.30")
    client.force_login(admin)

    # when the admin filters the log by user changes
    page = client.get("/audit/", {"action": "user."}).content.decode()
    # then the role change shows with before -> after and the address, and the team does not
    assert 'data-action="user.role_changed"' in page and 'data-action="team.created"' not in page
    assert '<span class="from">agent</span> → <span class="to">supervisor</span>' in page
    assert "198.51.100.20" in page

    # when she exports every entry as CSV
    response = client.get("/audit/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_action = {r["action"]: r for r in rows if r["action"] != "auth.login" or r["target"] == "mario"}
    # then each row has who, what, before, after, when and where
    role = by_action["user.role_changed"]
    assert (role["actor"], role["target_id"], role["before"], role["after"], role["ip"]) == (
        "ada", str(agent.pk), '{"role": "agent"}', '{"role": "supervisor"}', "198.51.100.20")
    assert by_action["auth.login"]["ip"] == "192.0.2.30" and by_action["auth.login"]["target"] == "mario"
    assert by_action["team.created"]["target"] == "'Soporte =1+1"[1:]  # no leading = : not quoted
    # and the same filter applies to the export
    filtered = b"".join(client.get("/audit/export.csv", {"action": "team.created"}).streaming_content).decode()
    assert filtered.count("\n") == 2 and "team.created" in filtered
    # and the API gives the same entries as JSON
    results = api.get("/api/audit/", {"action": "user.role_changed"}).json()["results"]
    assert [(r["actor"], r["before"], r["after"]) for r in results] == [("ada", {"role": "agent"}, {"role": "supervisor"})]


def test_a_formula_in_a_value_is_quoted_in_the_csv(client, admin):
    audit_record(actor=admin, action="team.created", target_type="team", target_id=1, target_label="=HYPERLINK(\"x\")",
                 after={"name": "=HYPERLINK"})
    client.force_login(admin)
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/audit/export.csv", {"action": "team.created"}).streaming_content).decode())))
    assert rows[0]["target"] == "'=HYPERLINK(\"x\")"


def test_entries_about_conversations_link_to_their_own_trail(client, admin, make_user, account, inbound, team):
    # given an agent holding a conversation, deactivated
    from apps.inbox.services.conversations import conversation_update

    agent = make_user(username="nuria", teams=[team])
    (c,) = conversations(inbound, account, 1)
    conversation_update(conversation=c, actor=admin, assignee=agent)
    client_for(admin).post(f"/api/users/{agent.pk}/deactivate/")
    client.force_login(admin)
    page = client.get("/audit/", {"action": "user.deactivated"}).content.decode()
    # then the entry links to the conversation, where its events are
    assert f'href="/c/{c.pk}/"' in page
    audit_record(actor=admin, action="conversation.exported", target_type="conversation", target_id=c.pk)
    assert client_for(admin).get("/api/audit/", {"target_type": "conversation"}).json()["results"][0]["conversation_url"] == f"/c/{c.pk}/"


def test_bad_filters_are_a_clear_400_and_pages_are_keyset(client, admin, django_assert_max_num_queries):
    for i in range(120):
        audit_record(actor=admin, action="team.created", target_type="team", target_id=i, after={"name": f"T{i}"})
    client.force_login(admin)
    assert client.get("/audit/", {"since": "yesterday"}).status_code == 400
    api = client_for(admin)
    assert api.get("/api/audit/", {"since": "nope"}).status_code == 400
    with django_assert_max_num_queries(6):
        first = client.get("/audit/", {"action": "team."})
    assert first.content.decode().count('data-action="team.created"') == 100
    body = api.get("/api/audit/", {"page_size": 100, "action": "team.created"}).json()
    second = api.get(body["next"]).json()
    assert len(body["results"]) == 100 and len(second["results"]) == 20
    assert not {r["id"] for r in body["results"]} & {r["id"] for r in second["results"]}


def test_each_action_reads_in_the_admins_language_with_its_code_beside_it(client, admin):
    # given a team created (action team.created) and an admin who reads Spanish
    client_for(admin).post("/api/teams/", {"name": "Ventas"}, format="json")
    type(admin).objects.filter(pk=admin.pk).update(language="es")
    client.force_login(admin)
    # when she opens the log
    page = client.get("/audit/").content.decode()
    # then the action is named in Spanish, with the recorded code kept beside it, and the filter names it too
    assert 'Equipo creado <code class="small muted">team.created</code>' in page
    assert '<option value="team.created">Equipo creado</option>' in page
    # and every action code the desk records has a label (a new code without one fails here)
    recorded = set()
    for path in Path("apps").rglob("*.py"):
        recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    for path in ("apps/sla/services.py", "apps/accounts/services.py"):  # codes chosen in an expression
        recorded |= set(re.findall(r'"((?:sla|user)\.[a-z_]+)"', Path(path).read_text()))
    recorded |= {f"channel_account.{a}" for a in ChannelAuditEvent.Action.values if a != "tested"}
    assert recorded - set(ACTION_LABELS) == set()
