from django.urls import path

from c360.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("issues/", views.quality_issues, name="issues"),
    path("refresh/", views.refresh, name="refresh"),
]
