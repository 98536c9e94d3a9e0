from django.urls import path

from matching import views
from matching.views import quality
from matching.views.bulk import bulk_job_detail
from matching.views.split import review_split

app_name = "matching"

urlpatterns = [
    path("training/", views.training_page, name="training"),
    path("training/answer/", views.training_answer, name="training_answer"),
    path("training/refresh/", views.training_refresh, name="training_refresh"),
    path("training/train/", views.training_train, name="training_train"),
    path("models/<id:pk>/activate/", views.model_activate, name="model_activate"),
    path("suggestions/", views.queue, name="suggestions"),
    path("suggestions/claim/", views.queue_claim, name="queue_claim"),
    path("suggestions/release/", views.queue_release, name="queue_release"),
    path("suggestions/merge/", views.queue_bulk_merge, name="queue_bulk_merge"),
    path("suggestions/bulk/<id:pk>/", bulk_job_detail, name="bulk_job"),
    path("suggestions/<id:pk>/", views.review, name="review"),
    path("suggestions/<id:pk>/preview/", views.review_preview, name="review_preview"),
    path("suggestions/<id:pk>/decide/", views.review_decide, name="review_decide"),
    path("suggestions/<id:pk>/split/", review_split, name="review_split"),
    path("suggestions/<id:pk>/reject/", views.suggestion_reject_view, name="suggestion_reject"),
    path("quality/", quality.quality_page, name="quality"),
    path("quality/seed/", quality.quality_seed, name="quality_seed"),
    path("quality/sample/", quality.quality_sample, name="quality_sample"),
    path("quality/second-review/", quality.second_review, name="second_review"),
    path("quality/second-review/answer/", quality.second_review_decide, name="second_review_decide"),
    path("runs/", views.run_list, name="runs"),
    path("runs/start/", views.match_run_start, name="run_start"),
    path("runs/<id:pk>/", views.run_detail, name="run_detail"),
    path("thresholds/", views.thresholds, name="thresholds"),
]
