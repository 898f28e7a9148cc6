"""Pluggable SMS backends, configured like Django's e-mail backends.

SMS_BACKEND names a class; SMS_* settings configure it. Sending always happens in a Celery task
(apps.common.tasks.sms_send), never inside a request.

- ConsoleBackend: writes messages to stdout (development).
- FileBackend: appends JSON lines to SMS_FILE_PATH (the demo; easy to inspect).
- LocmemBackend: keeps messages in `outbox` (tests).
- HttpGatewayBackend: POSTs JSON to SMS_GATEWAY_URL with SMS_GATEWAY_KEY; the body is built from
  SMS_GATEWAY_TEMPLATE (a str.format template over phone/text/sender), for a carrier's gateway.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class SmsError(Exception):
    """The gateway refused or could not be reached; the task retries."""


class BaseSmsBackend:
    def send(self, messages: list[SmsMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    def send(self, messages: list[SmsMessage]) -> int:
        for m in messages:
            sys.stdout.write(f"[SMS to {m.phone}] {m.text}\n")
        sys.stdout.flush()
        return len(messages)


class FileBackend(BaseSmsBackend):
    def send(self, messages: list[SmsMessage]) -> int:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            for m in messages:
                record = {**asdict(m), "at": timezone.now().isoformat()}
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return len(messages)


class LocmemBackend(BaseSmsBackend):
    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, messages: list[SmsMessage]) -> int:
        type(self).outbox.extend(messages)
        return len(messages)


class HttpGatewayBackend(BaseSmsBackend):
    def send(self, messages: list[SmsMessage]) -> int:
        url = settings.SMS_GATEWAY_URL
        if not url:
            raise SmsError("SMS_GATEWAY_URL is not set")
        sent = 0
        for m in messages:
            body = settings.SMS_GATEWAY_TEMPLATE.format(
                phone=json.dumps(m.phone),
                text=json.dumps(m.text, ensure_ascii=False),
                sender=json.dumps(settings.SMS_SENDER, ensure_ascii=False),
            )
            request = urllib.request.Request(
                url,
                data=body.encode(),
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Authorization": f"Bearer {settings.SMS_GATEWAY_KEY}",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=settings.SMS_GATEWAY_TIMEOUT_S) as r:
                    if not 200 <= r.status < 300:
                        raise SmsError(f"gateway answered {r.status}")
            except OSError as exc:
                raise SmsError(str(exc)) from exc
            sent += 1
        return sent


def get_backend() -> BaseSmsBackend:
    cls: Any = import_string(settings.SMS_BACKEND)
    backend: BaseSmsBackend = cls()
    return backend
