"""``/accounts/…``: the sign-in audit, one's security page, a user's sessions."""

from django.urls import path

from c360.accounts import views

app_name = "accounts"

urlpatterns = [
    path("audit/", views.auth_audit, name="audit"),
    path("security/", views.security, name="security"),
    path("security/sign-out/", views.security_sign_out, name="security_sign_out"),
    path("users/<id:pk>/sessions/", views.user_sessions, name="user_sessions"),
]
