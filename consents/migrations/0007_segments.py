"""Segments: saved filters over parties (membership is computed when read, never stored)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import consents.models


class Migration(migrations.Migration):
    dependencies = [
        ("consents", "0006_erasure_role_permissions"),
        ("parties", "0017_engagement_membership_import_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Segment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                ("description", models.TextField(blank=True)),
                (
                    "country",
                    models.CharField(
                        blank=True,
                        help_text="ISO code of an active postal address, e.g. DE.",
                        max_length=2,
                        validators=[consents.models.validate_country_code],
                    ),
                ),
                (
                    "valid_email",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Any"),
                            ("yes", "Has a valid email address"),
                            ("no", "Has no valid email address"),
                        ],
                        max_length=3,
                        verbose_name="valid email",
                    ),
                ),
                (
                    "consent_channel",
                    models.CharField(
                        blank=True,
                        choices=[("email", "Email"), ("sms", "SMS"), ("phone", "Phone"), ("mail", "Mail")],
                        max_length=10,
                        verbose_name="opted in on channel",
                    ),
                ),
                (
                    "ltv_min",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=14,
                        null=True,
                        verbose_name="lifetime value at least",
                    ),
                ),
                (
                    "ltv_max",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=14,
                        null=True,
                        verbose_name="lifetime value at most",
                    ),
                ),
                (
                    "orders_min",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="orders at least"),
                ),
                (
                    "orders_max",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="orders at most"),
                ),
                (
                    "last_engagement_after",
                    models.DateField(blank=True, null=True, verbose_name="last engagement on or after"),
                ),
                (
                    "last_engagement_before",
                    models.DateField(blank=True, null=True, verbose_name="last engagement before"),
                ),
                (
                    "tier",
                    models.CharField(
                        blank=True,
                        help_text="Has an active membership of this tier.",
                        max_length=32,
                        verbose_name="membership tier",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "consent_purpose",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consents.datausepurpose",
                        verbose_name="opted in for purpose",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "source_system",
                    models.ForeignKey(
                        blank=True,
                        help_text="Has a record from this source system.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="parties.sourcesystem",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
                "permissions": [("export_segment", "Can export a segment's eligible contacts (CSV)")],
            },
        ),
    ]
