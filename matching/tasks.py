"""Celery tasks of matching: thin callers of services, taking ids."""

from celery import shared_task


@shared_task(name="matching.train", acks_late=True)
def train_task(user_id: int | None = None) -> int:
    from django.contrib.auth import get_user_model

    from matching.services.training import matcher_train

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return matcher_train(user=user).pk
