"""Reference data for the benchmarks, created in bulk: one station, N staging points with one
unit each, a crew account and an API token per unit, and a dispatcher with a token."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

CENTER = (22.78, 100.97)
SPAN = 0.2  # degrees: the staging points spread over a 0.2° × 0.2° square around CENTER


@dataclass
class City:
    unit_ids: list[int]
    unit_tokens: dict[int, str]  # unit id → raw token of its crew account
    dispatcher_token: str


def _grid(n: int) -> list[tuple[float, float]]:
    side = max(1, math.ceil(math.sqrt(n)))
    step = SPAN / side
    lat0, lon0 = CENTER[0] - SPAN / 2, CENTER[1] - SPAN / 2
    return [(lat0 + step * (i // side), lon0 + step * (i % side)) for i in range(n)]


def reset_units() -> None:
    """Delete the incidents, alerts, units and crews of an earlier run (not the migrations)."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('django_migrations', 'django_content_type', "
            "'auth_permission', 'auth_group', 'django_site')"
        )
        tables = [r[0] for r in c.fetchall()]
        # The timeline refuses TRUNCATE unless the session says so (incidents migration 0006);
        # the benchmark database is a throwaway one.
        c.execute("SET cad.allow_truncate = 'on'")
        c.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


def build_city(n_units: int, *, with_crews: bool = True) -> City:
    from django.contrib.auth.models import Group, User
    from django.db import transaction
    from django.utils import timezone

    from apps.common.geo import rectangle
    from apps.common.models import ApiToken, hash_token
    from apps.common.roles import Role
    from apps.personnel.models import Assignment, Person, PersonKind, TeamRole
    from apps.units.models import StagingPoint, Station, Unit

    reset_units()
    now = timezone.now()
    with transaction.atomic():
        lat0, lon0 = CENTER[0] - SPAN, CENTER[1] - SPAN
        lat1, lon1 = CENTER[0] + SPAN, CENTER[1] + SPAN
        station = Station.objects.create(
            name="基准派出所",
            code="bench",
            jurisdiction=rectangle(lat0, lon0, lat1, lon1),
            min_lat=lat0,
            min_lon=lon0,
            max_lat=lat1,
            max_lon=lon1,
        )
        points = StagingPoint.objects.bulk_create(
            StagingPoint(name=f"屯警点{i}", code=f"b{i}", lat=lat, lon=lon, station=station)
            for i, (lat, lon) in enumerate(_grid(n_units))
        )
        units = Unit.objects.bulk_create(
            Unit(callsign=f"B{i:05d}", plate=f"云J·B{i:05d}", staging_point=sp)
            for i, sp in enumerate(points)
        )
        tokens: dict[int, str] = {}
        dispatcher_group, _ = Group.objects.get_or_create(name=str(Role.DISPATCHER))
        dispatcher = User.objects.create(username="bench-dispatcher", password="!")
        dispatcher.groups.add(dispatcher_group)
        raw_tokens = [ApiToken.new_key() for _ in range(len(units) + 1 if with_crews else 1)]
        token_rows = [
            ApiToken(
                user=dispatcher,
                key_hash=hash_token(raw_tokens[-1]),
                prefix=raw_tokens[-1][:8],
                label="bench",
                created_at=now,
                expires_at=now + timedelta(days=2),
            )
        ]
        if with_crews:
            crew_group, _ = Group.objects.get_or_create(name=str(Role.UNIT_OFFICER))
            users = User.objects.bulk_create(
                User(username=f"bench-crew-{u.pk}", password="!") for u in units
            )
            User.groups.through.objects.bulk_create(
                User.groups.through(user_id=user.pk, group_id=crew_group.pk) for user in users
            )
            people = Person.objects.bulk_create(
                Person(
                    user=user, kind=PersonKind.OFFICER, name=f"民警{i}", staff_number=f"B{i:06d}"
                )
                for i, user in enumerate(users)
            )
            Assignment.objects.bulk_create(
                Assignment(
                    person=person,
                    staging_point_id=unit.staging_point_id,
                    shift=None,
                    team_role=TeamRole.RESPONSIBLE_OFFICER,
                    valid_from=now - timedelta(days=30),
                )
                for person, unit in zip(people, units, strict=True)
            )
            for unit, user, raw in zip(units, users, raw_tokens, strict=False):
                tokens[unit.pk] = raw
                token_rows.append(
                    ApiToken(
                        user=user,
                        key_hash=hash_token(raw),
                        prefix=raw[:8],
                        label="bench",
                        created_at=now,
                        expires_at=now + timedelta(days=2),
                    )
                )
        ApiToken.objects.bulk_create(token_rows)
    # Statistics for the planner, as autovacuum keeps them in production after a bulk load.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return City(unit_ids=[u.pk for u in units], unit_tokens=tokens, dispatcher_token=raw_tokens[-1])
