"""A hand-built day of incidents for the dashboard, and what its tables must show.

Six calls received at 10:00 on 2 March 2026 (Asia/Shanghai) in factories.small_city, whose
cells R{row}C{col} belong to staging point p{col} and whose R0C0 is a priority zone (3-minute
arrival target; elsewhere 5 minutes). Offsets in seconds: ack and arrival after dispatch.

    call  category      outcome            cell  point unit  ack  arrival  flags
    A     dispute       resolved on scene  R0C0  p0    U0    40   170      (zone: 170 ≤ 180 met)
    B     dispute       transfer pending   R1C0  p0    U0    90   250      escalated
    C     assistance    resolved on scene  R0C1  p1    U1    10   400      arrival breached
    D     criminal      transfer received  R1C1  p1    U0    60   300      (both targets met, ≤)
    E     other         cancelled          R0C2  p2    —     —    —
    F     public order  resolved on scene  —     —     U2    20   200      (no cell: 5 minutes)

Every caller has a phone number: none may appear in an export.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine

from apps.incidents.models import Category, IncidentStatus
from tests.support.factories import SmallCity, at, incident_row, small_city

S = IncidentStatus
PHONE = "13912345678"
DAY = "2026-03-02"
NOW = at(10, 12)


def build() -> SmallCity:
    # The units exist from the day before the calls (street presence starts when a unit does).
    with time_machine.travel(at(1, 0), tick=False):
        city = small_city()
    u, c = city.units, city.cells
    t0 = at(2, 10)
    common = {"received_at": t0, "caller_phone": PHONE, "caller_name": "张三"}
    incident_row(
        **common, category=Category.DISPUTE, status=S.RESOLVED_ON_SCENE, cell=c[0], unit=u[0],
        dispatch_s=30, ack_s=40, arrive_s=170, close_s=600,
    )  # fmt: skip
    incident_row(
        **common, category=Category.DISPUTE, status=S.TRANSFER_PENDING, cell=c[4], unit=u[0],
        dispatch_s=60, ack_s=90, arrive_s=250, close_s=1200,
        escalated_at=t0 + timedelta(seconds=150),
    )  # fmt: skip
    incident_row(
        **common, category=Category.ASSISTANCE, status=S.RESOLVED_ON_SCENE, cell=c[1], unit=u[1],
        dispatch_s=20, ack_s=10, arrive_s=400, close_s=300,
        arrival_breached_at=t0 + timedelta(seconds=320),
    )  # fmt: skip
    incident_row(
        **common, category=Category.CRIMINAL, status=S.TRANSFER_RECEIVED, cell=c[5], unit=u[0],
        dispatch_s=10, ack_s=60, arrive_s=300, close_s=900,
    )  # fmt: skip
    incident_row(
        **common, category=Category.OTHER, status=S.CANCELLED, cell=c[2], close_s=100,
    )  # fmt: skip
    incident_row(
        **common, category=Category.PUBLIC_ORDER, status=S.RESOLVED_ON_SCENE, unit=u[2],
        dispatch_s=15, ack_s=20, arrive_s=200, close_s=400, lat=22.5, lon=100.5,
    )  # fmt: skip
    return city


RESPONSE_KEYS = (
    "total", "transferred", "transfer_share", "resolved_on_scene", "on_scene_rate",
    "ack_median", "ack_p90", "arrival_median", "arrival_p90", "ack_share", "arrival_share",
    "escalations", "breaches",
)  # fmt: skip
NOTHING = (0, 0, None, 0, None, None, None, None, None, None, None, 0, 0)

# Per staging point, by code (and "" for calls in no staging point's area).
POINTS = {
    # ack [40, 90]: median 65, p90 40 + 0.9·50 = 85; arrival [170, 250]: 210, 242.
    "p0": (2, 1, 0.5, 1, 0.5, 65.0, 85.0, 210.0, 242.0, 0.5, 1.0, 1, 0),
    # ack [10, 60]: 35, 55; arrival [300, 400]: 350, 390; 400 > 300 misses.
    "p1": (2, 1, 0.5, 1, 0.5, 35.0, 55.0, 350.0, 390.0, 1.0, 0.5, 0, 1),
    # the cancelled call: counted, never due for a target, not closed.
    "p2": (1, 0, 0.0, 0, None, None, None, None, None, None, None, 0, 0),
    "p3": NOTHING,
    "": (1, 0, 0.0, 1, 1.0, 20.0, 20.0, 200.0, 200.0, 1.0, 1.0, 0, 0),
}

# Per unit, by call sign.
UNITS = {
    # A, B, D: ack [40, 60, 90]: median 60, p90 60 + 0.8·30 = 84; arrival [170, 250, 300]:
    # 250, 250 + 0.8·50 = 290; ack within 60 s: 40 and 60 (inclusive).
    "U0": (3, 2, 0.6667, 1, 0.3333, 60.0, 84.0, 250.0, 290.0, 0.6667, 1.0, 1, 0),
    "U1": (1, 0, 0.0, 1, 1.0, 10.0, 10.0, 400.0, 400.0, 1.0, 0.0, 0, 1),
    "U2": (1, 0, 0.0, 1, 1.0, 20.0, 20.0, 200.0, 200.0, 1.0, 1.0, 0, 0),
    "U3": NOTHING,
}

# category: total, transferred, transfer share, resolved on scene, closed, on-scene rate.
CATEGORIES = [
    (1, 1, 1.0, 0, 1, 0.0),  # criminal
    (1, 0, 0.0, 1, 1, 1.0),  # public order
    (2, 1, 0.5, 1, 2, 0.5),  # dispute
    (1, 0, 0.0, 1, 1, 1.0),  # assistance
    (1, 0, 0.0, 0, 0, None),  # other: cancelled only
    (6, 2, 0.3333, 3, 5, 0.6),  # all
]
