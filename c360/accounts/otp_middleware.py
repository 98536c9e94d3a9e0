"""Every page, the Django admin and the session-authenticated API wait for the second factor
(``c360.accounts.otp``): a signed-in user who has one gives it (the verify page) and one who must
have one (``C360_OTP_REQUIRED``) and has none enrols first, before anything else. After
django-otp's ``OTPMiddleware`` (``request.user.is_verified()``), before ``LoginRequiredMiddleware``.

Not held back: the sign-in and sign-out pages, the second factor's own pages (they check the
state themselves), health checks, the company sign-in's (OIDC) steps, and API requests that
carry a token (other systems; the token, not the session, says who they are). Static files are
served before this runs (WhiteNoise)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from c360.accounts.otp import otp_device, otp_required_for

EXEMPT_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "healthz",
        "admin:logout",
        # mozilla-django-oidc's steps (c360.accounts.oidc): the callback signs in, logout signs out
        "oidc_authentication_init",
        "oidc_authentication_callback",
        "oidc_logout",
    }
)
EXEMPT_NAMESPACES = frozenset({"two_factor"})


def _exempt(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    return match.view_name in EXEMPT_URL_NAMES or bool(EXEMPT_NAMESPACES.intersection(match.namespaces))


def _api_with_token(request: HttpRequest) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return request.path.startswith("/api/") and header[:6].lower() == "token "


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified() or _exempt(request) or _api_with_token(request):
            return None
        if otp_device(user) is not None:
            where, why = "two_factor:verify", "Enter the code from your authenticator app first."
        elif otp_required_for(user):
            where, why = "two_factor:manage", "Set up a second factor first: it is required for your account."
        else:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": why, "code": "second_factor_required"}, status=403)
        target = f"{reverse(where)}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
