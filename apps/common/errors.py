"""Domain error types and the API's mapping of errors to HTTP answers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A rule of the dispatch model refused the operation (answered as 409 Conflict)."""

    code = "conflict"

    def __init__(self, message: str, *, code: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.context = context


class IllegalTransition(DomainError):
    """A state change that the lifecycle does not allow from the current state."""

    code = "illegal_transition"


class UnitBusy(DomainError):
    code = "unit_busy"


class ImplausibleTime(Exception):
    """A time a client reported cannot be when it happened (answered as 422, per field)."""

    code = "implausible_time"

    def __init__(self, message: str, *, field: str = "occurred_at") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        body.update({k: v for k, v in exc.context.items() if isinstance(v, str | int | None)})
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ImplausibleTime):
        return Response(
            {exc.field: [exc.message], "code": exc.code},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"non_field_errors": [str(exc.detail)], "code": "parse_error"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The transaction was rolled back; the client may retry.
        response = Response(
            {"detail": _("The database is unavailable; nothing was written. Retry shortly.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "2"
        return response
    return exception_handler(exc, context)


def not_found(request: Any, exception: Exception | None = None) -> Any:
    """handler404: the API answers an unknown URL in JSON like its other errors; pages get
    Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return page_not_found(request, exception or Exception())
