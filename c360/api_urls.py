"""``/api/v1/``: every resource of the API, and the schema and its docs under ``/api/``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from c360.accounts.api import AuthEventViewSet
from c360.api_docs import RedocView, SwaggerView
from c360.webhooks.api import DeliveryViewSet, SubscriberViewSet
from consents import api as consents_api
from matching.api import PartyMatchView, SuggestionViewSet
from parties.api.events import ChangeEventFeed
from parties.api.views import (
    ContactPointViewSet,
    ImportViewSet,
    MergeViewSet,
    PartyViewSet,
    SourceSystemViewSet,
)

router = SimpleRouter()
router.register("parties", PartyViewSet, basename="party")
router.register(r"contact-points/(?P<kind>email|phone)", ContactPointViewSet, basename="contact-point")
router.register("source-systems", SourceSystemViewSet, basename="source-system")
router.register("imports", ImportViewSet, basename="import")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("merges", MergeViewSet, basename="merge")
router.register("auth-events", AuthEventViewSet, basename="auth-event")
router.register("webhooks", SubscriberViewSet, basename="webhook")
router.register(
    r"webhooks/(?P<subscriber_id>[0-9]+)/deliveries", DeliveryViewSet, basename="webhook-delivery"
)

v1 = [
    *router.urls,
    path("parties/match/", PartyMatchView.as_view(), name="party-match"),
    path("parties/<int:pk>/consents/", consents_api.PartyConsentsView.as_view(), name="party-consents"),
    path("parties/<int:pk>/consents/history/", consents_api.PartyLedgerView.as_view(), name="party-ledger"),
    path(
        "parties/<int:pk>/preferences/", consents_api.PartyPreferencesView.as_view(), name="party-preferences"
    ),
    path(
        "parties/<int:pk>/access-export/", consents_api.AccessExportView.as_view(), name="party-access-export"
    ),
    path("parties/<int:pk>/erasure/", consents_api.ErasureView.as_view(), name="party-erasure"),
    path("events/", ChangeEventFeed.as_view(), name="events"),
    path("consents/eligibility/", consents_api.EligibleList.as_view(), name="eligible"),
    path("consents/suppression/", consents_api.SuppressedList.as_view(), name="suppressed"),
]

urlpatterns = [
    path("v1/", include((v1, "api"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
