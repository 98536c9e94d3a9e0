"""Engagement and membership imports: which import last delivered each row, and the key a
membership is found by again (source system, program, member number).

No data cleanup: memberships that existed before have no source system, and NULLs never
conflict in a unique constraint; engagements keep their existing key (source system, type,
external id).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0016_name_search_trigram"),
    ]

    operations = [
        migrations.AddField(
            model_name="engagement",
            name="last_import_job",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The import that last delivered this touch point (created, changed or unchanged).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="parties.importjob",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="last_import_job",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The import that last delivered this membership (created, changed or unchanged).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="parties.importjob",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="source_system",
            field=models.ForeignKey(
                blank=True,
                help_text="The system that reported the membership; with the program and member number it identifies the membership in imports.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="parties.sourcesystem",
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("member_number", ""), _negated=True),
                fields=("source_system", "program_name", "member_number"),
                name="membership_unique_member_number",
            ),
        ),
    ]
