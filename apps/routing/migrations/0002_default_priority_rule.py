from django.db import migrations


def add_default(apps, schema_editor):
    # A public complaint is seen by everyone: it starts High, above a private question (Normal).
    PriorityRule = apps.get_model("routing", "PriorityRule")
    if not PriorityRule.objects.exists():
        PriorityRule.objects.create(position=10, channel_kind="", is_public=True, priority=2)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]
    operations = [migrations.RunPython(add_default, migrations.RunPython.noop)]
