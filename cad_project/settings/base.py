"""Settings for every environment; values come from the environment (see README).

With nothing set, the system runs on embedded defaults: a SQLite file under var/, the in-memory
channel layer, and Celery tasks run in-process. REDIS_URL switches the channel layer, the Celery
broker/result backend and the cache to Redis; DATABASE_URL=postgres://… switches to PostgreSQL.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import (
    database_config,
    env_bool,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_opt,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

# The key `make demo` and the tests use. Production refuses to start with it.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_opt("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY for production, or DEBUG=1 for development."
        )
    SECRET_KEY = DEV_SECRET_KEY
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("The development SECRET_KEY cannot be used with DEBUG off.")
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "leaflet",
    "djgeojson",
    "import_export",
    "axes",
    "csp",
    # Lowest layer first (pyproject.toml's import-linter contract states the layers).
    "apps.common",
    "apps.units",
    "apps.places",
    "apps.calls",
    "apps.incidents",
    "apps.personnel",
    "apps.training",
    "apps.realtime",
    "apps.field",
    "apps.stats",
    "apps.audit",
    "apps.planning",
    "apps.demo",
    "frontend",
]

MIDDLEWARE = [
    # First: REMOTE_ADDR becomes the client's address behind TRUSTED_PROXIES (the lockout's key).
    "apps.common.security.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.common.security.CadCSPMiddleware",
    # Before anything reads the query string or the form: NUL in either is a 400.
    "apps.common.security.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login (admin or POST /api/auth/token/) into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cad_project.urls"
ASGI_APPLICATION = "cad_project.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cad_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_opt("DATABASE_URL")
if DATABASE_URL:
    _db = database_config(DATABASE_URL)
else:
    VAR_DIR.mkdir(exist_ok=True)
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "cad.sqlite3")}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the demo's server and timer threads write without
    # "database is locked" errors; IMMEDIATE makes write transactions take the lock up front.
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Daphne runs each HTTP request in a thread of its own, so a persistent connection
    # (CONN_MAX_AGE > 0) is one more PostgreSQL connection per thread ever started: the alert
    # benchmark exhausted max_connections (100) that way within a minute and answered 503. A pool
    # per process (psycopg_pool, Django's "pool" option) bounds them and still saves the connect.
    # DB_POOL_MAX_SIZE=0 turns it off (then DB_CONN_MAX_AGE applies, default 0).
    _pool_max = env_int("DB_POOL_MAX_SIZE", 10)
    if _pool_max > 0:
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(env_int("DB_POOL_MIN_SIZE", 1), _pool_max),
            "max_size": _pool_max,
            # How long a request waits for a free connection before it fails (503, retry).
            "timeout": env_float("DB_POOL_TIMEOUT_S", 10.0),
        }
        _db["CONN_MAX_AGE"] = 0
    else:
        _db.setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 0))
    # With the pool, Django passes this on as the pool's check: a connection the server dropped
    # while idle is replaced at checkout, not handed to a request.
    _db.setdefault("CONN_HEALTH_CHECKS", True)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery, cache ---------------------------------------------------
REDIS_URL = env_opt("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same as the
                # channel layer's blocking BZPOPMIN: a consumer whose wait lost that race died
                # with TimeoutError (bench: 34 of 100 unit sockets). Read longer than it blocks.
                # redis-py 8 also caps a pool at 100 connections and fails at once beyond:
                # with 1,000 unit sockets consumers died with MaxConnectionsError (bench).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cad",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # No broker server: tasks run in the calling process. Deadlines do not depend on Celery;
    # the database sweeper runs in-process in the embedded setup (see apps/common/timers.py).
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_ACKS_LATE = True
# Unacknowledged tasks (a killed worker's) are redelivered after this long. Deadlines do not
# depend on it: the database sweeper fires them; a redelivered timer task finds them fired.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 3600)
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
# Periodic tasks (exactly one `celery beat`). Each app's entries are listed here.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Statistics aggregates (apps/stats/tasks.py): today and yesterday every 5 minutes; the
    # last 8 days every 6 hours, picking up late transfers and corrections.
    "stats-rollup-recent": {
        "task": "incidents.stats_rollup_recent",
        "schedule": 300.0,
        "kwargs": {"days": 2},
    },
    "stats-rollup-week": {
        "task": "incidents.stats_rollup_recent",
        "schedule": 6 * 3600.0,
        "kwargs": {"days": 8},
    },
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
AUTHENTICATION_BACKENDS = [
    "apps.common.lockout.LockoutBackend",  # django-axes: refuses locked-out clients first
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout after AXES_FAILURE_LIMIT failed logins of one username from one IP address, for
# AXES_COOLOFF_MINUTES. Behind a proxy, list it in TRUSTED_PROXIES so the client's address is seen
# (and run daphne without --proxy-headers, which believes X-Forwarded-For from anyone).
# A commander (superuser) can unlock early in the admin (Axes → access attempts).
# The proxies whose X-Forwarded-For is believed: addresses or networks, or `unix` for the peer
# of daphne's unix socket. Default none: the header is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        if _proxy != "unix":
            ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address") from _exc
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.common.lockout.lockout_response"
AXES_VERBOSE = False
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 24)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.common.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a bound on nesting (a deep body is a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "apps.common.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Simao CAD API",
    "DESCRIPTION": "110 接处警: intake, dispatch, unit status and statistics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the project's static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # The error answers (400/401/403/404/409/429) of every endpoint, documented once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.openapi.add_error_responses",
    ],
}

# --- I18N / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Tamper evidence of the timeline (apps/incidents/timeline.py, docs/security.md) ----------
# The HMAC key of the event chains: from the environment, never stored in the database. Without
# it, one is derived from SECRET_KEY (also never in the database). After a rotation, the old keys
# stay listed in TIMELINE_OLD_KEYS ("id:key,id:key") so that older events still verify.
TIMELINE_KEY_ID = env_str("TIMELINE_KEY_ID", "k1")
TIMELINE_KEY = (
    env_str("TIMELINE_KEY", "")
    or hashlib.sha256(("cad-timeline:" + SECRET_KEY).encode()).hexdigest()
)
TIMELINE_OLD_KEYS = env_str("TIMELINE_OLD_KEYS", "")
# Signed checkpoints of every stream head, appended outside the database (by beat).
TIMELINE_CHECKPOINT_FILE = env_str(
    "TIMELINE_CHECKPOINT_FILE", str(VAR_DIR / "timeline-checkpoints.jsonl")
)
TIMELINE_CHECKPOINT_S = env_float("TIMELINE_CHECKPOINT_S", 300.0)

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Every app's static/ folder, the frontend app's included (AppDirectoriesFinder).
STATICFILES_DIRS: list[Path] = []
WHITENOISE_USE_FINDERS = DEBUG
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
# The crews' photos (apps/field): never under MEDIA_URL — every download goes through the
# incident's access check. A folder by default; any Django storage class by configuration, e.g.
# an S3-compatible store with django-storages: ATTACHMENT_STORAGE_BACKEND=
# storages.backends.s3.S3Storage and its options as JSON in ATTACHMENT_STORAGE_OPTIONS.
_attachment_backend = env_str(
    "ATTACHMENT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
)
STORAGES["attachments"] = {
    "BACKEND": _attachment_backend,
    "OPTIONS": env_json_object("ATTACHMENT_STORAGE_OPTIONS")
    or (
        {"location": env_str("ATTACHMENT_ROOT", str(VAR_DIR / "attachments"))}
        if _attachment_backend.endswith("FileSystemStorage")
        else {}
    ),
}
# The largest photo accepted (bytes); Pillow also refuses images of more than this many pixels.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_PIXELS = env_int("ATTACHMENT_MAX_PIXELS", 50_000_000)
ATTACHMENT_THUMBNAIL_PX = env_int("ATTACHMENT_THUMBNAIL_PX", 320)
# A photo queued offline may reach the server after the incident closed: taken up to this late.
ATTACHMENT_LATE_H = env_float("ATTACHMENT_LATE_H", 12)

# --- Map ------------------------------------------------------------------------------------
# The base map comes from the local network only (a police intranet has no internet):
# - MAP_TILES_FILE: an MBTiles file of raster tiles that daphne serves itself at /tiles/z/x/y;
# - MAP_TILE_URL: any intranet XYZ/WMTS service (PGIS), e.g. http://pgis.local/tiles/{z}/{x}/{y}.png;
# - neither: the pages draw the gazetteer's roads and places, the stations and the grid as the base.
# MAP_TILE_CRS=gcj02 for tiles in GCJ-02 (Gaode/AMap, Tencent and many PGIS); wgs84 otherwise.
MAP_TILES_FILE = env_str("MAP_TILES_FILE", "")
MAP_TILE_URL = env_str("MAP_TILE_URL", "/tiles/{z}/{x}/{y}" if MAP_TILES_FILE else "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
MAP_TILE_CRS = env_str("MAP_TILE_CRS", "wgs84")
if MAP_TILE_CRS not in ("wgs84", "gcj02"):
    raise ImproperlyConfigured("MAP_TILE_CRS must be 'wgs84' or 'gcj02'.")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (22.78, 100.975),
    "DEFAULT_ZOOM": 13,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    # No tile layer without a local source (the admin's map widgets then draw on a plain ground).
    "TILES": [("map", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION, "maxZoom": 19})]
    if MAP_TILE_URL
    else [],
    "RESET_VIEW": False,
}


def _tile_source(url: str) -> str:
    """The CSP source of the tile server: scheme://host, a `{s}` subdomain label as `*`; the
    project itself for its own tiles (a path) or none."""
    parts = urlsplit(url)
    if not parts.netloc:
        return "'self'"
    labels = parts.netloc.split(".")
    if any("{" in label for label in labels):
        # CSP wildcards replace whole leftmost labels only.
        last = max(i for i, label in enumerate(labels) if "{" in label)
        labels = ["*", *labels[last + 1 :]]
    return f"{parts.scheme}://{'.'.join(labels)}"


# --- Content-Security-Policy (django-csp; apps/common/security.py adds the page's ws origins) ---
MAP_TILE_SOURCE = _tile_source(MAP_TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # Pages we render put a per-request nonce on their inline scripts (django-leaflet too).
        "script-src": ["'self'", NONCE],
        # Leaflet and the admin position elements with style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", MAP_TILE_SOURCE],
        "connect-src": ["'self'", MAP_TILE_SOURCE],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Path prefixes whose pages carry inline scripts without a nonce, with the directives replaced
# there (see the README's Security section): the admin's read-only maps and the incident
# location map, and the API docs' Swagger UI (from a CDN).
CSP_RELAXED_PREFIXES: dict[str, dict[str, list[str]]] = {
    "/admin/": {"script-src": ["'self'", "'unsafe-inline'"]},
    "/api/docs/": {
        # Swagger UI from the sidecar's static files; its start-up script is a page of its own.
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
    },
}

# --- Dispatch model parameters --------------------------------------------------------------
# Travel-time estimate: great-circle distance × detour factor ÷ urban speed.
DISPATCH_ROAD_DETOUR_FACTOR = env_float("DISPATCH_ROAD_DETOUR_FACTOR", 1.35)
DISPATCH_URBAN_SPEED_KMH = env_float("DISPATCH_URBAN_SPEED_KMH", 30.0)
# A unit position older than this is not trusted; its staging point is used instead.
DISPATCH_POSITION_MAX_AGE_S = env_int("DISPATCH_POSITION_MAX_AGE_S", 120)
# "router" backend: "straight_line" or "osrm" (then OSRM_URL is required).
DISPATCH_ROUTER = env_str("DISPATCH_ROUTER", "straight_line")
OSRM_URL = env_opt("OSRM_URL")
OSRM_TIMEOUT_S = env_float("OSRM_TIMEOUT_S", 2.0)
DISPATCH_AUTO = env_bool("DISPATCH_AUTO", False)
# How many ranked units the intake answer lists.
DISPATCH_RECOMMENDATIONS = env_int("DISPATCH_RECOMMENDATIONS", 8)
# Unit position reports: breadcrumbs kept per unit, at most one stored per interval, and how
# far in the future (clock skew) a report's recorded_at may be.
POSITION_FIX_KEEP = env_int("POSITION_FIX_KEEP", 500)
POSITION_FIX_MIN_INTERVAL_S = env_int("POSITION_FIX_MIN_INTERVAL_S", 5)
POSITION_MAX_FUTURE_S = env_int("POSITION_MAX_FUTURE_S", 60)
# A crew action's reported time (occurred_at) may lie this far outside [previous step, now] (the
# phone's clock against the server's); it is then clamped into it. Farther out: refused (422).
ACTION_CLOCK_SKEW_S = env_int("ACTION_CLOCK_SKEW_S", 60)

# The call-taker's console (issue 12). A reported call older than CALL_REPORT_MAX_AGE_S is refused
# (422); the console offers ringing calls for CALL_RINGING_SHOW_S; before dispatch it shows the
# caller's calls of the last CALL_HISTORY_DAYS and the incidents within CALL_NEARBY_RADIUS_M of the
# pin that are open or were received in the last CALL_NEARBY_MINUTES.
CALL_REPORT_MAX_AGE_S = env_int("CALL_REPORT_MAX_AGE_S", 3600)
CALL_RINGING_SHOW_S = env_int("CALL_RINGING_SHOW_S", 900)
CALL_HISTORY_DAYS = env_int("CALL_HISTORY_DAYS", 90)
CALL_NEARBY_RADIUS_M = env_int("CALL_NEARBY_RADIUS_M", 300)
CALL_NEARBY_MINUTES = env_int("CALL_NEARBY_MINUTES", 30)
# An incident located farther than this from every grid cell and station jurisdiction is refused
# (a mistyped or default position, or a call for another city's 110): no unit of ours can reach it.
SERVICE_AREA_MARGIN_KM = env_int("SERVICE_AREA_MARGIN_KM", 30)
# The 1-3-5 minute targets.
TARGET_ACKNOWLEDGE_S = env_int("TARGET_ACKNOWLEDGE_S", 60)
TARGET_ARRIVAL_PRIORITY_ZONE_S = env_int("TARGET_ARRIVAL_PRIORITY_ZONE_S", 180)
TARGET_ARRIVAL_S = env_int("TARGET_ARRIVAL_S", 300)
# The 2/3 street, 1/3 training rule: the fewest people a staging point's shift keeps on the street.
MIN_CREW_ON_STREET = env_int("MIN_CREW_ON_STREET", 2)
# Shift boundaries (hour of day, Asia/Shanghai) for shifts 1, 2, 3.
SHIFT_START_HOURS = [int(h) for h in env_list("SHIFT_START_HOURS", ["8", "16", "0"])]
if len(SHIFT_START_HOURS) != 3 or any(not 0 <= h < 24 for h in SHIFT_START_HOURS):
    raise ImproperlyConfigured("SHIFT_START_HOURS must be three hours of day, e.g. 8,16,0.")

# --- SMS (escalations reach phones without Web Push, which does not work in mainland China) ----
SMS_BACKEND = env_str("SMS_BACKEND", "apps.common.sms.FileBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(VAR_DIR / "sms.jsonl"))
SMS_GATEWAY_URL = env_opt("SMS_GATEWAY_URL")
SMS_GATEWAY_KEY = env_str("SMS_GATEWAY_KEY", "")
SMS_GATEWAY_TEMPLATE = env_str(
    "SMS_GATEWAY_TEMPLATE", '{{"to": {phone}, "text": {text}, "from": {sender}}}'
)
SMS_GATEWAY_TIMEOUT_S = env_float("SMS_GATEWAY_TIMEOUT_S", 5.0)
SMS_SENDER = env_str("SMS_SENDER", "110指挥中心")

# --- Real-time delivery and timers ------------------------------------------------------------
# An alert without a delivery receipt is re-sent this often while the unit is connected.
ALERT_RESEND_S = env_int("ALERT_RESEND_S", 10)
# A reconnecting client that missed more than this many notices gets a snapshot instead.
NOTICE_CATCHUP_MAX = env_int("NOTICE_CATCHUP_MAX", 200)
NOTICE_RETENTION_HOURS = env_int("NOTICE_RETENTION_HOURS", 48)
# The database deadline sweeper's period (Celery beat, or in-process in the embedded setup).
DEADLINE_SWEEP_S = env_float("DEADLINE_SWEEP_S", 2.0)
# Every daphne process sweeps too (one at a time), so no timer waits on a Celery worker or Redis.
DEADLINE_SWEEP_IN_WEB = env_bool("DEADLINE_SWEEP_IN_WEB", True)
# When the acknowledge deadline is missed, dispatch the next-ranked free unit.
ESCALATION_REDISPATCH = env_bool("ESCALATION_REDISPATCH", True)
# Re-dispatch only to a unit whose phone reported within this many seconds (it posts every 30 s).
ESCALATION_HEARTBEAT_MAX_AGE_S = env_int("ESCALATION_HEARTBEAT_MAX_AGE_S", 90)
# Texts per escalation at most: the silent unit's crew on the current shift first, then commanders.
ESCALATION_SMS_MAX = env_int("ESCALATION_SMS_MAX", 6)
# How many free units a backup request or an emergency offers, nearest first.
BACKUP_RANKED = env_int("BACKUP_RANKED", 5)
WS_MAX_FRAME_BYTES = env_int("WS_MAX_FRAME_BYTES", 16384)

# --- Production hardening -------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to the browsers' HSTS list: an opt-in
        # (SECURE_HSTS_PRELOAD=1), so leaving it off is not a deploy-check warning.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Phone and ID-card numbers never reach a log (apps/common/security.py).
    "filters": {"personal_data": {"()": "apps.common.security.PersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

CELERY_IMPORTS = [
    "apps.realtime.tasks",
    "apps.stats.tasks",
    "apps.audit.tasks",
    "apps.common.tasks",
]
CELERY_BEAT_SCHEDULE.update(
    {
        # The safety net of the 1-3-5 minute timers (apps/realtime/tasks.py).
        "deadlines-sweep": {
            "task": "apps.incidents.deadline_tasks.deadlines_sweep_task",
            "schedule": DEADLINE_SWEEP_S,
        },
        "notices-prune": {"task": "apps.common.tasks.notices_prune_task", "schedule": 3600.0},
        # Signed checkpoints of the timeline outside the database (apps/audit/checkpoints.py).
        "timeline-checkpoint": {
            "task": "incidents.timeline_checkpoint",
            "schedule": TIMELINE_CHECKPOINT_S,
        },
    }
)
