from django.urls import path

from parties import views

app_name = "parties"

urlpatterns = [
    path("", views.PartyListView.as_view(), name="list"),
    path("<int:pk>/", views.party_detail_view, name="detail"),
    path("sources/", views.SourceSystemListView.as_view(), name="sources"),
    path("sources/new/", views.SourceSystemCreateView.as_view(), name="source_create"),
    path("sources/<int:pk>/edit/", views.SourceSystemUpdateView.as_view(), name="source_edit"),
]
