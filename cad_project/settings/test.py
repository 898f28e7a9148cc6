"""Test settings: the same as base, with a test key and a fast password hasher.

DATABASE_URL and REDIS_URL are honoured, so CI runs the suite on PostgreSQL and Redis.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("SMS_BACKEND", "apps.common.sms.LocmemBackend")

from .base import *  # noqa: F403
from .env import env_bool

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
LOGGING["root"] = {"handlers": ["console"], "level": "WARNING"}  # noqa: F405

# The crews' photos in a folder of this run only, removed by the process that made it (a browser
# test's daphne inherits the path).
if "ATTACHMENT_ROOT" not in os.environ:
    os.environ["ATTACHMENT_ROOT"] = tempfile.mkdtemp(prefix="cad-attachments-")
    atexit.register(shutil.rmtree, os.environ["ATTACHMENT_ROOT"], ignore_errors=True)
STORAGES["attachments"]["OPTIONS"] = {"location": os.environ["ATTACHMENT_ROOT"]}  # noqa: F405

# Serve static files from the apps in tests (no collectstatic), and keep WhiteNoise quiet.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405

# Celery runs tasks in the test process (no worker) unless a test's own processes say otherwise
# (the end-to-end harness runs real workers with CELERY_EAGER=0).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_EAGER", True)

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # The test runner flushes the database between tests with TRUNCATE, which the timeline
    # refuses (apps/incidents/migrations/0006): allowed on the tests' own connections only.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c cad.allow_truncate=on"  # noqa: F405
