import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.models import Role
from apps.connectors.models import ChannelAccount
from apps.inbox.services.conversations import conversation_update
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db

SECRET_VALUE = "sk-live-DO-NOT-LEAK-8f2a"


@pytest.fixture
def desk(make_user, team, make_account, inbound):
    """Team X and team Y each with a conversation; one team-less conversation; an agent of team X."""
    team_y = make_user().teams.create(name="Team Y")
    x_conv = conversations(inbound, make_account(team=team), 1)[0]
    y_conv = conversations(inbound, make_account(team=team_y), 1)[0]
    free_conv = conversations(inbound, make_account(), 1)[0]
    return {"team_x": team, "team_y": team_y, "x": x_conv, "y": y_conv, "free": free_conv,
            "agent": make_user(teams=[team])}


def test_me(make_user, team):
    agent = make_user(teams=[team])
    body = client_for(agent).get("/api/me/").json()
    assert body == {"id": agent.id, "username": agent.username, "role": "agent", "teams": [{"id": team.id, "name": team.name}]}


def test_anonymous_gets_nothing(desk):
    anonymous = APIClient()
    for url in ("/api/me/", "/api/conversations/", f"/api/conversations/{desk['x'].id}/", "/api/customers/"):
        assert anonymous.get(url).status_code in (401, 403), url


def test_token_auth(desk):
    token = Token.objects.create(user=desk["agent"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/me/").json()["id"] == desk["agent"].id
    assert client.get(f"/api/conversations/{desk['x'].id}/").status_code == 200


def test_agent_of_team_x_cannot_see_team_y(desk):
    # given an agent of team X
    client = client_for(desk["agent"])
    y = desk["y"]
    # then team Y's conversation is not listed and every way in answers 404
    listed = {r["id"] for r in client.get("/api/conversations/").json()["results"]}
    assert listed == {desk["x"].id, desk["free"].id}
    assert client.get(f"/api/conversations/{y.id}/").status_code == 404
    assert client.patch(f"/api/conversations/{y.id}/", {"status": "resolved"}, format="json").status_code == 404
    assert client.get(f"/api/conversations/{y.id}/messages/").status_code == 404
    assert client.post(f"/api/conversations/{y.id}/messages/", {"text": "hola"}, format="json").status_code == 404
    # and so is Y's customer, their timeline and the search
    assert client.get(f"/api/customers/{y.customer_id}/").status_code == 404
    assert client.get(f"/api/customers/{y.customer_id}/timeline/").status_code == 404
    assert y.customer_id not in {c["id"] for c in client.get("/api/customers/").json()["results"]}
    y.refresh_from_db()
    assert y.status == "open"


def test_an_agent_sees_what_is_assigned_to_them_in_another_team(desk, make_user):
    conversation_update(conversation=desk["y"], actor=make_user(role=Role.SUPERVISOR), assignee=desk["agent"])
    client = client_for(desk["agent"])
    assert client.get(f"/api/conversations/{desk['y'].id}/").status_code == 200
    assert client.get(f"/api/customers/{desk['y'].customer_id}/timeline/").status_code == 200


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_see_everything(desk, make_user, role):
    client = client_for(make_user(role=role))
    listed = {r["id"] for r in client.get("/api/conversations/").json()["results"]}
    assert listed == {desk["x"].id, desk["y"].id, desk["free"].id}
    assert client.get(f"/api/customers/{desk['y'].customer_id}/timeline/").status_code == 200


def test_a_message_of_an_invisible_conversation_cannot_be_retried(desk, make_user):
    from apps.inbox.services.replies import reply_create

    message = reply_create(conversation=desk["y"], author=make_user(role=Role.SUPERVISOR), text="hola")
    assert client_for(desk["agent"]).post(f"/api/messages/{message.id}/retry/").status_code == 404


# --- channel accounts: admins only, secrets never shown ---------------------------------------------


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_cannot_touch_channel_accounts(make_user, account, role):
    client = client_for(make_user(role=role))
    payload = {"kind": "api", "name": "Sneaky", "secrets": {"outbound_secret": "x"}}
    assert client.get("/api/channel-accounts/").status_code == 403
    assert client.post("/api/channel-accounts/", payload, format="json").status_code == 403
    assert client.get(f"/api/channel-accounts/{account.id}/").status_code == 403
    assert client.patch(f"/api/channel-accounts/{account.id}/", {"enabled": False}, format="json").status_code == 403
    assert client.post(f"/api/channel-accounts/{account.id}/rotate-token/").status_code == 403
    assert ChannelAccount.objects.filter(name="Sneaky").count() == 0


def test_secrets_never_appear_in_any_response(make_user, team, inbound, settings):
    # given an admin who plugs in a channel with a secret
    admin = make_user(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = client_for(admin)
    created = client.post(
        "/api/channel-accounts/",
        {"kind": "api", "name": "Tienda", "team": team.id, "settings": {"outbound_url": "https://shop.example/hook"},
         "secrets": {"outbound_secret": SECRET_VALUE}},
        format="json",
    )
    assert created.status_code == 201, created.content
    account = ChannelAccount.objects.get(pk=created.json()["id"])
    assert account.secrets == {"outbound_secret": SECRET_VALUE}
    (conv,) = conversations(inbound, account, 1)
    # when every endpoint and the admin pages are read
    patched = client.patch(f"/api/channel-accounts/{account.id}/", {"name": "Tienda online"}, format="json")
    responses = [
        created,
        patched,
        client.get("/api/channel-accounts/"),
        client.get(f"/api/channel-accounts/{account.id}/"),
        client.get("/api/conversations/"),
        client.get(f"/api/conversations/{conv.id}/"),
        client.get(f"/api/conversations/{conv.id}/messages/"),
        client.get(f"/api/customers/{conv.customer_id}/"),
        client.get(f"/api/customers/{conv.customer_id}/timeline/"),
        client.get("/api/schema/"),
        client.get(f"/admin/connectors/channelaccount/{account.id}/change/"),
        client.get("/admin/connectors/channelaccount/"),
        # the browsable API pages too
        client.get("/api/channel-accounts/", HTTP_ACCEPT="text/html"),
        client.get(f"/api/channel-accounts/{account.id}/", HTTP_ACCEPT="text/html"),
        client.get("/api/conversations/", HTTP_ACCEPT="text/html"),
        client.get(f"/api/conversations/{conv.id}/messages/", HTTP_ACCEPT="text/html"),
    ]
    # then the secret is nowhere, while the names of the keys set are shown
    for response in responses:
        assert response.status_code in (200, 201), (response.request["PATH_INFO"], response.status_code)
        assert SECRET_VALUE.encode() not in response.content, response.request["PATH_INFO"]
    detail = responses[3].json()
    assert "secrets" not in detail and detail["secret_keys"] == ["outbound_secret"]
    assert detail["settings"] == {"outbound_url": "https://shop.example/hook"}
    # nor is it readable in the database column
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM connectors_channelaccount WHERE id = %s", [account.id])
        assert SECRET_VALUE not in cursor.fetchone()[0]


def test_secrets_merge_key_by_key_and_health_is_read_only(make_user):
    client = client_for(make_user(role=Role.ADMIN))
    account_id = client.post(
        "/api/channel-accounts/", {"kind": "api", "name": "CRM", "secrets": {"a": "1", "b": "2"}}, format="json"
    ).json()["id"]
    response = client.patch(
        f"/api/channel-accounts/{account_id}/",
        {"secrets": {"b": None, "c": "3"}, "last_error": "forged", "consecutive_failures": 99},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["secret_keys"] == ["a", "c"]
    account = ChannelAccount.objects.get(pk=account_id)
    assert account.secrets == {"a": "1", "c": "3"}
    assert (account.last_error, account.consecutive_failures) == ("", 0)


def test_bad_outbound_url_is_refused(make_user):
    client = client_for(make_user(role=Role.ADMIN))
    response = client.post(
        "/api/channel-accounts/", {"kind": "api", "name": "X", "settings": {"outbound_url": "ftp://nope"}}, format="json"
    )
    assert response.status_code == 400
    assert not ChannelAccount.objects.exists()


def test_rotate_token_shows_it_once_and_the_inbound_api_takes_it(make_user, account):
    # given an admin rotating the inbound token twice
    client = client_for(make_user(role=Role.ADMIN))
    old = client.post(f"/api/channel-accounts/{account.id}/rotate-token/").json()["inbound_token"]
    rotated = client.post(f"/api/channel-accounts/{account.id}/rotate-token/").json()
    new = rotated["inbound_token"]
    # then only the hash is kept and never shown back
    assert rotated["inbound_url"].endswith(f"/api/inbound/{account.id}/")
    detail = client.get(f"/api/channel-accounts/{account.id}/")
    assert detail.json()["has_inbound_token"] is True
    assert new.encode() not in detail.content
    # and the inbound API takes the new token only
    body = json.dumps({"external_id": "t-1", "sender": {"email": "x@example.com"}, "text": "hola"})
    post = APIClient().post
    assert post(f"/api/inbound/{account.id}/", body, content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401
    assert post(f"/api/inbound/{account.id}/", body, content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {new}").status_code == 202


# --- Django admin ------------------------------------------------------------------------------------


def test_every_admin_page_renders_for_staff_and_not_for_agents(make_user, account, inbound):
    # given one row of each kind
    from django.contrib import admin

    conversations(inbound, account, 1)
    superuser = make_user(role=Role.ADMIN, is_staff=True, is_superuser=True)
    staff_client, agent_client = client_for(superuser), client_for(make_user())
    # then each registered model's list and first row open for the superuser
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert staff_client.get(base).status_code == 200, base
        first = model.objects.order_by("pk").first()
        if first is not None:
            assert staff_client.get(f"{base}{first.pk}/change/").status_code == 200, base
        # and an agent (not staff) is sent to the login page
        assert agent_client.get(base).status_code == 302, base
