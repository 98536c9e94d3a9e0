from django.urls import path

from c360.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscriber_list, name="list"),
    path("new/", views.subscriber_create, name="create"),
    path("<id:pk>/", views.subscriber_detail, name="detail"),
    path("<id:pk>/edit/", views.subscriber_edit, name="edit"),
    path("<id:pk>/pause/", views.subscriber_pause, name="pause"),
    path("<id:pk>/resume/", views.subscriber_resume, name="resume"),
    path("<id:pk>/rotate-secret/", views.subscriber_rotate_secret, name="rotate_secret"),
    path("<id:pk>/delete/", views.subscriber_delete, name="delete"),
    path("<id:pk>/deliveries/<id:delivery_id>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
