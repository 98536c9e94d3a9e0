"""The authentication audit and the sessions of signed-in people."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuthEventKind(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    LOCKED_OUT = "locked_out", "Locked out"
    OTP_ENROLLED = "otp_enrolled", "Second factor enrolled"
    OTP_REMOVED = "otp_removed", "Second factor removed"
    OTP_VERIFIED = "otp_verified", "Second factor verified"
    OTP_FAILED = "otp_failed", "Second factor failed"
    RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", "Recovery codes issued"
    ROLE_ADDED = "role_added", "Role added"
    ROLE_REMOVED = "role_removed", "Role removed"
    USER_CREATED = "user_created", "User created"
    SESSIONS_ENDED = "sessions_ended", "Signed out everywhere"
    SESSION_EXPIRED = "session_expired", "Session expired"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"


class AuthEvent(models.Model):
    """One authentication event: who (the user, or the username tried), what, when, from where
    (client address, user agent), by which way (local password, OIDC, an administrator), and a
    short detail without secrets. Written by ``c360.accounts.audit.auth_event_record`` only;
    never edited; kept like the rest of the audit trail."""

    kind = models.CharField(max_length=32, choices=AuthEventKind.choices)
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="As typed or as the user was then.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=150,
        blank=True,
        help_text="Who did it when not the user: an administrator, 'identity provider'.",
    )
    method = models.CharField(
        max_length=16, blank=True, help_text="password, oidc, totp, recovery, token, admin"
    )
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="auth_event_user")]
        permissions = [("view_auth_audit", "Can see the authentication audit")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class UserSession(models.Model):
    """A signed-in session of a person: which user, since when, last seen, from where. Lets the
    idle and absolute timeouts and "sign out everywhere" find a user's sessions (Django's session
    table does not say whose a session is without decoding every row)."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    method = models.CharField(max_length=16, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user_id} since {self.started_at:%Y-%m-%d %H:%M}"


class OidcIdentity(models.Model):
    """Who a user is at the company's identity provider: its issuer and the subject (``sub``) it
    gives them, which never changes (a username or an email address may). Company sign-in finds
    the user by this pair, never by name, so an identity provider cannot take over a local account
    by naming a user like it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    last_sign_in_at = models.DateTimeField()

    class Meta:
        verbose_name = "company sign-in identity"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
