"""The one table of the incident lifecycle's transitions.

Who may do what, from which states, to which state, under which label and REST path, and which
status it gives the unit. The services check against it (`require_from`), the API builds its
routes from it, the admin draws its buttons from it, and the pages receive it in their config
(`transitions_config`), so a rule is written once.

received → dispatched → acknowledged → en_route → on_scene → resolved_on_scene
                                                           ↘ transfer_pending → transfer_received
cancelled from any open state; unassign takes the unit off (dispatched/acknowledged/en_route) and
puts the incident back to received for another dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.units.models import UnitStatus

from .models import OPEN_STATUSES, OWNED_STATUSES, IncidentStatus

S = IncidentStatus


class Actor(StrEnum):
    """Who may start a transition."""

    COMMAND = "command"  # the command centre: commander or dispatcher
    CREW = "crew"  # the crew of the unit that owns the incident (the command centre on its behalf)
    STATION = "station"  # a user of the receiving station


@dataclass(frozen=True)
class Transition:
    action: str
    label: Promise
    path: str  # /api/incidents/{id}/<path>/
    from_states: frozenset[str]
    to_state: str
    actor: Actor
    fields: tuple[str, ...] = ()  # what the request body must carry
    unit_status: str | None = None  # the unit's status after it (None: unchanged)
    doc: str = ""  # the API documentation's summary

    def as_config(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "label": str(self.label),
            "path": self.path,
            "from": sorted(self.from_states),
            "to": self.to_state,
            "actor": str(self.actor),
            "fields": list(self.fields),
            "unitStatus": self.unit_status,
        }


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "dispatch",
        _("dispatch"),
        "dispatch",
        frozenset({S.RECEIVED}),
        S.DISPATCHED,
        Actor.COMMAND,
        ("unit",),
        UnitStatus.DISPATCHED,
        doc="Dispatch a unit",
    ),
    Transition(
        "acknowledge",
        _("acknowledge"),
        "acknowledge",
        frozenset({S.DISPATCHED}),
        S.ACKNOWLEDGED,
        Actor.CREW,
        doc="The crew acknowledges the dispatch",
    ),
    Transition(
        "en_route",
        _("set en route"),
        "en-route",
        frozenset({S.ACKNOWLEDGED}),
        S.EN_ROUTE,
        Actor.CREW,
        (),
        UnitStatus.EN_ROUTE,
        doc="The unit sets off",
    ),
    Transition(
        "arrive",
        _("mark arrived"),
        "arrive",
        frozenset({S.EN_ROUTE}),
        S.ON_SCENE,
        Actor.CREW,
        (),
        UnitStatus.ON_SCENE,
        doc="The unit is on scene",
    ),
    Transition(
        "resolve",
        _("resolve"),
        "resolve",
        frozenset({S.ON_SCENE}),
        S.RESOLVED_ON_SCENE,
        Actor.CREW,
        ("summary",),
        UnitStatus.PATROLLING,
        doc="Resolved on scene",
    ),
    Transition(
        "transfer",
        _("transfer"),
        "transfer",
        frozenset({S.ON_SCENE}),
        S.TRANSFER_PENDING,
        Actor.CREW,
        ("reason",),
        UnitStatus.PATROLLING,
        doc="Transfer to a police station",
    ),
    Transition(
        "receive_transfer",
        _("receive the transfer of"),
        "receive-transfer",
        frozenset({S.TRANSFER_PENDING}),
        S.TRANSFER_RECEIVED,
        Actor.STATION,
        doc="The receiving station confirms receipt",
    ),
    Transition(
        "cancel",
        _("cancel"),
        "cancel",
        frozenset(OPEN_STATUSES),
        S.CANCELLED,
        Actor.COMMAND,
        ("reason",),
        UnitStatus.PATROLLING,
        doc="Cancel an open incident",
    ),
    # On scene the unit handles the call; it ends by resolving or transferring, not by swapping.
    Transition(
        "unassign",
        _("take the unit off"),
        "unassign",
        frozenset({S.DISPATCHED, S.ACKNOWLEDGED, S.EN_ROUTE}),
        S.RECEIVED,
        Actor.COMMAND,
        ("reason",),
        UnitStatus.PATROLLING,
        doc="Take the unit off the incident (reassignment)",
    ),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


def _unit_status_of() -> dict[str, str]:
    """The unit's status while it owns an incident in each state (the app shows it before the
    server's answer arrives): the one the transition into the state sets, or, where it sets
    none (acknowledge), the one of the state it came from."""
    of: dict[str, str] = {}
    for status in OWNED_STATUSES:
        step = next(t for t in TRANSITIONS if t.to_state == status)
        of[status] = step.unit_status or of[next(iter(step.from_states))]
    return of


UNIT_STATUS_OF: dict[str, str] = _unit_status_of()

CLOSED_STATUSES: tuple[str, ...] = tuple(s for s in S.values if s not in OPEN_STATUSES)


def actions_from(status: str, *, actor: Actor | None = None) -> list[Transition]:
    """The transitions that may start from `status` (optionally of one actor), in table order."""
    return [
        t for t in TRANSITIONS if status in t.from_states and (actor is None or t.actor == actor)
    ]


def transitions_config() -> dict[str, Any]:
    """What the pages need of the table (labels in the request's language)."""
    return {
        "transitions": [t.as_config() for t in TRANSITIONS],
        "unitStatusOf": dict(UNIT_STATUS_OF),
        "closedStatuses": list(CLOSED_STATUSES),
    }
