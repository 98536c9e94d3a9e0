from django.contrib import admin
from django.urls import include, path, register_converter

from c360 import views, views_tokens
from c360.accounts import views_oidc
from c360.kernel.params import IdConverter

register_converter(IdConverter, "id")  # before the apps' URLs below, which use <id:…>

admin.site.site_header = "C360 Steward administration"
admin.site.site_title = "C360 Steward"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", include("c360.dashboard.urls")),
    path("accounts/login/", views_oidc.SignInView.as_view(), name="login"),
    path("accounts/logout/", views_oidc.SignOutView.as_view(), name="logout"),
    path("accounts/", include("c360.accounts.urls")),  # sign-in audit, security page, sessions
    path("accounts/", include("c360.accounts.oidc_urls")),
    path("accounts/two-factor/", include("c360.accounts.urls_otp")),
    path("parties/", include("parties.urls")),
    path("matching/", include("matching.urls")),
    path("consents/", include("consents.urls")),
    path("webhooks/", include("c360.webhooks.urls")),
    path("api/", include("c360.api_urls")),
    path("api-tokens/", views_tokens.api_tokens, name="api_tokens"),
    path("api-tokens/<slug:name>/revoke/", views_tokens.api_token_revoke_view, name="api_token_revoke"),
    path("admin/", admin.site.urls),
]

handler400 = "c360.views.bad_request"
handler403 = "c360.views.permission_denied"
handler404 = "c360.views.page_not_found"
handler500 = "c360.views.server_error"
