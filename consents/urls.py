from django.urls import path

from consents import views

app_name = "consents"

urlpatterns = [
    path("parties/<id:pk>/", views.preferences, name="preferences"),
    path("parties/<id:pk>/consent/", views.consent_change, name="consent_change"),
    path("parties/<id:pk>/preferences/", views.preferences_change, name="preferences_change"),
    path("parties/<id:pk>/access-export.json", views.access_export, name="access_export"),
    path("parties/<id:pk>/erase/", views.erase, name="erase"),
    path("eligibility/", views.eligibility, name="eligibility"),
    path("eligibility/<slug:which>.csv", views.eligibility_csv, name="eligibility_csv"),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_create_view, name="segment_create"),
    path("segments/preview/", views.segment_preview, name="segment_preview"),
    path("segments/<id:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<id:pk>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<id:pk>/delete/", views.segment_delete_view, name="segment_delete"),
    path("segments/<id:pk>/count/", views.segment_count_view, name="segment_count"),
    path("segments/<id:pk>/export.csv", views.segment_export, name="segment_export"),
]
