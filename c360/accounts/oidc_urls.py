"""Company sign-in's URLs, under /accounts/."""

from django.urls import path

from c360.accounts import views_oidc

urlpatterns = [
    path("oidc/authenticate/", views_oidc.CompanySignInStartView.as_view(), name="oidc_authentication_init"),
    path(
        "oidc/callback/", views_oidc.CompanySignInCallbackView.as_view(), name="oidc_authentication_callback"
    ),
    path("sign-in-settings/", views_oidc.sign_in_settings, name="sign_in_settings"),
]
