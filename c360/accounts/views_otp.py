"""The second factor's pages (``/accounts/two-factor/``): enrol, see and renew recovery codes,
remove; and the verify page every session of a user who has one passes through. Thin callers of
``c360.accounts.otp``. The enforcement middleware lets these through; each checks the state."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from c360.accounts.otp import (
    RECOVERY_CODE_COUNT,
    CodeCheck,
    otp_device,
    otp_enrolment_confirm,
    otp_enrolment_start,
    otp_qr_svg,
    otp_recovery_codes_issue,
    otp_recovery_codes_left,
    otp_remove,
    otp_required_for,
    otp_secret_text,
    otp_verify,
)

NEW_CODES_SESSION_KEY = "c360_otp_new_recovery_codes"
NEXT_SESSION_KEY = "c360_otp_next"


def _next_url(request: HttpRequest, value: str | None) -> str:
    """Where to go after the second factor: a path of this site only (``/…``, no control
    characters), else home; a bare word such as "²" would be taken by redirect() for a view name."""
    if (
        value
        and value.startswith("/")
        and value.isprintable()
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return reverse("home")


def _verify_first(request: HttpRequest) -> HttpResponseRedirect:
    return redirect(f"{reverse('two_factor:verify')}?{urlencode({'next': request.get_full_path()})}")


def _refusal(check: CodeCheck) -> str:
    if check.refused_until is not None:
        return f"Too many wrong codes: try again after {check.refused_until:%H:%M:%S} UTC."
    return "That code is not right. Enter the current code from your app, or one of your recovery codes."


@require_http_methods(["GET", "POST"])
def two_factor_manage(request: HttpRequest) -> HttpResponse:
    """No second factor yet: the enrolment (QR code, the secret as text, confirm with a code).
    One already: its state, new recovery codes, removal (each asks for a current code)."""
    user = request.user
    device = otp_device(user)
    if device is not None and not user.is_verified():
        return _verify_first(request)
    if device is not None:
        if request.method == "POST":
            return redirect("two_factor:manage")
        return render(
            request,
            "accounts/two_factor.html",
            {
                "device": device,
                "codes_left": otp_recovery_codes_left(user),
                "required": otp_required_for(user),
            },
        )
    error = ""
    if request.method == "POST":
        check, codes = otp_enrolment_confirm(request=request, user=user, code=request.POST.get("code", ""))
        if check.ok:
            request.session[NEW_CODES_SESSION_KEY] = codes
            request.session[NEXT_SESSION_KEY] = _next_url(request, request.POST.get("next"))
            messages.success(request, "Your second factor is on. Keep these recovery codes somewhere safe.")
            return redirect("two_factor:recovery_codes")
        error = (
            _refusal(check)
            if check.refused_until
            else "That code is not right. Enter the six digits your app shows now."
        )
    pending = otp_enrolment_start(user=user)
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "qr_svg": otp_qr_svg(pending),
            "secret": otp_secret_text(pending),
            "required": otp_required_for(user),
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "code_count": RECOVERY_CODE_COUNT,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """GET: the recovery codes just issued, once (then they are gone from the session).
    POST: new ones, given a current code; the earlier ones stop working."""
    user = request.user
    if otp_device(user) is None:
        return redirect("two_factor:manage")
    if not user.is_verified():
        return _verify_first(request)
    if request.method == "POST":
        check, codes = otp_recovery_codes_issue(request=request, user=user, code=request.POST.get("code", ""))
        if not check.ok:
            messages.error(request, _refusal(check))
            return redirect("two_factor:manage")
        request.session[NEW_CODES_SESSION_KEY] = codes
        request.session[NEXT_SESSION_KEY] = reverse("two_factor:manage")
        return redirect("two_factor:recovery_codes")
    codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(
            request, "Recovery codes are shown only once, when they are made. You can make new ones."
        )
        return redirect("two_factor:manage")
    return render(
        request,
        "accounts/two_factor_codes.html",
        {"codes": codes, "next": _next_url(request, request.session.pop(NEXT_SESSION_KEY, None))},
    )


@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    user = request.user
    if otp_device(user) is None:
        return redirect("two_factor:manage")
    if not user.is_verified():
        return _verify_first(request)
    check = otp_remove(request=request, user=user, code=request.POST.get("code", ""))
    if not check.ok:
        messages.error(request, _refusal(check))
    elif otp_required_for(user):
        messages.warning(request, "Second factor removed. Your account requires one: set up a new one now.")
    else:
        messages.success(request, "Second factor removed.")
    return redirect("two_factor:manage")


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """After signing in: a code from the app or a recovery code, before any page."""
    user = request.user
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if user.is_verified():
        return redirect(_next_url(request, next_url))
    if otp_device(user) is None:  # nothing to verify: enrol first where required
        return redirect("two_factor:manage" if otp_required_for(user) else _next_url(request, next_url))
    error, status = "", 200
    if request.method == "POST":
        check = otp_verify(request=request, user=user, code=request.POST.get("code", ""))
        if check.ok:
            if check.method == "recovery":
                messages.warning(
                    request,
                    f"You used a recovery code; {check.recovery_left} left: "
                    "make new ones on the second factor's page.",
                )
            return redirect(_next_url(request, next_url))
        error, status = _refusal(check), (429 if check.refused_until else 400)
    return render(
        request, "accounts/two_factor_verify.html", {"error": error, "next": next_url}, status=status
    )
