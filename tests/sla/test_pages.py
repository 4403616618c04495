"""/desk/sla/: supervisors and admins manage calendars and policies; agents get 403. The demo seeds
a Madrid calendar and policies."""
import pytest
from django.core.management import call_command

from apps.accounts.models import Role
from apps.inbox.models import Conversation
from apps.sla.models import BusinessCalendar, SlaPolicy

pytestmark = pytest.mark.django_db


def test_agents_are_forbidden_and_strangers_sent_to_sign_in(client, make_user):
    assert client.get("/desk/sla/").status_code == 302
    client.force_login(make_user(role=Role.AGENT))
    for url in ("/desk/sla/", "/desk/sla/calendars/new/", "/desk/sla/policies/new/"):
        assert client.get(url).status_code == 403
    assert client.post("/desk/sla/calendars/new/", {"name": "x", "time_zone": "UTC", "always_open": "on"}).status_code == 403
    assert not BusinessCalendar.objects.filter(name="x").exists()


def test_a_supervisor_writes_hours_as_lines_and_sees_them(client, make_user):
    client.force_login(make_user(role=Role.SUPERVISOR))
    response = client.post("/desk/sla/calendars/new/", {
        "name": "Madrid", "time_zone": "Europe/Madrid", "holiday_country": "ES", "holiday_subdivision": "MD",
        "hours": "Mon-Fri 09:00-14:00, 16:00-20:00\nSat 10:00-14:00",
        "closures": "2026-12-24 14:00-24:00 Christmas Eve\n2026-08-10..2026-08-14 Summer closing",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessCalendar.objects.get(name="Madrid")
    assert calendar.periods.count() == 11 and calendar.closures.count() == 2
    page = client.get("/desk/sla/").content.decode()
    assert "Mon 09:00-14:00, 16:00-20:00" in page and "2026-12-24 14:00-24:00 Christmas Eve" in page
    # bad lines: a clear error, nothing stored
    bad = client.post(f"/desk/sla/calendars/{calendar.id}/", {"name": "Madrid", "time_zone": "Europe/Madrid",
                                                              "hours": "Mon-Fri 9-14"})
    assert bad.status_code == 200 and "Line 1" in bad.content.decode()
    assert calendar.periods.count() == 11
    # a policy on it
    created = client.post("/desk/sla/policies/new/", {
        "name": "Email", "position": 5, "enabled": "on", "calendar": calendar.id, "channel_kind": "email",
        "first_response_minutes": 240, "warning_percent": 75, "escalation": "notify",
    })
    assert created.status_code == 302
    assert SlaPolicy.objects.get(name="Email").calendar_id == calendar.id
    none = client.post("/desk/sla/policies/new/", {"name": "Empty", "position": 5, "calendar": calendar.id,
                                                   "warning_percent": 75, "escalation": "notify"})
    assert none.status_code == 400 and "at least one target" in none.content.decode()


def test_the_demo_has_a_madrid_calendar_and_policies(tmp_path, monkeypatch):
    monkeypatch.setattr("apps.demo.management.commands.demo_seed.TOKEN_FILE", tmp_path / "demo-api.json")
    call_command("demo_seed", quiet=True)
    calendar = BusinessCalendar.objects.get(name="Madrid office")
    assert (calendar.time_zone, calendar.holiday_country, calendar.holiday_subdivision) == ("Europe/Madrid", "ES", "MD")
    assert calendar.periods.count() == 11
    social = SlaPolicy.objects.get(name="X / Twitter")
    email = SlaPolicy.objects.get(name="Email")
    assert social.first_response_minutes < 60 <= email.first_response_minutes
    # the history's open conversations run clocks
    assert Conversation.objects.exclude(sla_clock="").exists()
