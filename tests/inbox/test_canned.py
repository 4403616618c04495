"""Canned responses: everyone searches and renders them; supervisors and admins manage them."""
import pytest

from apps.accounts.models import Role
from apps.inbox.models import CannedResponse
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db


@pytest.fixture
def canned(make_user):
    return [
        CannedResponse.objects.create(shortcut="hola", title="Saludo",
                                      text="Hola {{customer.first_name}}, soy {{ agent.name }}. Caso #{{conversation.id}}."),
        CannedResponse.objects.create(shortcut="refund", title="Refund policy", text="Dear {{customer.name}}, {{unknown.var}}"),
    ]


def test_agents_search_and_render(make_user, team, make_account, inbound, canned):
    agent = make_user(teams=[team], first_name="Laura", last_name="Gil")
    (conv,) = conversations(inbound, make_account(team=team), 1)  # customer "Ana García"
    client = client_for(agent)
    # when searching by shortcut or title
    assert [c["shortcut"] for c in client.get("/api/canned-responses/").json()] == ["hola", "refund"]
    assert client.get("/api/canned-responses/?q=/ref").json() == [
        {"id": canned[1].id, "shortcut": "refund", "title": "Refund policy", "text": canned[1].text}
    ]
    assert [c["shortcut"] for c in client.get("/api/canned-responses/?q=salu").json()] == ["hola"]
    # when rendering for a conversation
    hola = client.post(f"/api/canned-responses/{canned[0].id}/render/", {"conversation_id": conv.id}, format="json")
    refund = client.post(f"/api/canned-responses/{canned[1].id}/render/", {"conversation_id": conv.id}, format="json")
    # then the variables are filled in; an unknown one is left for the agent to see
    assert hola.json() == {"text": f"Hola Ana, soy Laura Gil. Caso #{conv.id}."}
    assert refund.json() == {"text": "Dear Ana García, {{unknown.var}}"}


def test_rendering_for_an_invisible_conversation_is_a_404(make_user, team, make_account, inbound, canned):
    (conv,) = conversations(inbound, make_account(team=team), 1)
    outsider = make_user(teams=[make_user().teams.create(name="Other")])
    response = client_for(outsider).post(f"/api/canned-responses/{canned[0].id}/render/", {"conversation_id": conv.id}, format="json")
    assert response.status_code == 404


def test_only_supervisors_and_admins_manage_them(make_user, canned):
    agent, supervisor = make_user(), make_user(role=Role.SUPERVISOR)
    body = {"shortcut": "bye", "title": "Goodbye", "text": "Adiós {{customer.first_name}}"}
    # agents: 403 on every change
    assert client_for(agent).post("/api/canned-responses/", body, format="json").status_code == 403
    assert client_for(agent).patch(f"/api/canned-responses/{canned[0].id}/", {"title": "x"}, format="json").status_code == 403
    assert client_for(agent).delete(f"/api/canned-responses/{canned[0].id}/").status_code == 403
    # supervisors: create, change, delete; a taken shortcut is refused
    client = client_for(supervisor)
    created = client.post("/api/canned-responses/", body, format="json")
    assert created.status_code == 201 and created.json()["shortcut"] == "bye"
    taken = client.post("/api/canned-responses/", body, format="json")
    assert taken.status_code == 400 and "shortcut" in taken.json()["extra"]["fields"]
    changed = client.patch(f"/api/canned-responses/{created.json()['id']}/", {"title": "Bye"}, format="json")
    assert changed.json()["title"] == "Bye"
    assert client.delete(f"/api/canned-responses/{created.json()['id']}/").status_code == 204
    assert not CannedResponse.objects.filter(shortcut="bye").exists()
