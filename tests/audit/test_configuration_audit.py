"""Configuration a supervisor changes reaches the audit log: SLA policies and calendars, priority rules."""
import pytest

from apps.accounts.models import Role
from apps.audit.models import AuditEntry
from apps.sla.models import BusinessCalendar
from tests.builders import client_for

pytestmark = pytest.mark.django_db


def test_sla_and_priority_rule_changes_say_who_changed_what(make_user):
    # given a supervisor
    boss = make_user(role=Role.SUPERVISOR, username="marta")
    client = client_for(boss)
    calendar = BusinessCalendar.objects.create(name="Madrid", time_zone="Europe/Madrid", always_open=True)
    # when she creates an SLA policy, tightens it, and adds a priority rule, then deletes it
    policy = client.post("/api/sla/policies/", {"name": "VIP", "calendar": calendar.id, "tag": "vip",
                                                "first_response_minutes": 30}, format="json").json()
    client.patch(f"/api/sla/policies/{policy['id']}/", {"first_response_minutes": 15}, format="json")
    rule = client.post("/api/priority-rules/", {"name": "Legal threats", "priority": 3, "keywords": "denuncia*"},
                       format="json")
    assert rule.status_code == 201, rule.json()
    client.delete(f"/api/priority-rules/{rule.json()['id']}/")
    # then the audit log holds each, by her, with before -> after
    entries = list(AuditEntry.objects.filter(action__startswith=("sla.")).order_by("id")) + list(
        AuditEntry.objects.filter(action__startswith="routing.").order_by("id"))
    assert [(e.action, e.actor_label) for e in entries] == [
        ("sla.policy_created", "marta"), ("sla.policy_changed", "marta"),
        ("routing.rule_created", "marta"), ("routing.rule_deleted", "marta"),
    ]
    changed = entries[1]
    assert (changed.before, changed.after) == ({"first_response_minutes": 30}, {"first_response_minutes": 15})
    assert entries[2].after["name"] == "Legal threats"


def test_canned_responses_changes_are_audited(make_user):
    boss = client_for(make_user(role=Role.SUPERVISOR, username="lola"))
    created = boss.post("/api/canned-responses/", {"shortcut": "envio", "title": "Envío", "text": "Hola {{customer.first_name}}"},
                        format="json").json()
    boss.patch(f"/api/canned-responses/{created['id']}/", {"title": "Envío y plazos"}, format="json")
    boss.delete(f"/api/canned-responses/{created['id']}/")
    entries = AuditEntry.objects.filter(action__startswith="canned.").order_by("id")
    assert [(e.action, e.actor_label) for e in entries] == [("canned.created", "lola"), ("canned.changed", "lola"), ("canned.deleted", "lola")]
    assert (entries[1].before, entries[1].after) == ({"title": "Envío"}, {"title": "Envío y plazos"})
