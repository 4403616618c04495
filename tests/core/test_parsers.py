"""JSON request bodies: one parser for the whole API refuses what json cannot decode safely."""
import pytest

from apps.accounts.models import Role
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db

DEEP = "[" * 50_000 + "]" * 50_000


def test_json_nested_past_any_sense_is_a_400_on_every_json_endpoint(make_user, make_account, inbound):
    # given an admin and a conversation
    (conv,) = conversations(inbound, make_account(), 1)
    client = client_for(make_user(role=Role.ADMIN))
    # when a body 50,000 arrays deep is sent (Python's json decoder recurses once per level)
    sends = {
        "bulk": lambda: client.post("/api/conversations/bulk/", DEEP, content_type="application/json"),
        "reply": lambda: client.post(f"/api/conversations/{conv.id}/messages/", DEEP, content_type="application/json"),
        "update": lambda: client.patch(f"/api/conversations/{conv.id}/", DEEP, content_type="application/json"),
        "channel account": lambda: client.post("/api/channel-accounts/", DEEP, content_type="application/json"),
        "notifications": lambda: client.post("/api/notifications/read/", DEEP, content_type="application/json"),
    }
    for name, send in sends.items():
        response = send()
        # then a 400 saying why, not a RecursionError
        assert response.status_code == 400, name
        assert response.json() == {"message": "JSON parse error - nested too deeply", "extra": {}}, name
    # and nothing was written
    conv.refresh_from_db()
    assert conv.message_count == 1


def test_ordinary_json_still_parses(make_user, make_account, inbound):
    (conv,) = conversations(inbound, make_account(), 1)
    response = client_for(make_user(role=Role.ADMIN)).patch(
        f"/api/conversations/{conv.id}/", {"priority": 2, "tags": ["vip"]}, format="json"
    )
    assert response.status_code == 200 and response.json()["priority"] == 2


def test_an_unknown_format_is_a_400_naming_the_formats_and_known_ones_still_work(make_user):
    # given a supervisor (the reports answer JSON and CSV)
    client = client_for(make_user(role=Role.SUPERVISOR))
    # when a format no renderer has is asked for
    response = client.get("/api/reports/volume/?format=AAA")
    # then a 400 that says which formats there are (DRF's default was a 404: "no such object")
    assert response.status_code == 400
    assert response.json()["extra"]["allowed"] == ["csv", "json"]
    # while the formats there are still answer
    assert client.get("/api/reports/volume/?format=csv")["Content-Type"].startswith("text/csv")
    assert client.get("/api/reports/volume/?format=json").status_code == 200
