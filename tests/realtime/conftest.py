from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from apps.common.services import token_issue
from apps.common.ws import WebsocketAuthStack
from tests.incidents.conftest import world  # noqa: F401  (the shared small-city fixture)


def ws_app() -> Any:
    from channels.routing import URLRouter

    from cad_project.routing import websocket_urlpatterns

    return WebsocketAuthStack(URLRouter(websocket_urlpatterns))


def token_for(user: Any) -> str:
    return token_issue(user=user)[1]


async def connect(
    path: str, user: Any | None = None, token: str | None = None
) -> tuple[WebsocketCommunicator, bool, int | None]:
    from asgiref.sync import sync_to_async

    if user is not None and token is None:
        token = await sync_to_async(token_for)(user)
    url = path + (f"?token={token}" if token else "")
    comm = WebsocketCommunicator(ws_app(), url, headers=[(b"host", b"testserver")])
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def receive_until(
    comm: WebsocketCommunicator, pred: Callable[[dict[str, Any]], bool], timeout: float = 5
) -> list[dict[str, Any]]:
    """Frames received until one matches `pred` (included); fails after `timeout` seconds."""
    frames: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; got {frames}")
        frame = await comm.receive_json_from(timeout=left)
        frames.append(frame)
        if pred(frame):
            return frames


def run(coro_fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run an async scenario to completion in a thread of its own.

    Its own thread, because the main thread may already have an event loop set (Playwright's
    sync API keeps one for the browser tests), and async_to_sync refuses to run there.
    """
    import threading

    from asgiref.sync import async_to_sync
    from django.db import connections

    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(async_to_sync(coro_fn)(*args))
        except BaseException as exc:  # re-raised in the test's thread
            error.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="async-scenario")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the async scenario did not finish within 300 s"
    if error:
        raise error[0]
    return result[0] if result else None


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets its own channel-layer state (in-memory or a flushed Redis prefix)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
