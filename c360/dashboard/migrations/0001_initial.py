"""The dashboard's figures, taken over from the ``c360`` app (c360.0008): the tables exist
already (``c360_dashboardsnapshot``, …), so only the state is created here; the content
types move too, so the permissions granted to role groups (c360.0004) stay granted."""

import django.db.models.deletion
from django.db import migrations, models

MODELS = ["dashboardsnapshot", "sourcefigure", "attributefigure", "qualityissuefigure", "consentfigure"]


def content_types_move(from_label, to_label):
    def move(apps, schema_editor):
        content_type = apps.get_model("contenttypes", "ContentType")
        taken = set(
            content_type.objects.filter(app_label=to_label, model__in=MODELS).values_list("model", flat=True)
        )
        content_type.objects.filter(app_label=from_label, model__in=set(MODELS) - taken).update(
            app_label=to_label
        )

    return move


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("c360", "0007_setting_changes"),
        ("consents", "0008_segment_role_permissions"),
        ("parties", "0020_importjob_pending_new_source"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="DashboardSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("started_at", models.DateTimeField()),
                        (
                            "computed_at",
                            models.DateTimeField(help_text="When the figures were complete: 'as of'."),
                        ),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("parties_active", models.PositiveBigIntegerField(default=0)),
                        ("parties_merged", models.PositiveBigIntegerField(default=0)),
                        ("individuals_active", models.PositiveBigIntegerField(default=0)),
                        ("source_records", models.PositiveBigIntegerField(default=0)),
                        ("quality_issues", models.PositiveBigIntegerField(default=0)),
                        (
                            "invalid_emails",
                            models.PositiveBigIntegerField(default=0, help_text="Active, invalid."),
                        ),
                        (
                            "invalid_phones",
                            models.PositiveBigIntegerField(default=0, help_text="Active, invalid."),
                        ),
                        (
                            "unreachable_parties",
                            models.PositiveBigIntegerField(
                                default=0, help_text="Active parties with no active email, phone or address."
                            ),
                        ),
                    ],
                    options={
                        "db_table": "c360_dashboardsnapshot",
                        "ordering": ["-computed_at", "-id"],
                        "permissions": [
                            ("refresh_dashboardsnapshot", "Can refresh the dashboard's figures now")
                        ],
                        "get_latest_by": "computed_at",
                    },
                ),
                migrations.CreateModel(
                    name="ConsentFigure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("channel", models.CharField(max_length=10)),
                        ("parties", models.PositiveBigIntegerField(default=0)),
                        ("opt_in", models.PositiveBigIntegerField(default=0)),
                        ("opt_out", models.PositiveBigIntegerField(default=0)),
                        ("seen", models.PositiveBigIntegerField(default=0)),
                        (
                            "purpose",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="consents.datausepurpose",
                            ),
                        ),
                        (
                            "snapshot",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="consents",
                                to="dashboard.dashboardsnapshot",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "c360_consentfigure",
                        "ordering": ["snapshot", "purpose", "channel"],
                    },
                ),
                migrations.CreateModel(
                    name="AttributeFigure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "attribute",
                            models.CharField(help_text="email, phone, address or birth_date", max_length=16),
                        ),
                        (
                            "population",
                            models.PositiveBigIntegerField(
                                default=0, help_text="Parties or records counted."
                            ),
                        ),
                        (
                            "complete",
                            models.PositiveBigIntegerField(default=0, help_text="With a value at all."),
                        ),
                        (
                            "valid",
                            models.PositiveBigIntegerField(
                                default=0, help_text="With a valid, complete value."
                            ),
                        ),
                        (
                            "source_system",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="parties.sourcesystem",
                            ),
                        ),
                        (
                            "snapshot",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attributes",
                                to="dashboard.dashboardsnapshot",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "c360_attributefigure",
                        "ordering": ["snapshot", "source_system", "attribute"],
                    },
                ),
                migrations.CreateModel(
                    name="QualityIssueFigure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("field", models.CharField(max_length=64)),
                        ("reason", models.CharField(max_length=200)),
                        ("count", models.PositiveBigIntegerField(default=0)),
                        (
                            "snapshot",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="issues",
                                to="dashboard.dashboardsnapshot",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "c360_qualityissuefigure",
                        "ordering": ["snapshot", "-count", "field", "reason"],
                    },
                ),
                migrations.CreateModel(
                    name="SourceFigure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("records", models.PositiveBigIntegerField(default=0)),
                        ("parties", models.PositiveBigIntegerField(default=0)),
                        (
                            "snapshot",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sources",
                                to="dashboard.dashboardsnapshot",
                            ),
                        ),
                        (
                            "source_system",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="parties.sourcesystem",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "c360_sourcefigure",
                        "ordering": ["snapshot", "source_system"],
                    },
                ),
            ],
        ),
        migrations.RunPython(
            content_types_move("c360", "dashboard"), content_types_move("dashboard", "c360")
        ),
    ]
