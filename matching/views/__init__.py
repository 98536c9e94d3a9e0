"""Views of matching, one module per page family."""

from matching.views.queue import (
    queue,
    queue_bulk_merge,
    queue_claim,
    queue_release,
    review,
    review_decide,
    review_preview,
)
from matching.views.runs import match_run_start, run_detail, run_list
from matching.views.suggestions import suggestion_reject_view
from matching.views.thresholds import thresholds
from matching.views.training import (
    model_activate,
    training_answer,
    training_page,
    training_refresh,
    training_train,
)

__all__ = [
    "match_run_start",
    "model_activate",
    "queue",
    "queue_bulk_merge",
    "queue_claim",
    "queue_release",
    "review",
    "review_decide",
    "review_preview",
    "run_detail",
    "run_list",
    "suggestion_reject_view",
    "thresholds",
    "training_answer",
    "training_page",
    "training_refresh",
    "training_train",
]
