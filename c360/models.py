"""API clients: one per system that talks to the API (the CRM, the web shop, …).

The kernel's models (task leases, settings history) are defined in ``c360.kernel.models``
and belong to this app (label ``c360``); the dashboard's figures are its own app's."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from c360.kernel.models import SettingChange, TaskLease  # noqa: F401  (registered with this app)


class ApiToken(models.Model):
    """A system's API token. Only a SHA-256 hash of the token is stored (the token itself is
    shown once, when it is created). The token acts as its own user, ``api:<name>``, a member
    of one role group, so the API grants exactly what the UI grants that role, and every
    audit entry names the client."""

    name = models.SlugField(max_length=60, unique=True, help_text="The client system, e.g. crm-sync.")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token")
    role = models.CharField(max_length=40, help_text="The role group the token acts with.")
    key_prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
