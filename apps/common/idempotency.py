"""Server-side idempotency for actions replayed by the patrol app (the `Idempotency-Key` header).

The app queues the actions a crew takes in a dead zone and replays them in order when the network
returns. A request may have reached the server even though its answer never reached the phone; the
replay must then not apply the action a second time. So: a POST carrying `Idempotency-Key` claims
the key for its user in the same transaction as the action; its status code and body are stored;
a later request with the same key (same user) gets the stored answer without running the view.

Usage, on a DRF APIView (wraps its `post`), one line per view:

    @idempotent
    class IncidentArriveView(_TransitionView): ...

or on a handler method: `@idempotent` above `def post(self, request, ...)`.

Rules:
- Without the header the view runs as usual.
- Answers below 500 are stored, refusals (400, 403, 409) included, so a replay sees what the first
  attempt saw. A 5xx (or an unhandled exception) rolls the claim back: the client may retry.
- Two requests with the same key at once: the second waits for the first's transaction (unique
  index) and then gets its stored answer.
- A key reused for a different path is refused with 422 (`idempotency_key_reused`).
- Replayed answers carry `Idempotent-Replayed: true`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces: UUIDs, ULIDs and the like.
_KEY_RE = re.compile(r"^[!-~]{1,100}$")

Handler = Callable[..., Response]
T = TypeVar("T")


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _replay(record: IdempotencyRecord, request: Request) -> Response:
    if record.path != request.path or record.method != request.method:
        return Response(
            {
                "detail": _("This Idempotency-Key was already used for another request."),
                "code": "idempotency_key_reused",
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(record.body, status=record.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


def _wrap(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.headers.get(HEADER)
        user = request.user
        if raw is None or not user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        key = raw.strip()
        if not _KEY_RE.match(key):
            return Response(
                {HEADER: [_("Up to 100 printable characters without spaces.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=user,
                        key=key,
                        method=request.method or "POST",
                        path=request.path[:300],
                        status_code=0,
                    )
            except IntegrityError:
                # The key was used before (or a concurrent request with it just committed).
                stored = IdempotencyRecord.objects.get(user=user, key=key)
                return _replay(stored, request)
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:
                # Turn refusals (409, 400, 403…) into their answers so they are stored too; the
                # action's own savepoint has already been rolled back. Anything DRF does not
                # handle is re-raised here and rolls the claim back with it.
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.body = _jsonable(getattr(response, "data", None))
            record.save(update_fields=["status_code", "body"])
        return response

    return wrapper


def idempotent(target: T) -> T:
    """Make a view's POST idempotent per `Idempotency-Key` (class decorator or method decorator)."""
    if isinstance(target, type):
        target.post = _wrap(target.post)  # type: ignore[attr-defined]
        return target
    return _wrap(target)  # type: ignore[arg-type, return-value]


def idempotency_prune(*, older_than: datetime) -> int:
    """Delete records created before a moment (keys only need to outlive the app's queue)."""
    deleted, _detail = IdempotencyRecord.objects.filter(created_at__lt=older_than).delete()
    return deleted
