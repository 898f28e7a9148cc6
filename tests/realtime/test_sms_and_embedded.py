"""The SMS backends (the HTTP gateway against a fake gateway on loopback) and the embedded
deadline sweeper that runs inside daphne when there is no Redis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from apps.common.sms import FileBackend, HttpGatewayBackend, SmsError, SmsMessage
from apps.common.tasks import sms_send
from apps.incidents import services
from tests.support.concurrency import run
from tests.support.factories import World, new_incident


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, Any], str]] = []
    answer = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((json.loads(body), self.headers["Authorization"]))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    _Gateway.received = []
    _Gateway.answer = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sms"
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_gateway_posts_the_configured_template(gateway: str, settings: Any) -> None:
    settings.SMS_GATEWAY_URL = gateway
    settings.SMS_GATEWAY_KEY = "k-123"
    settings.SMS_SENDER = "110指挥中心"
    sent = HttpGatewayBackend().send([SmsMessage(phone="13900001111", text="警情 110-1 未签收")])
    assert sent == 1
    body, auth = _Gateway.received[0]
    assert body == {"to": "13900001111", "text": "警情 110-1 未签收", "from": "110指挥中心"}
    assert auth == "Bearer k-123"


def test_a_gateway_refusal_is_an_error_that_the_task_retries(gateway: str, settings: Any) -> None:
    settings.SMS_GATEWAY_URL = gateway
    settings.SMS_BACKEND = "apps.common.sms.HttpGatewayBackend"
    _Gateway.answer = 503
    with pytest.raises(SmsError):
        HttpGatewayBackend().send([SmsMessage(phone="1", text="x")])
    _Gateway.received = []
    result = sms_send.apply(args=["13900001111", "x"])
    # Run eagerly, the retries happen at once: the first try and max_retries more, then failure.
    assert result.state == "FAILURE"
    assert len(_Gateway.received) == 1 + sms_send.max_retries


def test_the_file_backend_appends_json_lines(tmp_path: Path, settings: Any) -> None:
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    FileBackend().send([SmsMessage(phone="1", text="甲"), SmsMessage(phone="2", text="乙")])
    lines = [json.loads(x) for x in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert [(x["phone"], x["text"]) for x in lines] == [("1", "甲"), ("2", "乙")]


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_sweeper_runs_inside_the_server(world: World, settings: Any) -> None:
    """The embedded setup: the first request starts the sweeper on the server's event loop."""
    from asgiref.sync import sync_to_async

    from cad_project.embedded import EmbeddedTimers

    settings.DEADLINE_SWEEP_S = 0.05
    settings.ESCALATION_REDISPATCH = False
    incident = services.incident_dispatch(
        incident=new_incident(world), unit=world.unit, actor=world.dispatcher
    )

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def scenario() -> None:
        import asyncio

        timers = EmbeddedTimers(inner)
        with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
            await timers({"type": "http"}, None, None)
            assert timers.task is not None
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while loop.time() < deadline:
                await sync_to_async(incident.refresh_from_db)()
                if incident.escalated_at is not None:
                    break
                await asyncio.sleep(0.05)
            timers.task.cancel()
        assert incident.escalated_at is not None

    run(scenario)


@pytest.mark.django_db(transaction=True)
def test_without_celery_the_server_rolls_up_the_statistics_too(world: World, settings: Any) -> None:
    """The embedded demo has no beat: the loop that sweeps also rolls up the last week, so the
    dashboard reads the daily aggregates there as in production."""
    from asgiref.sync import sync_to_async

    from apps.stats.models import StatsDay
    from apps.stats.selectors import local_today
    from cad_project.embedded import EmbeddedTimers

    settings.DEADLINE_SWEEP_S = 0.05
    settings.CELERY_TASK_ALWAYS_EAGER = True

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def scenario() -> None:
        import asyncio

        timers = EmbeddedTimers(inner)
        await timers({"type": "http"}, None, None)
        assert timers.task is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        rolled = False
        while loop.time() < deadline and not rolled:
            rolled = await sync_to_async(StatsDay.objects.filter(day=local_today()).exists)()
            await asyncio.sleep(0.05)
        timers.task.cancel()
        assert rolled

    run(scenario)
    # Today and the seven days before it, as beat's nightly pass.
    assert StatsDay.objects.count() == 8
