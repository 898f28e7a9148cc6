"""Clients for end-to-end tests: the HTTP API with a token, and a unit's websocket."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect


@dataclass
class Api:
    port: int
    token: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        status, data = self.call("POST", path, body or {})
        assert status < 300, (status, data)
        return data

    def new_incident(self, lat: float = 22.781, lon: float = 100.951) -> dict[str, Any]:
        return self.post(
            "/api/incidents/",
            {
                "category": "dispute",
                "priority": 2,
                "location": {"lat": lat, "lon": lon},
                "address": "测试路1号",
                "description": "邻里纠纷",
                "caller_name": "张三",
                "caller_phone": "13800000000",
            },
        )


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
                self.ws = connect(
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
            except ConnectionClosed:
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
            self.ws.send(json.dumps({"type": "alert.received", "alert_id": frame["alert_id"]}))
            self.alerts.setdefault(frame["alert_id"], frame)

    def wait_alert(self, incident_id: int, timeout: float = 60) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for alert in self.alerts.values():
                if alert["incident"]["id"] == incident_id:
                    return alert
            self.pump(0.5)
        raise AssertionError(f"no alert for incident {incident_id}; frames: {self.frames[-10:]}")
