"""Websocket clients: a patrol app's socket against a live daphne (`UnitClient`, for end-to-end
and fault tests), and the consumers in-process through Channels' communicator (`connect`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from apps.common.services import token_issue
from cad_project.routing import websocket_application


@dataclass
class UnitClient:
    """A patrol app's socket: receipts every alert, remembers the last sequence number, and
    reconnects (to any of the given ports) with that number when the connection drops."""

    ports: list[int]
    token: str
    last_seq: int = 0
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)
    ws: ClientConnection | None = None
    reconnects: int = 0

    def open(self) -> None:
        errors = []
        for port in self.ports:
            try:
                self.ws = ws_connect(
                    f"ws://127.0.0.1:{port}/ws/unit/?token={self.token}",
                    open_timeout=10,
                    origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
                ).__enter__()
                self.ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq}))
                return
            except (OSError, WebSocketException) as exc:
                errors.append(exc)  # refused, or the server could not set the socket up
        raise ConnectionError(errors)

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def pump(self, seconds: float) -> None:
        """Process frames for up to `seconds`, reconnecting when the connection drops."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.ws is None:
                try:
                    self.open()
                    self.reconnects += 1
                except ConnectionError:
                    time.sleep(0.2)  # back-off between reconnect attempts, as the app does
                    continue
            assert self.ws is not None
            try:
                raw = self.ws.recv(timeout=max(0.01, end - time.monotonic()))
            except TimeoutError:
                return
            except (ConnectionClosed, OSError):
                self.ws = None
                continue
            self.handle(json.loads(raw))

    def handle(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        if frame.get("type") == "snapshot" or (
            "seq" in frame and not frame.get("resent") and frame["seq"] == self.last_seq + 1
        ):
            self.last_seq = frame["seq"]
        if frame.get("type") == "dispatch.alert":
            assert self.ws is not None
            self.alerts.setdefault(frame["alert_id"], frame)
            try:
                self.ws.send(json.dumps({"type": "alert.received", "alert_id": frame["alert_id"]}))
            except (ConnectionClosed, OSError):
                # The server closed the socket as the alert came in (Redis went down, say): as
                # the app, reconnect; the outbox sends the alert again and it is receipted then.
                self.ws = None

    def wait_alert(self, incident_id: int, timeout: float = 60) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for alert in self.alerts.values():
                if alert["incident"]["id"] == incident_id:
                    return alert
            self.pump(0.5)
        raise AssertionError(f"no alert for incident {incident_id}; frames: {self.frames[-10:]}")


# --- in-process, through Channels' communicator ---------------------------------------------


def token_for(user: Any) -> str:
    return token_issue(user=user)[1]


def session_cookie(user: Any) -> bytes:
    """The Cookie header of a browser the user signed in on (the site's session)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(
    path: str, user: Any | None = None, token: str | None = None, *, session: bool = False
) -> tuple[WebsocketCommunicator, bool, int | None]:
    """Open a socket in-process: with the user's token (a phone), or with `session` their
    site session's cookie instead."""
    headers = [(b"host", b"testserver")]
    if session:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    elif user is not None and token is None:
        token = await sync_to_async(token_for)(user)
    url = path + (f"?token={token}" if token else "")
    comm = WebsocketCommunicator(websocket_application(), url, headers=headers)
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


def fresh_channel_layer() -> None:
    """Forget the channel layers built so far: the next test gets its own state (in-memory, or a
    flushed Redis prefix)."""
    channel_layers.backends.clear()
