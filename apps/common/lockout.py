"""Login lockout (django-axes) for every login over HTTP: the admin and POST /api/auth/token/."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check for every login over HTTP (admin and POST /api/auth/token/).

    `authenticate()` without a request (a shell, a management command, a test) has no client to
    lock out and is passed on to the next backend.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """429 for a locked-out client: JSON for the API, a short page for the admin."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts. Try again in %(minutes)d minutes "
        "or ask a commander to unlock the account."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": message, "code": "locked_out"},
            status=429,
            headers={"Retry-After": str(minutes * 60)},
        )
    return HttpResponse(
        f"<!doctype html><title>429</title><p>{escape(message)}</p>",
        status=429,
        headers={"Retry-After": str(minutes * 60)},
    )
