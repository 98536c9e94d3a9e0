from django.urls import path

from parties.views import duplicates, history, imports, parties, search

app_name = "parties"

urlpatterns = [
    path("", parties.PartyListView.as_view(), name="list"),
    path("search/", search.search, name="search"),
    path("<id:pk>/", parties.party_detail_view, name="detail"),
    path("<id:pk>/history/", history.history, name="history"),
    path("<id:pk>/history/<id:event_id>/unmerge/", history.unmerge, name="unmerge"),
    path("<id:pk>/split/", history.split, name="split"),
    path("<id:pk>/override/", history.override, name="override"),
    path("<id:pk>/contact-points/", history.contact_point, name="contact_point"),
    path("<id:pk>/duplicates/", duplicates.duplicates, name="duplicates"),
    path("survivorship/", history.survivorship, name="survivorship"),
    path("sources/", parties.SourceSystemListView.as_view(), name="sources"),
    path("sources/new/", parties.SourceSystemCreateView.as_view(), name="source_create"),
    path("sources/<id:pk>/edit/", parties.SourceSystemUpdateView.as_view(), name="source_edit"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/new/", imports.import_new, name="import_new"),
    path("imports/template/<slug:kind>.csv", imports.import_template, name="import_template"),
    path("imports/<id:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<id:pk>/mapping/", imports.import_mapping, name="import_mapping"),
    path("imports/<id:pk>/progress/", imports.import_progress, name="import_progress"),
    path("imports/<id:pk>/dry-run/", imports.import_dry_run, name="import_dry_run"),
    path("imports/<id:pk>/report.csv", imports.import_report_csv, name="import_report"),
    path("imports/<id:pk>/cancel/", imports.import_cancel, name="import_cancel"),
    path("imports/<id:pk>/retry/", imports.import_retry, name="import_retry"),
]
