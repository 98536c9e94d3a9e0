"""The sign-in page (password form and company sign-in), company sign-in's start and callback,
sign-out (at the identity provider too), and the administrators' page of sign-in settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from c360.accounts.oidc import (
    ProviderUnavailable,
    end_session_url,
    oidc_enabled,
    provider_metadata,
    refusal_set,
)
from c360.kernel.roles import ADMINISTRATOR, user_role_names

LOCAL_LOGIN_OFF = "Signing in with a password is switched off here: use the company sign-in button."


class SignInView(auth_views.LoginView):
    """Django's sign-in page, offering company sign-in beside the password form; while
    ``C360_LOCAL_LOGIN`` is off, without the form, and a password posted to it is refused."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc_enabled()
        context["oidc_label"] = settings.C360_OIDC_LABEL
        context["local_login"] = settings.C360_LOCAL_LOGIN
        return context

    def post(self, request, *args, **kwargs):
        if not settings.C360_LOCAL_LOGIN:
            messages.error(request, LOCAL_LOGIN_OFF)
            return self.render_to_response(self.get_context_data(), status=403)
        return super().post(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    """Django's sign-out; after a company sign-in, the browser then goes to the identity
    provider's end-session endpoint (where it offers one) to end the session there too."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        provider_url = end_session_url(request, id_token) if id_token and oidc_enabled() else None
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(provider_url) if provider_url else response


@method_decorator(login_not_required, name="dispatch")
class CompanySignInStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's authorization endpoint (state, nonce and PKCE kept in
    the session by mozilla-django-oidc)."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)  # its settings: discovery's

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404("company sign-in is not configured")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_metadata()["authorization_endpoint"]
        except ProviderUnavailable:
            messages.error(request, "Your identity provider cannot be reached. Try again later.")
            return HttpResponseRedirect(reverse("login"))
        self.OIDC_RP_CLIENT_ID = settings.C360_OIDC_CLIENT_ID
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class CompanySignInCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back. A refusal or any failure returns to the sign-in
    page with a message saying why (never a 500)."""

    @property
    def failure_url(self) -> str:
        return reverse("login")

    def login_failure(self) -> HttpResponse:
        error = self.request.GET.get("error")
        if error:
            text = f"Your identity provider did not sign you in ({error[:60]})."
        else:
            text = getattr(self.request, "oidc_refusal", None) or "Company sign-in failed. Please try again."
        messages.error(self.request, text)
        return HttpResponseRedirect(self.failure_url)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404("company sign-in is not configured")
        if request.GET.get("error") and request.GET.get("state") not in request.session.get(
            "oidc_states", {}
        ):
            # mozilla-django-oidc signs out whoever is signed in on any ?error=: a link or an image
            # on another site would sign people out. Only a sign-in this browser started may.
            return self.login_failure()
        try:
            return super().get(request)
        except SuspiciousOperation:
            refusal_set(
                request, "This sign-in was started elsewhere or has already been used. Please sign in again."
            )
            return self.login_failure()


def sign_in_settings(request: HttpRequest) -> HttpResponse:
    """Read-only, for administrators: how people sign in here (never the client secret)."""
    if ADMINISTRATOR not in user_role_names(request.user):
        raise PermissionDenied
    return render(
        request,
        "accounts/sign_in_settings.html",
        {
            "oidc_enabled": oidc_enabled(),
            "issuer": settings.C360_OIDC_ISSUER,
            "client_id": settings.C360_OIDC_CLIENT_ID,
            "scopes": settings.C360_OIDC_SCOPES,
            "groups_claim": settings.C360_OIDC_GROUPS_CLAIM,
            "label": settings.C360_OIDC_LABEL,
            "role_map": sorted(
                (group, role) for group, roles in settings.C360_OIDC_ROLE_MAP.items() for role in roles
            ),
            "local_login": settings.C360_LOCAL_LOGIN,
            "callback_url": request.build_absolute_uri(reverse("oidc_authentication_callback")),
            "sign_out_url": request.build_absolute_uri(reverse("login")),
        },
    )
