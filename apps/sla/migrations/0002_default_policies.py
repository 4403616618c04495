"""The targets the desk had before policies (first response 15 / 60 / 240 / 1440 minutes for urgent /
high / normal / low, on the wall clock) as a 24/7 calendar and four policies, so an existing
install keeps its clocks. Supervisors edit or replace them at /desk/sla/."""
from django.db import migrations

DEFAULTS = [(3, "Urgent", 15), (2, "High", 60), (1, "Normal", 240), (0, "Low", 1440)]


def create(apps, schema_editor):
    Calendar = apps.get_model("sla", "BusinessCalendar")
    Policy = apps.get_model("sla", "SlaPolicy")
    if Policy.objects.exists():
        return
    calendar, _ = Calendar.objects.get_or_create(name="24/7", defaults={"always_open": True, "time_zone": "UTC"})
    for position, (priority, label, minutes) in enumerate(DEFAULTS, start=1):
        Policy.objects.create(
            name=f"{label} (default)", position=1000 + position, calendar=calendar, priority=priority,
            first_response_minutes=minutes, next_response_minutes=minutes, warning_percent=75,
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
