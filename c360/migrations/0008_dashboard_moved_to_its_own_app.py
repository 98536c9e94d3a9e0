"""The dashboard's figures moved to its own app (``c360.dashboard``, label ``dashboard``): the
tables stay where they are (``c360_dashboardsnapshot``, …); only Django's idea of their app
changes. ``dashboard.0001_initial`` takes them over (and their content types, so the role
groups keep their dashboard permissions)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("c360", "0007_setting_changes"),
        ("dashboard", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="consentfigure",
                    name="purpose",
                ),
                migrations.RemoveField(
                    model_name="consentfigure",
                    name="snapshot",
                ),
                migrations.RemoveField(
                    model_name="sourcefigure",
                    name="snapshot",
                ),
                migrations.RemoveField(
                    model_name="qualityissuefigure",
                    name="snapshot",
                ),
                migrations.RemoveField(
                    model_name="sourcefigure",
                    name="source_system",
                ),
                migrations.DeleteModel(
                    name="AttributeFigure",
                ),
                migrations.DeleteModel(
                    name="ConsentFigure",
                ),
                migrations.DeleteModel(
                    name="DashboardSnapshot",
                ),
                migrations.DeleteModel(
                    name="QualityIssueFigure",
                ),
                migrations.DeleteModel(
                    name="SourceFigure",
                ),
            ],
        )
    ]
