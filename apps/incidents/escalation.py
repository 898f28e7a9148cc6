"""What happens after a missed acknowledge deadline, outside the escalation's own transaction.

The unit that stayed silent is taken off the incident and the next-ranked free unit is sent.
Each step is its own transaction through the ordinary services (one unit locked per
transaction), acting as the system account, so the timeline says what the system did and why.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from apps.common.errors import DomainError
from apps.common.services import system_user
from apps.units.selectors import unit_recommendations

from .models import Incident, IncidentStatus
from .services import incident_dispatch, incident_unassign

log = logging.getLogger(__name__)


def redispatch_after_silence(*, incident_id: int, silent_unit_id: int) -> Incident | None:
    """Take the silent unit off and send the best other free unit. Returns the incident, or None
    when nothing was done (the unit acknowledged meanwhile, or the incident moved on)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if (
        incident is None
        or incident.status != IncidentStatus.DISPATCHED
        or incident.unit_id != silent_unit_id
    ):
        return None
    actor = system_user()
    try:
        incident = incident_unassign(
            incident=incident,
            reason=_("No acknowledge from the unit in time; sending the next unit."),
            actor=actor,
        )
    except DomainError:
        return None  # acknowledged or changed in the meantime: nothing to do
    for rec in unit_recommendations(lat=incident.lat, lon=incident.lon):
        if rec.unit.pk == silent_unit_id:
            continue
        try:
            return incident_dispatch(incident=incident, unit=rec.unit, actor=actor)
        except DomainError:
            continue  # taken by a dispatcher meanwhile, or the incident moved on
    log.warning("incident %s: no free unit to send after escalation", incident.number)
    return incident
