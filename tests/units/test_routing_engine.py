"""The router interface: straight-line estimate and an OSRM-compatible HTTP router (faked)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from apps.common.geo import LatLon, haversine_m
from apps.units.routing_engine import OsrmRouter, StraightLineRouter, get_router

A = LatLon(22.78, 100.95)
B = LatLon(22.78, 100.97)
DEST = LatLon(22.79, 100.96)


def test_straight_line_is_haversine_times_detour_over_speed() -> None:
    router = StraightLineRouter(detour_factor=1.5, speed_kmh=36)  # 10 m/s
    (travel,) = router.travel([A], DEST)
    assert travel is not None
    expected_m = haversine_m(A.lat, A.lon, DEST.lat, DEST.lon) * 1.5
    assert travel.distance_m == pytest.approx(expected_m)
    assert travel.duration_s == pytest.approx(expected_m / 10)
    assert travel.source == "straight_line"


class _FakeOsrm(BaseHTTPRequestHandler):
    answer: dict[str, Any] | None = None
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.answer is None:
            self.send_response(500)
            self.end_headers()
            return
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def osrm() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _FakeOsrm)
    _FakeOsrm.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _router(url: str) -> OsrmRouter:
    return OsrmRouter(
        base_url=url,
        timeout_s=2,
        fallback=StraightLineRouter(detour_factor=1.35, speed_kmh=30),
    )


def test_osrm_router_asks_one_table_query_and_reads_durations(osrm: str) -> None:
    _FakeOsrm.answer = {
        "code": "Ok",
        "durations": [[120.5], [None]],
        "distances": [[900.0], [None]],
    }
    travels = _router(osrm).travel([A, B], DEST)
    assert len(_FakeOsrm.requests) == 1
    path = _FakeOsrm.requests[0]
    assert path.startswith("/table/v1/driving/100.950000,22.780000;100.970000,22.780000;")
    assert "sources=0;1" in path and "destinations=2" in path
    assert travels[0] is not None and travels[0].duration_s == 120.5
    assert travels[0].distance_m == 900.0 and travels[0].source == "osrm"
    assert travels[1] is None  # unreachable by road


@pytest.mark.parametrize("answer", [None, {"code": "NoRoute"}, {"code": "Ok", "durations": []}])
def test_osrm_router_falls_back_to_straight_line_when_it_cannot_answer(
    osrm: str, answer: dict[str, Any] | None
) -> None:
    _FakeOsrm.answer = answer
    (travel,) = _router(osrm).travel([A], DEST)
    assert travel is not None and travel.source == "straight_line"


def test_osrm_router_falls_back_when_nothing_listens() -> None:
    (travel,) = _router("http://127.0.0.1:9").travel([A], DEST)
    assert travel is not None and travel.source == "straight_line"


def test_router_is_chosen_by_settings() -> None:
    with override_settings(DISPATCH_ROUTER="straight_line"):
        assert isinstance(get_router(), StraightLineRouter)
    with override_settings(DISPATCH_ROUTER="osrm", OSRM_URL="http://127.0.0.1:5000"):
        assert isinstance(get_router(), OsrmRouter)
    with (
        override_settings(DISPATCH_ROUTER="osrm", OSRM_URL=None),
        pytest.raises(ImproperlyConfigured),
    ):
        get_router()
    with override_settings(DISPATCH_ROUTER="teleport"), pytest.raises(ImproperlyConfigured):
        get_router()
