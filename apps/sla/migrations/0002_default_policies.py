"""The targets the desk had before policies, as a 24/7 calendar and four policies (apps/sla/defaults.py),
so an existing install keeps its clocks. Supervisors edit or replace them at /desk/sla/."""
from django.db import migrations


def create(apps, schema_editor):
    from apps.sla.defaults import default_policies_ensure

    default_policies_ensure(apps.get_model("sla", "BusinessCalendar"), apps.get_model("sla", "SlaPolicy"))


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
