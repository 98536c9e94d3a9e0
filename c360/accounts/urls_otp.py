"""``/accounts/two-factor/``: the second factor's pages (``c360.accounts.views_otp``)."""

from django.urls import path

from c360.accounts import views_otp

app_name = "two_factor"
urlpatterns = [
    path("", views_otp.two_factor_manage, name="manage"),
    path("verify/", views_otp.two_factor_verify, name="verify"),
    path("recovery-codes/", views_otp.two_factor_recovery_codes, name="recovery_codes"),
    path("remove/", views_otp.two_factor_remove, name="remove"),
]
