from django.urls import path

from consents import views

app_name = "consents"

urlpatterns = [
    path("parties/<int:pk>/", views.preferences, name="preferences"),
    path("parties/<int:pk>/consent/", views.consent_change, name="consent_change"),
    path("parties/<int:pk>/preferences/", views.preferences_change, name="preferences_change"),
    path("parties/<int:pk>/access-export.json", views.access_export, name="access_export"),
    path("parties/<int:pk>/erase/", views.erase, name="erase"),
    path("eligibility/", views.eligibility, name="eligibility"),
    path("eligibility/<slug:which>.csv", views.eligibility_csv, name="eligibility_csv"),
]
