"""What every page's Leaflet map is configured with (the command map, the patrol app, the
statistics dashboard): tiles from the local network only, the city's centre and zoom, and the
texts of Leaflet's own controls in the page's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


def map_config() -> dict[str, Any]:
    leaflet: dict[str, Any] = settings.LEAFLET_CONFIG
    return {
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "center": list(leaflet.get("DEFAULT_CENTER", (22.78, 100.975))),
        "zoom": leaflet.get("DEFAULT_ZOOM", 13),
        "maxZoom": leaflet.get("MAX_ZOOM", 19),
        # Leaflet's zoom buttons say "Zoom in" / "Zoom out" unless told otherwise.
        "zoomInTitle": _("Zoom in"),
        "zoomOutTitle": _("Zoom out"),
    }
