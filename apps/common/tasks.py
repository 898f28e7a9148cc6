"""Celery tasks of the shared building blocks. Each takes plain values and is idempotent."""

from __future__ import annotations

from celery import shared_task

from .notices import notices_prune
from .sms import SmsError, SmsMessage, get_backend


@shared_task(bind=True, max_retries=5, default_retry_delay=10, acks_late=True)
def sms_send(self: object, phone: str, text: str) -> int:
    try:
        return get_backend().send([SmsMessage(phone=phone, text=text)])
    except SmsError as exc:
        raise self.retry(exc=exc) from exc  # type: ignore[attr-defined]


@shared_task
def notices_prune_task() -> int:
    return notices_prune()
