"""Data migration: move each contact point's earliest source-record link into its new
``source_record`` foreign key (and back, on reverse)."""

from django.db import migrations

MODELS = ["contactpointemail", "contactpointphone", "contactpointaddress", "contactpointsocial"]


def forwards(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("parties", name)
        through = model.other_source_records.through
        column = f"{name}_id"
        first: dict[int, int] = {}
        for link in through.objects.order_by("id").values("id", column, "sourcerecord_id"):
            first.setdefault(link[column], link["sourcerecord_id"])
        for point_id, record_id in first.items():
            model.objects.filter(pk=point_id).update(source_record_id=record_id)
            through.objects.filter(**{column: point_id, "sourcerecord_id": record_id}).delete()


def backwards(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("parties", name)
        through = model.other_source_records.through
        column = f"{name}_id"
        for point_id, record_id in model.objects.exclude(source_record=None).values_list(
            "id", "source_record_id"
        ):
            through.objects.get_or_create(**{column: point_id, "sourcerecord_id": record_id})


class Migration(migrations.Migration):
    dependencies = [("parties", "0005_contact_point_first_source")]

    operations = [migrations.RunPython(forwards, backwards)]
