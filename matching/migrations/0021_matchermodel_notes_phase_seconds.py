from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0020_run_rule_statistics"),
    ]

    operations = [
        migrations.AddField(
            model_name="matchermodel",
            name="notes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text=(
                    "What training says about its labels: [{code, text}] (matching.services.training."
                    "label_notes), shown on the training page."
                ),
            ),
        ),
        migrations.AddField(
            model_name="matchermodel",
            name="phase_seconds",
            field=models.JSONField(blank=True, default=dict, help_text="Seconds of each phase of training."),
        ),
    ]
