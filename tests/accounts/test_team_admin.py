"""The admin's team pages and API: invitations by mail, roles, teams, deactivation, password mails.

Through the real pages and API, Django's real token machinery and mail backend (pytest-django's
locmem outbox); a deactivated agent's open work goes back to the queue through the inbox's own
service, each conversation with its own "assigned -> nobody" event.
"""
import re

import pytest
from django.core import mail

from apps.accounts.models import Role, Team, User
from apps.audit.models import AuditEntry
from apps.inbox.models import Conversation, ConversationEvent
from apps.inbox.services.conversations import conversation_update
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://testserver(/password/set/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, username="ada", email="ada@tienda.example")


def test_an_admin_invites_an_agent_who_chooses_a_password_from_the_mail_and_signs_in(client, admin, team):
    # given an admin on the team page
    client.force_login(admin)
    # when she invites an agent into a team
    response = client.post("/team/", {"username": "bruno", "email": "bruno@tienda.example", "role": "agent",
                                      "teams": [team.pk], "first_name": "Bruno"}, REMOTE_ADDR="203.0.113.9")
    # then the agent exists without a password, in the team, and a mail carries a one-time link
    assert response.status_code == 302
    bruno = User.objects.get(username="bruno")
    assert not bruno.has_usable_password() and bruno.role == "agent" and list(bruno.teams.all()) == [team]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bruno@tienda.example"]
    assert "bruno" in mail.outbox[0].body
    path = LINK.search(mail.outbox[0].body).group(1)
    # and the invitation is audited with the admin's address
    entry = AuditEntry.objects.get(action="user.invited")
    assert entry.actor == admin and entry.ip == "203.0.113.9" and entry.after["teams"] == [team.name]

    # when the agent opens the link and chooses a password
    agent_client = client.__class__()
    assert agent_client.get(path).status_code == 200
    response = agent_client.post(path, {"new_password1": "una-clave-larga-9", "new_password2": "una-clave-larga-9"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    # then she signs in with it, and the link does not work twice
    response = agent_client.post("/login/", {"username": "bruno", "password": "una-clave-larga-9", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert agent_client.get("/").status_code == 200
    assert client.__class__().get(path).status_code == 400
    assert AuditEntry.objects.filter(action="user.password_set", actor=bruno).exists()
    assert AuditEntry.objects.filter(action="auth.login", actor=bruno).exists()


def test_a_taken_username_or_missing_email_is_refused_with_a_clear_message_and_nothing_created(client, admin, make_user):
    make_user(username="carla")
    client.force_login(admin)
    response = client.post("/team/", {"username": "Carla", "email": "c@tienda.example", "role": "agent"})
    assert response.status_code == 400 and "That username is taken" in response.content.decode()
    response = client_for(admin).post("/api/users/", {"username": "dario", "role": "agent"}, format="json")
    assert response.status_code == 400 and "email" in response.json()["extra"]["fields"]
    assert not User.objects.filter(username="dario").exists() and not mail.outbox


def test_agents_and_supervisors_get_403_on_every_team_page_and_api(client, make_user, team):
    target = make_user(username="target")
    for role in (Role.AGENT, Role.SUPERVISOR):
        user = make_user(role=role)
        client.force_login(user)
        for url in ["/team/", f"/team/users/{target.pk}/", "/team/teams/", "/audit/", "/audit/export.csv"]:
            assert client.get(url).status_code == 403, (role, url)
        for url in [f"/team/users/{target.pk}/deactivate/", f"/team/teams/{team.pk}/delete/"]:
            assert client.post(url).status_code == 403, (role, url)
        api = client_for(user)
        for method, url in [("get", "/api/users/"), ("post", "/api/users/"), ("patch", f"/api/users/{target.pk}/"),
                            ("post", f"/api/users/{target.pk}/deactivate/"), ("post", f"/api/users/{target.pk}/password-reset/"),
                            ("get", "/api/teams/"), ("post", "/api/teams/"), ("delete", f"/api/teams/{team.pk}/"),
                            ("get", "/api/audit/"), ("get", "/api/audit/export/")]:
            assert getattr(api, method)(url, {}, format="json").status_code == 403, (role, method, url)
    assert User.objects.get(pk=target.pk).is_active and Team.objects.filter(pk=team.pk).exists()
    # anonymous: the pages ask to sign in
    assert client.__class__().get("/team/").status_code == 302


def test_role_and_team_changes_are_audited_with_before_and_after(admin, make_user, team):
    # given an agent in one team
    other = Team.objects.create(name="Facturación")
    agent = make_user(username="elena", teams=[team])
    api = client_for(admin)
    # when the admin makes her a supervisor, then moves her to another team
    response = api.patch(f"/api/users/{agent.pk}/", {"role": "supervisor"}, format="json", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200 and response.json()["role"] == "supervisor"
    response = api.patch(f"/api/users/{agent.pk}/", {"team_ids": [other.pk]}, format="json")
    assert [t["name"] for t in response.json()["teams"]] == ["Facturación"]
    # then each change is one entry with only what changed
    role = AuditEntry.objects.get(action="user.role_changed", target_id=str(agent.pk))
    assert (role.before, role.after, role.actor_label, role.ip) == ({"role": "agent"}, {"role": "supervisor"}, "ada", "198.51.100.4")
    teams = AuditEntry.objects.get(action="user.teams_changed")
    assert (teams.before, teams.after) == ({"teams": [team.name]}, {"teams": ["Facturación"]})
    # and saving the same again records nothing
    api.patch(f"/api/users/{agent.pk}/", {"role": "supervisor", "team_ids": [other.pk]}, format="json")
    assert AuditEntry.objects.filter(target_id=str(agent.pk), action__startswith="user.").count() == 2


def test_deactivating_an_agent_returns_her_open_work_to_the_queue_with_events(admin, make_user, team, account, inbound):
    # given an agent holding two open conversations and a resolved one, and a colleague's
    agent = make_user(username="fabio", teams=[team])
    colleague = make_user(username="gema", teams=[team])
    mine_open, mine_pending, mine_resolved, theirs = conversations(inbound, account, 4)
    for c, status in ((mine_open, "open"), (mine_pending, "pending"), (mine_resolved, "resolved")):
        conversation_update(conversation=c, actor=admin, assignee=agent, team=team, status=status)
    conversation_update(conversation=theirs, actor=admin, assignee=colleague)
    # when the admin deactivates her
    response = client_for(admin).post(f"/api/users/{agent.pk}/deactivate/", format="json")
    # then she cannot sign in, her open and pending work is unassigned (still in her team's queue)
    assert response.status_code == 200
    assert sorted(response.json()["released_conversations"]) == sorted([mine_open.pk, mine_pending.pk])
    agent.refresh_from_db()
    assert not agent.is_active
    for c in (mine_open, mine_pending):
        c.refresh_from_db()
        assert c.assignee_id is None and c.team_id == team.pk
        event = ConversationEvent.objects.filter(conversation=c, kind="assigned").latest("id")
        assert event.data == {"from": agent.pk, "to": None} and event.actor == admin
    assert Conversation.objects.get(pk=mine_resolved.pk).assignee_id == agent.pk  # history keeps who resolved it
    assert Conversation.objects.get(pk=theirs.pk).assignee_id == colleague.pk
    # and the deactivation is audited, naming the conversations that went back
    entry = AuditEntry.objects.get(action="user.deactivated")
    assert entry.before == {"is_active": True}
    assert entry.after["is_active"] is False and sorted(entry.after["released_conversations"]) == sorted([mine_open.pk, mine_pending.pk])
    # and her sign-in is refused
    from django.test import Client

    response = Client().post("/login/", {"username": "fabio", "password": "pw-secret-123", "next": "/"})
    assert response.status_code == 200 and "_auth_user_id" not in response.wsgi_request.session


def test_the_last_admin_cannot_be_demoted_or_deactivated(admin, make_user):
    other = make_user(role=Role.ADMIN, username="hugo")
    api = client_for(admin)
    assert api.post(f"/api/users/{other.pk}/deactivate/").status_code == 200
    response = api.patch(f"/api/users/{admin.pk}/", {"role": "agent"}, format="json")
    assert response.status_code == 409 and "last active admin" in response.json()["message"]
    assert api.post(f"/api/users/{admin.pk}/deactivate/").status_code == 409


def test_password_reset_by_mail_from_the_admin_and_from_the_sign_in_page(client, admin, make_user):
    agent = make_user(username="ines", email="ines@tienda.example")
    # the admin's button
    assert client_for(admin).post(f"/api/users/{agent.pk}/password-reset/").status_code == 202
    # the agent's own "forgot your password" (an unknown address gets the same answer, no mail)
    assert client.post("/password/reset/", {"email": "INES@tienda.example"}).status_code == 200
    assert client.post("/password/reset/", {"email": "nadie@tienda.example"}).status_code == 200
    assert [m.to for m in mail.outbox] == [["ines@tienda.example"], ["ines@tienda.example"]]
    path = LINK.search(mail.outbox[1].body).group(1)
    response = client.post(path, {"new_password1": "otra-clave-muy-buena", "new_password2": "otra-clave-muy-buena"})
    assert response.status_code == 302
    response = client.post("/login/", {"username": "ines", "password": "otra-clave-muy-buena", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    # the first link died with the old password
    assert client.get(LINK.search(mail.outbox[0].body).group(1)).status_code == 400


def test_teams_are_created_renamed_and_deleted_with_audit(client, admin):
    client.force_login(admin)
    assert client.post("/team/teams/", {"name": "Ventas"}).status_code == 302
    team = Team.objects.get(name="Ventas")
    assert client.post(f"/team/teams/{team.pk}/rename/", {"name": "Ventas online"}).status_code == 302
    assert client.post("/team/teams/", {"name": "ventas ONLINE"}).status_code == 400  # one name, any case
    assert client.post(f"/team/teams/{team.pk}/delete/").status_code == 302
    assert not Team.objects.exists()
    assert list(AuditEntry.objects.filter(action__startswith="team.").order_by("id").values_list("action", "before", "after")) == [
        ("team.created", {}, {"name": "Ventas"}),
        ("team.renamed", {"name": "Ventas"}, {"name": "Ventas online"}),
        ("team.deleted", {"name": "Ventas online", "members": []}, {}),
    ]


def test_the_team_page_lists_everyone_in_few_queries(client, admin, make_user, team, django_assert_max_num_queries):
    for i in range(30):
        make_user(teams=[team])
    client.force_login(admin)
    with django_assert_max_num_queries(8):
        response = client.get("/team/")
    assert response.status_code == 200 and response.content.decode().count("data-username=") == 31


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) as the desk's mail server."""
    from tests.connectors.email.servers import SmtpCapture

    server = SmtpCapture().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    yield server
    server.stop()


def test_the_invitation_goes_through_a_real_smtp_server_and_a_refusal_rolls_it_back(admin, smtp, team):
    api = client_for(admin)
    # when the mail server accepts the invitation
    response = api.post("/api/users/", {"username": "olga", "email": "olga@tienda.example", "role": "supervisor",
                                        "team_ids": [team.pk]}, format="json")
    # then it received one mail for her with the link, and she is invited
    assert response.status_code == 201 and response.json()["invitation_pending"] is True
    assert [m["rcpt_tos"] for m in smtp.received] == [["olga@tienda.example"]]
    assert b"/password/set/" in smtp.received[0]["data"]
    # when the server refuses the next recipient
    smtp.refuse_rcpt = "550 5.1.1 No such user"
    response = api.post("/api/users/", {"username": "pablo", "email": "pablo@tienda.example"}, format="json")
    # then the admin is told why and nothing half-done remains (no user, no audit entry)
    assert response.status_code == 502 and "could not be sent" in response.json()["message"]
    assert not User.objects.filter(username="pablo").exists()
    assert not AuditEntry.objects.filter(action="user.invited", target_label="pablo").exists()


def test_the_team_api_is_in_the_openapi_schema(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    for path in ("/api/users/", "/api/users/{user_id}/deactivate/", "/api/users/{user_id}/password-reset/",
                 "/api/teams/{team_id}/", "/api/audit/", "/api/audit/export/", "/api/webhooks/",
                 "/api/webhooks/{webhook_id}/deliveries/", "/api/webhook-deliveries/{delivery_id}/resend/",
                 "/api/customers/{customer_id}/export/", "/api/customers/{customer_id}/erase/", "/api/data-protection/"):
        assert f"{path}:" in schema, path


@pytest.mark.django_db(transaction=True)
def test_open_sockets_close_when_access_changes_and_a_deactivated_user_cannot_reconnect(make_user, team):
    """A socket joins its groups by the rights at connect: a role or team change closes it (the desk
    reconnects with the new rights) and a deactivated user's reconnect is refused (4401: sign in)."""
    from asgiref.sync import async_to_sync, sync_to_async
    from channels.testing import WebsocketCommunicator

    from apps.inbox.consumers import ACCESS_CHANGED_CODE
    from config.asgi import application
    from tests.live_server import session_cookie

    admin = make_user(role=Role.ADMIN, username="root")
    other_team = Team.objects.create(name="Otro")
    agent = make_user(username="vera", teams=[team])
    headers = [(b"origin", b"http://testserver"), (b"cookie", session_cookie(agent).encode())]
    api = client_for(admin)

    async def connected():
        socket = WebsocketCommunicator(application, "/ws/desk/", headers=headers)
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
        return socket

    async def scenario():
        socket = await connected()
        # when the admin moves her to another team
        response = await sync_to_async(api.patch)(f"/api/users/{agent.pk}/", {"team_ids": [other_team.pk]}, format="json")
        assert response.status_code == 200
        moved = await socket.receive_output(timeout=5)
        # then her socket closes to reconnect with the new rights, and the reconnect is accepted
        again = await connected()
        # when she is deactivated, the open socket closes too, and the next one is refused
        response = await sync_to_async(api.post)(f"/api/users/{agent.pk}/deactivate/")
        assert response.status_code == 200
        deactivated = await again.receive_output(timeout=5)
        refused = WebsocketCommunicator(application, "/ws/desk/", headers=headers)
        await refused.connect()
        return moved, deactivated, await refused.receive_output(timeout=5)

    moved, deactivated, refused = async_to_sync(scenario)()
    assert moved == {"type": "websocket.close", "code": ACCESS_CHANGED_CODE}
    assert deactivated == {"type": "websocket.close", "code": ACCESS_CHANGED_CODE}
    assert refused == {"type": "websocket.close", "code": 4401}
