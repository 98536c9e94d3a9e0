"""The second factor (issue 20, item 2): a TOTP authenticator app (django-otp's ``TOTPDevice``)
with ten one-time recovery codes (its ``StaticDevice``), who must have one (``C360_OTP_REQUIRED``),
and the audit entry of every event (``auth_event_record``; never a code in it).

A user has a second factor when they have a confirmed TOTP device; then every session of theirs
gives a code (or a recovery code) before any page, whatever the setting says. The setting only
says who must *have* one. Wrong codes are slowed down by django-otp's throttle, per device:
after n failures in a row the next try is refused for 2**(n-1) seconds; a right code resets it.
Each wrong or refused code is an ``OTP_FAILED`` entry."""

from __future__ import annotations

import re
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

import django_otp
import segno
from django.conf import settings
from django.core import checks
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from c360.accounts.audit import auth_event_record
from c360.accounts.models import AuthEventKind
from c360.accounts.services import user_session_rotate
from c360.kernel.roles import ADMINISTRATOR

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
METHOD_TOTP = "totp"
METHOD_RECOVERY = "recovery"


@checks.register(checks.Tags.security, deploy=True)
def otp_required_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: say so when administrators need no second factor."""
    if settings.C360_OTP_REQUIRED != "off":
        return []
    return [
        checks.Warning(
            "C360_OTP_REQUIRED is off: administrators sign in without a second factor.",
            hint="Set C360_OTP_REQUIRED=administrators (the default) or everyone.",
            id="accounts.W001",
        )
    ]


def otp_required_for(user) -> bool:
    """Whether ``C360_OTP_REQUIRED`` says this user must have a second factor: "everyone", or
    "administrators" = the Administrator role group, staff and superusers."""
    if not getattr(user, "is_authenticated", False):
        return False
    rule = settings.C360_OTP_REQUIRED
    if rule == "everyone":
        return True
    if rule == "administrators":
        return user.is_superuser or user.is_staff or user.groups.filter(name=ADMINISTRATOR).exists()
    return False


def otp_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they have a second factor."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def otp_recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def otp_enrolment_start(*, user) -> TOTPDevice:
    """The unconfirmed device the enrolment page shows (one per user: a reload shows the same
    secret, so a half-scanned QR code still works)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def otp_secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code (no script, no data: URL, no style
    attribute: nothing the Content-Security-Policy refuses)."""
    code = segno.make(device.config_url, error="m")
    return code.svg_inline(scale=5, dark="#000", light="#fff", title="QR code for your authenticator app")


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:32]


def _recovery_codes_new(*, user) -> list[str]:
    """Replace the user's recovery codes with ten new ones (the old ones stop working)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    device.throttle_reset()
    return [f"{code[:4]}-{code[4:]}" for code in codes]


@dataclass(frozen=True)
class CodeCheck:
    """What a code was: ``ok``; which way (``totp`` or ``recovery``); the device that took it;
    while throttled, until when tries are refused."""

    ok: bool
    method: str
    device: TOTPDevice | StaticDevice | None = None
    refused_until: datetime | None = None
    recovery_left: int = 0


def _code_check(*, request: HttpRequest | None, user, code: str, purpose: str) -> CodeCheck:
    """Check a code against the user's authenticator app (six digits) or recovery codes (else),
    under django-otp's throttle; record a failure (``OTP_FAILED``) or a recovery code's use."""
    code = _normalise(code)
    if code.isdigit() and len(code) <= 8:
        method = METHOD_TOTP
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    else:
        method = METHOD_RECOVERY
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        auth_event_record(
            AuthEventKind.OTP_FAILED,
            request=request,
            user=user,
            method=method,
            detail=f"{purpose}: no such device",
        )
        return CodeCheck(ok=False, method=method)
    allowed, why = device.verify_is_allowed()
    if not allowed:
        until = (why or {}).get("locked_until")
        auth_event_record(
            AuthEventKind.OTP_FAILED,
            request=request,
            user=user,
            method=method,
            detail=f"{purpose}: refused, {(why or {}).get('failure_count', '?')} wrong codes in a row",
        )
        return CodeCheck(ok=False, method=method, device=device, refused_until=until)
    # django-otp locks the device's row while it checks (a code is taken once, even by two
    # requests at the same moment) and counts a failure for the throttle
    verified = django_otp.verify_token(user, device.persistent_id, code)
    if verified is None:
        auth_event_record(
            AuthEventKind.OTP_FAILED,
            request=request,
            user=user,
            method=method,
            detail=f"{purpose}: wrong code",
        )
        return CodeCheck(ok=False, method=method, device=device)
    left = otp_recovery_codes_left(user) if method == METHOD_RECOVERY else 0
    if method == METHOD_RECOVERY:
        auth_event_record(
            AuthEventKind.RECOVERY_CODE_USED,
            request=request,
            user=user,
            method=method,
            detail=f"{purpose}; {left} left",
        )
    return CodeCheck(ok=True, method=method, device=verified, recovery_left=left)


def otp_enrolment_confirm(*, request: HttpRequest, user, code: str) -> tuple[CodeCheck, list[str]]:
    """Confirm the enrolment page's device with a current code from the app: the user then has a
    second factor, this session counts as verified, and ten recovery codes are issued (returned,
    to be shown once). A wrong code is recorded as ``OTP_FAILED`` and throttled like any other."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or otp_device(user) is not None:
        return CodeCheck(ok=False, method=METHOD_TOTP), []
    allowed, why = device.verify_is_allowed()
    if not allowed:
        auth_event_record(
            AuthEventKind.OTP_FAILED,
            request=request,
            user=user,
            method=METHOD_TOTP,
            detail=f"enrolment: refused, {(why or {}).get('failure_count', '?')} wrong codes in a row",
        )
        return CodeCheck(ok=False, method=METHOD_TOTP, refused_until=(why or {}).get("locked_until")), []
    if django_otp.verify_token(user, device.persistent_id, _normalise(code)) is None:
        auth_event_record(
            AuthEventKind.OTP_FAILED,
            request=request,
            user=user,
            method=METHOD_TOTP,
            detail="enrolment: wrong code",
        )
        return CodeCheck(ok=False, method=METHOD_TOTP), []
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        device.refresh_from_db()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_new(user=user)
        auth_event_record(AuthEventKind.OTP_ENROLLED, request=request, user=user, method=METHOD_TOTP)
        auth_event_record(
            AuthEventKind.RECOVERY_CODES_ISSUED,
            request=request,
            user=user,
            method=METHOD_RECOVERY,
            detail=f"{len(codes)} codes at enrolment",
        )
    django_otp.login(request, device)
    user_session_rotate(request=request)  # the session now counts as verified: a new key
    return CodeCheck(ok=True, method=METHOD_TOTP, device=device), codes


def otp_verify(*, request: HttpRequest, user, code: str) -> CodeCheck:
    """The verify page: a right code marks this session verified (``OTP_VERIFIED``, or
    ``RECOVERY_CODE_USED`` for a recovery code, which then no longer works)."""
    check = _code_check(request=request, user=user, code=code, purpose="sign-in")
    if check.ok:
        device = check.device if check.method == METHOD_TOTP else otp_device(user) or check.device
        django_otp.login(request, device)
        # a key learnt or planted before the code (a fixed session) must not become a verified one
        user_session_rotate(request=request)
        if check.method == METHOD_TOTP:
            auth_event_record(AuthEventKind.OTP_VERIFIED, request=request, user=user, method=METHOD_TOTP)
    return check


def otp_recovery_codes_issue(*, request: HttpRequest, user, code: str) -> tuple[CodeCheck, list[str]]:
    """New recovery codes, given a current code (the old recovery codes stop working)."""
    check = _code_check(request=request, user=user, code=code, purpose="new recovery codes")
    if not check.ok or otp_device(user) is None:
        return check, []
    with transaction.atomic():
        codes = _recovery_codes_new(user=user)
        auth_event_record(
            AuthEventKind.RECOVERY_CODES_ISSUED,
            request=request,
            user=user,
            method=METHOD_RECOVERY,
            detail=f"{len(codes)} codes; the earlier ones no longer work",
        )
    return check, codes


def _devices_delete(user) -> int:
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return removed


def otp_remove(*, request: HttpRequest, user, code: str) -> CodeCheck:
    """Remove the user's second factor, given a current code or a recovery code. One who must
    have one (``otp_required_for``) is then sent to enrol again before any other page."""
    check = _code_check(request=request, user=user, code=code, purpose="removal")
    if not check.ok:
        return check
    with transaction.atomic():
        _devices_delete(user)
        must_enrol = otp_required_for(user)
        auth_event_record(
            AuthEventKind.OTP_REMOVED,
            request=request,
            user=user,
            method=check.method,
            detail="removed by the user" + ("; must enrol again" if must_enrol else ""),
        )
    return check


def otp_reset(*, request: HttpRequest | None, user, actor) -> bool:
    """A superuser removes a user's second factor (a lost phone and no recovery codes left): the
    user's sessions stop counting as verified; one who must have one enrols again at the next
    page. Recorded with the actor. False when the user had none."""
    with transaction.atomic():
        if (
            not TOTPDevice.objects.filter(user=user).exists()
            and not StaticDevice.objects.filter(user=user).exists()
        ):
            return False
        _devices_delete(user)
        auth_event_record(
            AuthEventKind.OTP_REMOVED,
            request=request,
            user=user,
            actor=actor,
            method="admin",
            detail="reset by an administrator",
        )
    return True
