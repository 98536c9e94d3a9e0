"""Celery tasks of consents: thin callers of services."""

from celery import shared_task


@shared_task(name="consents.erasure_files_retry")
def erasure_files_retry_task() -> int:
    """Change the stored import files erasures left pending (beat runs it every minute; see
    consents.services.erasure.files). Returns how many are still pending."""
    from consents.services.erasure.files import files_pending_apply

    return files_pending_apply()[1]
