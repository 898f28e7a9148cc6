"""The pages of the patrol app (/app/, a PWA) and of the command map (/command/). The small API
endpoints only they need (/api/me/, device health, map layers) are in api.py.

The app's source is plain ES modules under frontend/static/ (no build step); the pages are Django
templates under frontend/templates/. The service worker is served from /app/sw.js (not /static/)
so that its scope is the app; its text carries a version computed from the app's files, so any
change to them makes the browser install a new worker (the update flow is in app/update.js).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
)
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from apps.calls.models import CloseReason
from apps.common.maps import map_config
from apps.common.roles import UNIT_CREW_ROLES, Role, has_role, is_command_centre
from apps.incidents.models import (
    EVENT_KIND_LABELS,
    SHORT_ARRIVAL_PRIORITIES,
    AssignmentRole,
    AssignmentStatus,
    Category,
    IncidentStatus,
)
from apps.incidents.transitions import transitions_config
from apps.places.models import PlaceKind
from apps.units.models import UnitStatus

FRONTEND_DIR = Path(__file__).resolve().parent
STATIC_DIR = FRONTEND_DIR / "static"
# The app's precached files besides its own directories (django-leaflet's static files).
LEAFLET_FILES = ("leaflet/leaflet.js", "leaflet/leaflet.css")


# --- the app shell -------------------------------------------------------------------------------


def _app_static_files() -> list[str]:
    """Static paths (relative to STATIC_URL) of the app: its own files, the shared modules."""
    found: list[str] = []
    for sub in ("app", "common"):
        base = STATIC_DIR / sub
        if base.is_dir():
            found += sorted(
                p.relative_to(STATIC_DIR).as_posix()
                for p in base.rglob("*")
                if p.is_file() and p.name != "sw.js" and not p.name.startswith(".")
            )
    return found


def _compute_version() -> str:
    digest = hashlib.sha256()
    files = [STATIC_DIR / f for f in _app_static_files()]
    files += [STATIC_DIR / "app" / "sw.js", FRONTEND_DIR / "templates" / "frontend" / "app.html"]
    for file in files:
        if file.is_file():
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    # Settings shown in the shell (tiles, targets) are part of the version too.
    digest.update(json.dumps(_map_config(), sort_keys=True).encode())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _cached_version() -> str:
    return _compute_version()


def app_version() -> str:
    """A short hash of the app's files: changes whenever the app does (DEBUG: recomputed)."""
    return _compute_version() if settings.DEBUG else _cached_version()


def _map_config() -> dict[str, Any]:
    return {
        **map_config(),
        "tileCrs": settings.MAP_TILE_CRS,
        "targets": {
            "acknowledge_s": settings.TARGET_ACKNOWLEDGE_S,
            "arrival_priority_zone_s": settings.TARGET_ARRIVAL_PRIORITY_ZONE_S,
            "arrival_s": settings.TARGET_ARRIVAL_S,
            "short_priorities": list(SHORT_ARRIVAL_PRIORITIES),
        },
    }


def _page_config(request: HttpRequest) -> dict[str, Any]:
    return {
        **_map_config(),
        **transitions_config(),
        "version": app_version(),
        "language": getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
        "timeZone": settings.TIME_ZONE,
    }


def app_page(request: HttpRequest) -> HttpResponse:
    """The patrol app shell. Public: the crew logs in inside the app (API token)."""
    config = _page_config(request)
    config["swUrl"] = "/app/sw.js"
    return render(request, "frontend/app.html", {"config": config})


def app_manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {"src": static("app/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("app/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("app/icons/maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    manifest = {
        "id": "/app/",
        "name": _("Simao 110 patrol"),
        "short_name": _("110 patrol"),
        "description": _("Dispatch alerts, navigation and status for patrol units."),
        "lang": "zh-Hans",
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#000000",
        "theme_color": "#0b3d91",
        "icons": icons,
    }
    response = HttpResponse(
        json.dumps(manifest, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
def app_service_worker(request: HttpRequest) -> HttpResponse:
    precache = ["/app/", "/app/manifest.webmanifest"]
    precache += [static(p) for p in (*_app_static_files(), *LEAFLET_FILES)]
    source = (STATIC_DIR / "app" / "sw.js").read_text(encoding="utf-8")
    source = source.replace('"__VERSION__"', json.dumps(app_version())).replace(
        '"__PRECACHE__"', json.dumps(precache)
    )
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/app/"
    return response


def command_page(request: HttpRequest) -> HttpResponse:
    """The live command map: commanders and dispatchers, logged in with the admin's session."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_command_centre(request.user):
        return HttpResponseForbidden(_("The command map is for commanders and dispatchers."))
    # The CSRF token rides in the JSON config (no inline script, so the page's CSP needs none).
    config = {
        **_page_config(request),
        "csrfToken": get_token(request),
        # Only a commander takes charge of an emergency (apps.field.services).
        "canAcknowledgeEmergency": bool(
            request.user.is_superuser or has_role(request.user, Role.COMMANDER)
        ),
    }
    return render(
        request,
        "frontend/command.html",
        {"config": config, "strings": _command_strings()},
    )


def _command_strings() -> dict[str, Any]:
    return {
        "unitStatus": {str(k): str(v) for k, v in UnitStatus.choices},
        "incidentStatus": {str(k): str(v) for k, v in IncidentStatus.choices},
        "category": {str(k): str(v) for k, v in Category.choices},
        "online": _("Live"),
        "reconnecting": _("Reconnecting…"),
        "offline": _("Offline"),
        "dispatch": _("Dispatch"),
        "escalated": _("Escalated: not acknowledged in time"),
        "breach": _("Arrival target missed"),
        "remaining": _("left"),
        "overdue": _("over"),
        "ago": _("ago"),
        "noPosition": _("no position"),
        "freeUnits": _("Free units by straight-line distance (no ETA from the server)"),
        "recommended": _("Recommended units"),
        "close": _("Close"),
        "refused": _("Refused"),
        "dispatched": _("Dispatched"),
        "units": _("units"),
        "incidents": _("open incidents"),
        "noHeartbeat": _("no heartbeat from the phone"),
        "heartbeat": _("phone"),
        "queued": _("queued"),
        "layerCells": _("Grid cells"),
        # Leaflet's layer control says "Layers" unless told otherwise.
        "layersTitle": _("Map layers"),
        "layerPoints": _("Staging points"),
        "layerStations": _("Police stations"),
        "coverageNow": _("Covered in time by a free unit: %(now)s; after the moves: %(after)s"),
        "uncovered": _("Not covered now: %(points)s"),
        "moveUp": _("%(unit)s: from %(from)s to stand at %(to)s (%(eta)s min)"),
        "noMoveUp": _("Every staging point's area is covered."),
        "noMoveUpPossible": _("No free unit can close the gap."),
        "listSeparator": _(", "),
        # the call-taker's console
        "placeKind": {str(k): str(v) for k, v in PlaceKind.choices},
        "closeReason": {str(k): str(v) for k, v in CloseReason.choices},
        "field": {
            "category": _("Category"),
            "priority": _("Priority"),
            "location": _("Location"),
            "address": _("Address"),
            "description": _("Description"),
            "caller_name": _("Caller name"),
            "caller_phone": _("Caller phone"),
            "call": _("Call"),
            "reason": _("Reason"),
            "text": _("Note"),
            "unit": _("Unit"),
        },
        "newCall": _("New call"),
        "takingCall": _("Call from"),
        "takeCall": _("Take (F2)"),
        "unknownCaller": _("number withheld"),
        "noPin": _("No location yet: pick an address, or click the map."),
        "pin": _("Location of the incident (drag to move)"),
        "gridCell": _("Grid cell"),
        "outsideGrid": _("outside the grid"),
        "station": _("Station"),
        "stagingPoint": _("Nearest staging point"),
        "nearPlace": _("Nearest place"),
        # The page fills in %(n)s and %(days)s (historyDays: the server's CALL_HISTORY_DAYS).
        "callerHistory": _("This number's earlier calls (%(n)s) and incidents, last %(days)s days"),
        "noHistory": _("No earlier calls from this number in %(days)s days."),
        "historyDays": settings.CALL_HISTORY_DAYS,
        "callClosed": _("call closed"),
        "nearbyIncidents": _("Incidents near the pin: the same event? Link the call instead"),
        "noNearby": _("No open or recent incident near the pin."),
        "linkCall": _("Link this call to it"),
        "linked": _("the call is linked to the incident"),
        "noFreeUnit": _("No free unit: record the call, and dispatch when one is free."),
        "needPin": _("Place the pin."),
        "needAddress": _("Give the address."),
        "needCategory": _("Pick a category (1–5)."),
        "sending": _("Sending…"),
        "saved": _("recorded, not dispatched"),
        "callTakenElsewhere": _("Another call-taker has taken this call."),
        "soundOn": _("🔔 Sound on"),
        "soundOff": _("🔇 Sound off — click to turn on"),
        "soundOnHint": _("New calls, escalations and missed arrivals sound an alarm."),
        "soundOffHint": _(
            "The browser plays sound only after a click on the page: click here, or alarms are "
            "silent."
        ),
        "sendAnother": _("Send another unit"),
        "addNote": _("Add a note"),
        "showNumber": _("Show the full number (logged)"),
        "reasonPrompt": _("Reason"),
        "notePrompt": _("Note"),
        "send": _("Send"),
        "timeline": _("Timeline"),
        "noTransfers": _("None."),
        "eventKind": {k: str(v) for k, v in EVENT_KIND_LABELS.items()},
        # the units on an incident: the primary and its backups (增援)
        "assignmentRole": {str(k): str(v) for k, v in AssignmentRole.choices},
        "assignmentStatus": {str(k): str(v) for k, v in AssignmentStatus.choices},
        "unitsOnIncident": _("Units on the incident"),
        "release": _("Release"),
        "releasePrompt": _("Reason for the release (optional)"),
        "sendBackup": _("Backup: send another unit"),
        "backupRanked": _("Backup: free units by travel time"),
        "noneFree": _("No free unit now."),
        "eliteSquad": _("Elite squad (尖刀队) by travel time"),
        "eliteSquadUnits": _("Elite squad (尖刀队)"),
        "waitingForCommander": _("Waiting for a commander to take charge"),
        "divert": _("Divert"),
        "divertTitle": _("Urgent: units on their way to a priority-3 incident"),
        "divertFrom": _("leaves %(number)s"),
        "divertPrompt": _("Why divert (the other incident goes back to the queue)"),
        "urgent": _("urgent"),
        "photo": _("photo"),
        "photos": _("Photos from the scene"),
        "openEmergencyIncident": _("Open an incident here and send help"),
        "sent": _("sent"),
        # the crews' backup requests (请求增援)
        "backupAsk": _("%(unit)s asks for %(count)s more unit(s)"),
        "commandCentre": _("the command centre"),
        # the emergency button (一键求助)
        "emergency": _("EMERGENCY"),
        "emergencyText": _("%(unit)s pressed the emergency button at %(time)s"),
        "presses": _("pressed %(n)s times"),
        "working": _("working %(number)s"),
        "positionUnknown": _("position unknown"),
        "nearestFree": _("Nearest free units"),
        "showOnMap": _("Show on map"),
        "acknowledgeEmergency": _("Acknowledge: I take charge"),
        "emergencyAcknowledged": _("%(unit)s's emergency acknowledged by %(user)s"),
    }


def home(request: HttpRequest) -> HttpResponse:
    """The site's root (and the admin's "view site"): each role to its own screen — the command
    centre to the command map, crews to the patrol app, everyone else (and the logged-out) to
    the admin's login and index."""
    user = request.user
    if is_command_centre(user):
        return redirect("command-map")
    if user.is_authenticated and has_role(user, *UNIT_CREW_ROLES):
        return redirect("patrol-app")
    return redirect("admin:index")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every site for /favicon.ico: the app's icon (not a 404 in every log)."""
    response = HttpResponsePermanentRedirect(static("app/icons/icon-192.png"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("app/", app_page, name="patrol-app"),
    path("app/manifest.webmanifest", app_manifest, name="patrol-app-manifest"),
    path("app/sw.js", app_service_worker, name="patrol-app-sw"),
    path("command/", command_page, name="command-map"),
]
