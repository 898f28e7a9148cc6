"""What the command centre's consoles are told about calls (published to the command audience).

The frames carry the caller's full number: they go only to the command centre's websocket, where
the call-taker needs it to answer the call and to see the caller's earlier calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.common.notices import COMMAND, Payload, publish

from .models import Call


def call_brief(call: Call) -> dict[str, Any]:
    location = None
    if call.lat is not None and call.lon is not None:
        location = {"lat": call.lat, "lon": call.lon, "accuracy_m": call.accuracy_m}
    return {
        "id": call.pk,
        "caller_phone": call.caller_phone,
        "line": call.line,
        "received_at": call.received_at.isoformat(),
        "location": location,
        "status": call.status,
        "incident_id": call.incident_id,
    }


@dataclass(frozen=True)
class CallRinging(Payload):
    """A call is ringing: the consoles offer to take it."""

    type = "call.ringing"
    call: dict[str, Any]


@dataclass(frozen=True)
class CallUpdated(Payload):
    """A call was taken or closed: the consoles take it off their ringing list."""

    type = "call.updated"
    call_id: int
    status: str
    incident_id: int | None
    close_reason: str


def notify_call_ringing(call: Call) -> None:
    publish(COMMAND, CallRinging(call=call_brief(call)))


def notify_call_updated(call: Call) -> None:
    publish(
        COMMAND,
        CallUpdated(
            call_id=call.pk,
            status=call.status,
            incident_id=call.incident_id,
            close_reason=call.close_reason,
        ),
    )
