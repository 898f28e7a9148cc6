"""Reading the HTML of rendered pages."""

from __future__ import annotations


def has_map(html: str, field: str) -> bool:
    """The map container django-leaflet renders for a field, and Leaflet itself."""
    return f'id="id_{field}-map"' in html and "leaflet/leaflet.js" in html
