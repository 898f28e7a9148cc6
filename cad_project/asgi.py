"""ASGI entry point for daphne: HTTP through Django, websockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cad_project.settings.base")

# Django must be set up before importing consumers (they import models).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.common.ws import WebsocketAuthStack  # noqa: E402
from cad_project import embedded  # noqa: E402
from cad_project.routing import websocket_urlpatterns  # noqa: E402

application = embedded.wrap(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                WebsocketAuthStack(URLRouter(websocket_urlpatterns))
            ),
        }
    )
)
