"""Contact-point provenance: the first reporting source record as a foreign key (written with
the contact point, one row instead of a link-table row), further reporters in the M2M."""

import django.db.models.deletion
from django.db import migrations, models

MODELS = {
    "contactpointemail": "emails",
    "contactpointphone": "phones",
    "contactpointaddress": "addresses",
    "contactpointsocial": "socials",
}


def _operations():
    operations = []
    for model, related in MODELS.items():
        operations += [
            migrations.RenameField(model, "source_records", "other_source_records"),
            migrations.AlterField(
                model,
                "other_source_records",
                models.ManyToManyField(
                    blank=True,
                    related_name=related,
                    to="parties.sourcerecord",
                    help_text="Further source records that reported the same value.",
                ),
            ),
            migrations.AddField(
                model,
                "source_record",
                models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name=f"first_{related}",
                    to="parties.sourcerecord",
                    help_text="The source record that first reported it.",
                ),
            ),
        ]
    return operations


class Migration(migrations.Migration):
    dependencies = [("parties", "0004_import_role_permissions")]

    operations = _operations()
