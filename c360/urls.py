from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from c360 import views

admin.site.site_header = "C360 Steward administration"
admin.site.site_title = "C360 Steward"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("parties/", include("parties.urls")),
    path("matching/", include("matching.urls")),
    path("consents/", include("consents.urls")),
    path("api/v1/consents/", include("consents.api_urls")),
    path("admin/", admin.site.urls),
]

handler403 = "c360.views.permission_denied"
handler404 = "c360.views.page_not_found"
handler500 = "c360.views.server_error"
