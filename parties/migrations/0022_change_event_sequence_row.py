from django.db import migrations


def sequence_row_create(apps, schema_editor):
    """The sequencer's one row (it locks it so that only one sequencer numbers at a time)."""
    apps.get_model("parties", "ChangeEventSequence").objects.get_or_create(pk=1, defaults={"last": 0})


def sequence_row_delete(apps, schema_editor):
    apps.get_model("parties", "ChangeEventSequence").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0021_change_event_outbox"),
    ]

    operations = [migrations.RunPython(sequence_row_create, sequence_row_delete)]
