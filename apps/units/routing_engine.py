"""The router interface: travel time and distance from many origins to one destination.

Two implementations, chosen by settings.DISPATCH_ROUTER:

- ``straight_line`` (default): great-circle distance × DISPATCH_ROAD_DETOUR_FACTOR, driven at
  DISPATCH_URBAN_SPEED_KMH. Needs nothing outside the system.
- ``osrm``: an OSRM-compatible HTTP road router (its ``/table/v1/driving`` service) at OSRM_URL.
  When the router cannot answer (down, slow, malformed reply) the straight-line estimate is used
  for that request and a warning is logged: dispatch never stops because the router is away.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.common.geo import LatLon, haversine_m

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Travel:
    duration_s: float
    distance_m: float
    # Which engine produced the estimate ("straight_line" or "osrm").
    source: str


class Router(Protocol):
    def travel(self, origins: Sequence[LatLon], destination: LatLon) -> list[Travel | None]:
        """One estimate per origin, in order; None where the destination is unreachable."""
        ...


class StraightLineRouter:
    name = "straight_line"

    def __init__(self, *, detour_factor: float, speed_kmh: float) -> None:
        if detour_factor < 1 or speed_kmh <= 0:
            raise ImproperlyConfigured("Detour factor must be ≥ 1 and urban speed > 0.")
        self.detour_factor = detour_factor
        self.speed_ms = speed_kmh * 1000 / 3600

    def travel(self, origins: Sequence[LatLon], destination: LatLon) -> list[Travel | None]:
        out: list[Travel | None] = []
        for origin in origins:
            road_m = (
                haversine_m(origin.lat, origin.lon, destination.lat, destination.lon)
                * self.detour_factor
            )
            out.append(Travel(road_m / self.speed_ms, road_m, self.name))
        return out


class RouterUnavailable(Exception):
    pass


class OsrmRouter:
    """OSRM's table service: one request for all origins (sources) to the destination."""

    name = "osrm"

    def __init__(self, *, base_url: str, timeout_s: float, fallback: Router) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.fallback = fallback

    def _url(self, origins: Sequence[LatLon], destination: LatLon) -> str:
        points = [*origins, destination]
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in points)
        sources = ";".join(str(i) for i in range(len(origins)))
        return (
            f"{self.base_url}/table/v1/driving/{coords}"
            f"?sources={sources}&destinations={len(origins)}&annotations=duration,distance"
        )

    def _query(self, origins: Sequence[LatLon], destination: LatLon) -> list[Travel | None]:
        url = self._url(origins, destination)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise RouterUnavailable(str(exc)) from exc
        if not isinstance(body, dict) or body.get("code") != "Ok":
            raise RouterUnavailable(f"router answered {str(body)[:200]}")
        durations = body.get("durations")
        distances = body.get("distances")
        if not isinstance(durations, list) or len(durations) != len(origins):
            raise RouterUnavailable("router answer has no duration per origin")
        out: list[Travel | None] = []
        for i, row in enumerate(durations):
            duration = row[0] if isinstance(row, list) and row else None
            distance = None
            if isinstance(distances, list) and i < len(distances) and distances[i]:
                distance = distances[i][0]
            if duration is None or not math.isfinite(float(duration)):
                out.append(None)  # unreachable by road
                continue
            if distance is None:
                # Old OSRM versions return durations only: estimate the distance from the time.
                distance = float(duration) * settings.DISPATCH_URBAN_SPEED_KMH / 3.6
            out.append(Travel(float(duration), float(distance), self.name))
        return out

    def travel(self, origins: Sequence[LatLon], destination: LatLon) -> list[Travel | None]:
        if not origins:
            return []
        try:
            return self._query(origins, destination)
        except RouterUnavailable as exc:
            log.warning("road router unavailable, using the straight-line estimate: %s", exc)
            return self.fallback.travel(origins, destination)


def get_router() -> Router:
    """The router configured in settings (read on each call so tests can override settings)."""
    straight = StraightLineRouter(
        detour_factor=settings.DISPATCH_ROAD_DETOUR_FACTOR,
        speed_kmh=settings.DISPATCH_URBAN_SPEED_KMH,
    )
    kind = settings.DISPATCH_ROUTER
    if kind == "straight_line":
        return straight
    if kind == "osrm":
        if not settings.OSRM_URL:
            raise ImproperlyConfigured("DISPATCH_ROUTER=osrm needs OSRM_URL.")
        return OsrmRouter(
            base_url=settings.OSRM_URL, timeout_s=settings.OSRM_TIMEOUT_S, fallback=straight
        )
    raise ImproperlyConfigured(f"DISPATCH_ROUTER={kind!r}: use 'straight_line' or 'osrm'.")
