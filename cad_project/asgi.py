"""ASGI entry point for daphne: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cad_project.settings.base")

# Django must be set up before importing consumers (they import models).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from cad_project import embedded  # noqa: E402
from cad_project.routing import websocket_application  # noqa: E402

application = embedded.wrap(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(websocket_application()),
        }
    )
)

# The garbage collector, measured under the alert benchmark (N = 1,000, R = 10; 1 Dec 2026): a
# full collection walked the ~350,000 objects of the loaded project (200,000 of them the lists of
# pypinyin's phrase table) besides the sockets' state: 130-340 ms of CPU each, the process
# stopped meanwhile. At the default threshold (700) the objects of the messages in flight were
# promoted to the old generation, and the websocket process made 2-5 full collections a run.
# Frozen, the loaded project is never walked again; with young collections after 10,000 objects
# the websocket process collected nothing during the 30 s of dispatches, and an API process
# collected about once a second, 5-15 ms of CPU each.
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 10, 10)
