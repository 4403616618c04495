"""The admins' REST API for channels: every kind created and changed, validation in plain words,
secrets write-only over every endpoint, admins only."""
import json

import pytest

from apps.accounts.models import Role
from apps.connectors.models import ChannelAccount, ChannelAuditEvent
from tests.builders import client_for

from .kinds import ACCOUNTS, SECRET_VALUES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_each_kind_is_created_through_the_api_and_reads_waiting_not_ok(admin_client, team, kind):
    # given what an admin types for this kind
    body = {"kind": kind, "name": f"Tienda {kind}", "team": team.id, **ACCOUNTS[kind]}
    # when
    response = admin_client.post("/api/channel-accounts/", body, format="json")
    # then: created, typed, configured but not yet proven
    assert response.status_code == 201, response.content
    data = response.json()
    account = ChannelAccount.objects.get(pk=data["id"])
    assert (account.kind, account.team_id) == (kind, team.id)
    assert data["health_state"] == "waiting", data["health"]
    assert account.secrets_meta.keys() >= ACCOUNTS[kind]["secrets"].keys()
    assert {s["name"]: s["set_by"] for s in data["secrets_status"] if s["is_set"]}.keys() >= ACCOUNTS[kind]["secrets"].keys()
    assert all(s["set_by"] == "ana" for s in data["secrets_status"] if s["is_set"] and s["name"] != "inbound_token")
    # a generated secret is in this response only (the API channel's token is kept as a hash)
    expected_once = {"api": {"inbound_token"}, "facebook": {"verify_token"}}.get(kind, set())
    assert set(data["shown_once"]) == expected_once
    if kind == "api":
        assert ChannelAccount.hash_token(data["shown_once"]["inbound_token"]) == account.inbound_token_hash
        assert data["webhook_urls"][0]["url"] == f"http://testserver/api/inbound/{account.id}/"
    if kind == "facebook":
        assert account.secrets["verify_token"] == data["shown_once"]["verify_token"]
        assert "verify_token" not in admin_client.get(f"/api/channel-accounts/{account.id}/").json().get("shown_once", {})
    if kind == "email":
        assert account.settings["imap_port"] == 993  # typed from the form's text
    assert ChannelAuditEvent.objects.filter(account_id=account.id, action="created", actor__username="ana").exists()


def test_validation_says_what_is_wrong_in_plain_words_and_stores_nothing(admin_client):
    bad = {"address": "not-an-address", "imap_host": "imap://mail.example.com", "imap_port": "nine",
           "imap_security": "tls", "smtp_host": "smtp.example.com", "smtp_port": 70000}
    response = admin_client.post("/api/channel-accounts/", {"kind": "email", "name": "Soporte", "settings": bad,
                                                            "poll_interval": 5}, format="json")
    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert fields == {
        "address": ["Address: Give an email address like soporte@example.com."],
        "imap_host": ["IMAP host: Give a host name like mail.example.com or an IP address, without a scheme or port."],
        "imap_port": ["IMAP port: Give a whole number, like 993."],
        "imap_security": ["IMAP security: Choose one of: ssl, starttls, none."],
        "smtp_port": ["SMTP port: Give a number from 1 to 65535."],
    }
    twilio = admin_client.post("/api/channel-accounts/", {"kind": "phone", "name": "Línea", "settings": {
        "account_sid": "SK123", "phone_number": "910 000 000"}}, format="json")
    assert twilio.json()["extra"]["fields"] == {
        "phone_number": ["Phone number: Give the number in international form, like +34910000000."],
        "account_sid": ["Twilio account SID: A Twilio account SID is AC followed by 32 letters and digits."],
    }
    interval = admin_client.post("/api/channel-accounts/", {"kind": "twitter", "name": "X", "poll_interval": 5}, format="json")
    assert interval.json()["extra"]["fields"] == {"poll_interval": ["Polling interval: give seconds from 30 to 86400."]}
    assert not ChannelAccount.objects.exists()


def test_an_account_without_its_required_secrets_reads_not_configured(admin_client):
    created = admin_client.post("/api/channel-accounts/", {"kind": "twitter", "name": "@Tienda"}, format="json").json()
    assert created["health_state"] == "not_configured"
    assert created["health"] == ("Not configured: missing the API key, API key secret, access token and access token secret "
                                 "(or a user bearer token)")
    mailbox = admin_client.post("/api/channel-accounts/", {"kind": "email", "name": "Buzón", "settings": {
        "address": "a@tienda.example", "imap_host": "imap.tienda.example", "smtp_host": "smtp.tienda.example"}}, format="json")
    assert mailbox.json()["health"] == "Not configured: missing IMAP password"
    # and once the secret is set it is no longer
    fixed = admin_client.patch(f"/api/channel-accounts/{mailbox.json()['id']}/", {"secrets": {"imap_password": "x"}}, format="json")
    assert fixed.json()["health_state"] == "waiting"


def test_secrets_merge_key_by_key_and_are_stamped_with_who_and_when(admin_client, make_account):
    account = make_account(kind="twitter", secrets=dict(ACCOUNTS["twitter"]["secrets"]))
    response = admin_client.patch(f"/api/channel-accounts/{account.id}/",
                                  {"secrets": {"access_token": "SECRET-new-Ii09", "bearer_token": None}}, format="json")
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.secrets == {**ACCOUNTS["twitter"]["secrets"], "access_token": "SECRET-new-Ii09"}
    assert account.secrets_meta["access_token"]["by"] == "ana"
    assert "SECRET-new-Ii09" not in response.content.decode()
    assert ChannelAuditEvent.objects.get(account_id=account.id, action="secrets").detail == "access_token, bearer_token"


def test_enable_disable_and_the_poll_interval_through_the_api(admin_client, make_account):
    account = make_account(kind="email", **ACCOUNTS["email"])
    off = admin_client.patch(f"/api/channel-accounts/{account.id}/", {"enabled": False, "poll_interval": 120}, format="json")
    assert (off.json()["health"], off.json()["poll_interval"]) == ("Disabled", 120)
    assert list(ChannelAuditEvent.objects.filter(account_id=account.id).values_list("action", flat=True)) == ["updated", "disabled"]


def test_remove_refuses_an_account_with_conversations_and_removes_one_without(admin_client, make_account, inbound):
    from apps.inbox.services.ingest import messages_ingest

    used, unused = make_account(kind="api"), make_account(kind="api")
    messages_ingest(messages=[inbound(used, email="eva@example.com")])
    refused = admin_client.delete(f"/api/channel-accounts/{used.id}/")
    assert refused.status_code == 409
    assert refused.json()["message"].startswith("This account has 1 conversation(s): removing it would erase them")
    assert admin_client.delete(f"/api/channel-accounts/{unused.id}/").status_code == 204
    assert list(ChannelAccount.objects.values_list("id", flat=True)) == [used.id]
    assert ChannelAuditEvent.objects.filter(account_id=unused.id, action="removed").exists()


def test_rotating_a_generated_secret_shows_the_new_one_once(admin_client):
    created = admin_client.post("/api/channel-accounts/", {"kind": "facebook", "name": "Página", **ACCOUNTS["facebook"]},
                                format="json").json()
    rotated = admin_client.post(f"/api/channel-accounts/{created['id']}/rotate-secret/").json()
    account = ChannelAccount.objects.get(pk=created["id"])
    assert rotated["name"] == "verify_token" and rotated["value"] == account.secrets["verify_token"]
    assert rotated["value"] != created["shown_once"]["verify_token"]
    assert admin_client.post(f"/api/channel-accounts/{created['id']}/rotate-token/").status_code == 400  # not an API channel


def _every_admin_call(client, account_ids: list[int], dead_letter_id: int) -> list:
    responses = [client.get("/api/channel-accounts/"), client.get("/api/channel-kinds/"), client.get("/api/channel-alerts/"),
                 client.put("/api/channel-alerts/", {"email": True}, format="json")]
    for account_id in account_ids:
        responses += [
            client.get(f"/api/channel-accounts/{account_id}/"),
            client.patch(f"/api/channel-accounts/{account_id}/", {"name": f"Renamed {account_id}"}, format="json"),
            client.get(f"/api/channel-accounts/{account_id}/health/"),
            client.get(f"/api/channel-accounts/{account_id}/dead-letters/"),
            client.get(f"/api/channel-accounts/{account_id}/audit/"),
            client.post(f"/api/channel-accounts/{account_id}/test/"),
            client.post(f"/api/channel-accounts/{account_id}/dead-letters/replay/"),
            client.get(f"/console/channels/{account_id}/"),
            client.get(f"/console/channels/{account_id}/health/"),
        ]
    responses += [client.post(f"/api/dead-letters/{dead_letter_id}/replay/"),
                  client.post(f"/api/dead-letters/{dead_letter_id}/discard/"), client.get("/console/channels/")]
    return responses


def test_secrets_never_appear_in_any_admin_response(admin_client, make_account, settings):
    from apps.connectors.services import dead_letter_keep
    from tests.connectors.email.servers import free_port

    # given one account of each kind with its secrets (mail servers on a closed port: the test fails fast)
    port = free_port()
    ids = []
    for kind, values in ACCOUNTS.items():
        body = {"kind": kind, "name": kind, "settings": dict(values["settings"]), "secrets": values["secrets"]}
        if kind == "email":
            body["settings"].update(imap_port=port, smtp_port=port)
        if kind == "api":
            body["settings"]["outbound_url"] = f"http://127.0.0.1:{port}/hook"
        created = admin_client.post("/api/channel-accounts/", body, format="json")
        assert created.status_code == 201
        assert not any(secret in created.content.decode() for secret in SECRET_VALUES)
        ids.append(created.json()["id"])
    dead = dead_letter_keep(kind="api", raw=b"not json", error="not JSON", source="webhook",
                            account=ChannelAccount.objects.get(kind="api"))
    # when every admin endpoint and page is read or called
    responses = _every_admin_call(admin_client, ids, dead.id)
    # then none answers a server error, and no secret value is in any of them
    assert all(r.status_code < 500 for r in responses), [(r.request["PATH_INFO"], r.status_code) for r in responses if r.status_code >= 500]
    for response in responses:
        text = response.content.decode()
        leaked = [s for s in SECRET_VALUES if s in text]
        assert not leaked, (response.request["PATH_INFO"], leaked)
    # and the stored secrets are encrypted at rest
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM connectors_channelaccount")
        stored = json.dumps([row[0] for row in cursor.fetchall()])
    assert not any(s in stored for s in SECRET_VALUES)


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_get_403_on_every_admin_endpoint_and_page(make_user, make_account, role):
    from apps.connectors.services import dead_letter_keep

    account = make_account(kind="api")
    dead = dead_letter_keep(kind="api", raw=b"x", error="not JSON", source="webhook", account=account)
    client = client_for(make_user(role=role))
    calls = [
        ("get", "/api/channel-accounts/"), ("post", "/api/channel-accounts/"), ("get", "/api/channel-kinds/"),
        ("get", "/api/channel-alerts/"), ("put", "/api/channel-alerts/"),
        ("get", f"/api/channel-accounts/{account.id}/"), ("patch", f"/api/channel-accounts/{account.id}/"),
        ("delete", f"/api/channel-accounts/{account.id}/"), ("post", f"/api/channel-accounts/{account.id}/test/"),
        ("post", f"/api/channel-accounts/{account.id}/rotate-secret/"), ("post", f"/api/channel-accounts/{account.id}/rotate-token/"),
        ("get", f"/api/channel-accounts/{account.id}/health/"), ("get", f"/api/channel-accounts/{account.id}/dead-letters/"),
        ("post", f"/api/channel-accounts/{account.id}/dead-letters/replay/"), ("get", f"/api/channel-accounts/{account.id}/audit/"),
        ("post", f"/api/dead-letters/{dead.id}/replay/"), ("post", f"/api/dead-letters/{dead.id}/discard/"),
        ("get", "/console/channels/"), ("post", "/console/channels/"), ("get", "/console/channels/new/email/"),
        ("post", "/console/channels/new/email/"), ("get", f"/console/channels/{account.id}/"),
        ("post", f"/console/channels/{account.id}/"), ("post", f"/console/channels/{account.id}/enable/"),
        ("post", f"/console/channels/{account.id}/test/"), ("post", f"/console/channels/{account.id}/rotate/"),
        ("get", f"/console/channels/{account.id}/remove/"), ("post", f"/console/channels/{account.id}/remove/"),
        ("post", f"/console/channels/{account.id}/asterisk/"), ("get", f"/console/channels/{account.id}/health/"),
        ("post", f"/console/channels/{account.id}/dead-letters/replay/"),
        ("post", f"/console/channels/{account.id}/dead-letters/{dead.id}/discard/"),
    ]
    for method, url in calls:
        assert getattr(client, method)(url).status_code == 403, (method, url)
    account.refresh_from_db()
    dead.refresh_from_db()
    assert account.enabled and not dead.resolved and not ChannelAuditEvent.objects.exists()


def test_the_console_pages_ask_anonymous_visitors_to_log_in(client, make_account):
    response = client.get("/console/channels/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_schema_documents_the_console_api():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in ("/api/channel-kinds/", "/api/channel-accounts/{account_id}/test/", "/api/channel-accounts/{account_id}/health/",
                 "/api/channel-accounts/{account_id}/dead-letters/replay/", "/api/dead-letters/{dead_letter_id}/discard/",
                 "/api/channel-accounts/{account_id}/rotate-secret/", "/api/channel-alerts/"):
        assert path in paths, path


def test_the_accounts_list_reads_in_a_fixed_number_of_queries(admin_client, make_account, django_assert_max_num_queries):
    from apps.connectors.webform.models import WebForm

    for i in range(30):
        account = make_account(kind=["email", "webform", "api"][i % 3])
        if account.kind == "webform":
            WebForm.objects.create(slug=f"contacto-{i}", title=f"Contacto {i}", channel_account=account)
    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/channel-accounts/?page_size=50")
    assert len(response.json()["results"]) == 30
    assert sum(len(a["webhook_urls"]) for a in response.json()["results"]) == 10 + 10  # each form's page, each API inbound URL


def test_channel_account_changes_reach_the_desks_audit_log(admin_client):
    # given / when: an admin creates an account, replaces a secret and disables it
    from apps.audit.models import AuditEntry

    created = admin_client.post("/api/channel-accounts/", {"kind": "twitter", "name": "@Tienda"}, format="json").json()
    admin_client.patch(f"/api/channel-accounts/{created['id']}/", {"secrets": {"bearer_token": "tok-123"}}, format="json")
    admin_client.patch(f"/api/channel-accounts/{created['id']}/", {"enabled": False}, format="json")
    # then: the audit log says who did what to which account, and never a secret's value
    entries = AuditEntry.objects.filter(target_type="channel_account", target_id=str(created["id"])).order_by("id")
    assert [e.action for e in entries] == ["channel_account.created", "channel_account.secrets", "channel_account.disabled"]
    assert {e.actor_label for e in entries} == {entries[0].actor_label} and entries[0].actor_label
    assert "tok-123" not in json.dumps([e.after for e in entries])
