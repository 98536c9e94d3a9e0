from django.urls import path

from consents import api

app_name = "consents_api"

urlpatterns = [
    path("eligibility/", api.EligibleList.as_view(), name="eligible"),
    path("suppression/", api.SuppressedList.as_view(), name="suppressed"),
]
