"""/api/sla/calendars/ and /api/sla/policies/: supervisors and admins write, agents read; bad input
is a clear 400 and nothing changes; documented in the OpenAPI schema."""
import pytest

from apps.accounts.models import Role
from apps.inbox.models import Conversation
from apps.sla.models import BusinessCalendar, SlaPolicy
from tests.builders import client_for

pytestmark = pytest.mark.django_db

MADRID = {
    "name": "Madrid office", "time_zone": "Europe/Madrid", "holiday_country": "es", "holiday_subdivision": "md",
    "periods": [{"weekday": d, "start": s, "end": e} for d in range(5) for s, e in (("09:00", "14:00"), ("16:00", "20:00"))]
    + [{"weekday": 5, "start": "10:00", "end": "14:00"}],
    "closures": [{"name": "Christmas Eve afternoon", "date_from": "2026-12-24", "start": "14:00", "end": "00:00"},
                 {"name": "Summer closing", "date_from": "2026-08-10", "date_to": "2026-08-14"}],
}


def test_a_supervisor_creates_a_calendar_and_a_policy_that_clocks_then_use(make_user, make_account, inbound):
    supervisor = make_user(role=Role.SUPERVISOR)
    client = client_for(supervisor)
    # when
    created = client.post("/api/sla/calendars/", MADRID, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    # then it is stored as sent (codes upper-cased) with its holidays at a glance
    assert (body["holiday_country"], body["holiday_subdivision"], len(body["periods"]), len(body["closures"])) == ("ES", "MD", 11, 2)
    assert all({"date", "name"} <= set(h) for h in body["upcoming_holidays"])
    policy = client.post("/api/sla/policies/", {
        "name": "Email VIP", "position": 1, "calendar": body["id"], "channel_kind": "api", "tag": "VIP",
        "first_response_minutes": 30, "resolution_minutes": 480, "warning_percent": 80, "escalation": "team_queue",
    }, format="json")
    assert policy.status_code == 201, policy.content
    assert policy.json()["tag"] == "vip"
    # and a conversation tagged vip picks it
    from tests.builders import conversations

    (conv,) = conversations(inbound, make_account(), 1)
    client.patch(f"/api/conversations/{conv.id}/", {"tags": ["vip"]}, format="json")
    assert Conversation.objects.get(pk=conv.pk).sla_policy_id == policy.json()["id"]
    # and it can be changed and listed
    changed = client.patch(f"/api/sla/policies/{policy.json()['id']}/", {"warning_percent": 90}, format="json")
    assert changed.json()["warning_percent"] == 90
    assert [p["name"] for p in client.get("/api/sla/policies/").json()][0] == "Email VIP"


@pytest.mark.parametrize("bad, field", [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"holiday_country": "XX"}, "country"),
    ({"holiday_subdivision": "ZZ"}, "subdivision"),
    ({"periods": [{"weekday": 0, "start": "14:00", "end": "09:00"}]}, "start"),
    ({"periods": []}, None),  # no working time at all
    ({"periods": [{"weekday": 9, "start": "09:00", "end": "10:00"}]}, "periods"),
    ({"closures": [{"name": "x", "date_from": "2026-08-14", "date_to": "2026-08-10"}]}, "closure"),
])
def test_bad_calendars_are_refused_clearly_and_nothing_is_stored(make_user, bad, field):
    client = client_for(make_user(role=Role.ADMIN))
    before = BusinessCalendar.objects.count()
    response = client.post("/api/sla/calendars/", {**MADRID, **bad}, format="json")
    assert response.status_code == 400, response.content
    if field:
        assert field in response.content.decode()
    assert BusinessCalendar.objects.count() == before


def test_bad_policies_are_refused(make_user):
    client = client_for(make_user(role=Role.SUPERVISOR))
    calendar = BusinessCalendar.objects.get(name="24/7")
    no_target = client.post("/api/sla/policies/", {"name": "x", "calendar": calendar.id}, format="json")
    assert no_target.status_code == 400 and "target" in no_target.json()["message"]
    bad_share = client.post("/api/sla/policies/", {"name": "x", "calendar": calendar.id, "first_response_minutes": 5,
                                                   "warning_percent": 100}, format="json")
    assert bad_share.status_code == 400
    # a calendar in use cannot be deleted
    assert client.delete(f"/api/sla/calendars/{calendar.id}/").status_code == 409


def test_agents_read_but_cannot_write(make_user):
    client = client_for(make_user(role=Role.AGENT))
    assert client.get("/api/sla/policies/").status_code == 200
    assert client.get("/api/sla/calendars/").status_code == 200
    assert client.post("/api/sla/calendars/", MADRID, format="json").status_code == 403
    policy = SlaPolicy.objects.first()
    assert client.patch(f"/api/sla/policies/{policy.id}/", {"enabled": False}, format="json").status_code == 403
    assert client.delete(f"/api/sla/policies/{policy.id}/").status_code == 403
    assert SlaPolicy.objects.get(pk=policy.pk).enabled


def test_the_schema_documents_them(make_user):
    schema = client_for(make_user()).get("/api/schema/?format=json").json()
    assert {"/api/sla/calendars/", "/api/sla/calendars/{id}/", "/api/sla/policies/", "/api/sla/policies/{id}/"} <= set(schema["paths"])
    sla = schema["components"]["schemas"]["Sla"]["properties"]
    assert {"clock", "state", "due_at", "remaining_seconds", "ticking", "until"} <= set(sla)
