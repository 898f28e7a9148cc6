"""The demo force's records of the last two months: assessments, training, mentoring and care.

Written as HR would through the admin: the assessment periods are opened, closed and their model
auxiliaries proposed and confirmed by the personnel services (which compute the call-handling
item from the demo's incidents); the item scores, sessions, attendance, mentoring pairs,
sign-offs and care records are rows of the apps' models, written in bulk.

- Assessment: a period for each of the two months before the current one, every auxiliary
  scored on discipline, bearing and skills around a personal level drawn once per person (so the
  rankings of two months resemble each other), a few awards and deductions; then closed (which
  computes the call-handling item from the incidents), the model auxiliaries proposed, the older
  month's confirmed by HR. The current month's period is open: assessments started, the awards
  and deductions so far, the items to be scored at its end.
- Training (the model's "two thirds on the street, one third in training"): every day, in each
  shift, two of the six auxiliaries of each staging point's shift attend a two-hour session, in
  turn, so each trains every third day; from the first day of the history to a week ahead
  (attendance planned for the sessions to come).
- Mentoring (传帮带): the two most recently hired members of each staging point are mentored, one
  by their group leader, one by the responsible officer; the first is signed off on
  call-taking, the second not yet (the daily roster flags them when rostered as call taker).
- Care: a handful of records (talks, a hospital visit, an equipment issue, an honour).

Idempotent: every row has a natural key (a period's month, a session's start and title, an
attendance's session and person, a pair's mentor and mentee, a care record's person, kind and
summary) and is written only when missing; a closed period is never touched again. Dates are
relative to the day of loading, so a load on a later day adds that day's sessions and the periods
of a new month, and closes a month that has ended.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.common.shifts import shift_window
from apps.personnel.models import (
    AdjustmentKind,
    Assessment,
    AssessmentAdjustment,
    AssessmentPeriod,
    AssessmentScore,
    CareKind,
    CareRecord,
    ModelStatus,
    PeriodStatus,
    Person,
    PersonKind,
    PersonStatus,
    SchemeItemCode,
    TeamRole,
)
from apps.personnel.services import (
    assessment_recompute_period,
    model_auxiliaries_propose,
    model_auxiliary_confirm,
    period_close,
    period_open,
)
from apps.training.models import (
    Attendance,
    AttendanceStatus,
    Competency,
    Mentorship,
    SessionType,
    SignOff,
    TrainingSession,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSED_MONTHS = 2  # the months before the current one, closed
TRAINING_DAYS_AHEAD = 6
TRAINING_PER_SHIFT = 2  # of the six auxiliaries of a staging point's shift: one third
SESSION_HOURS = 2
TRAINING_PLACE = "普洱市公安局思茅分局特警大队训练基地"

# A topic per day, in turn: (type, title, trainer's title in the roster).
TOPICS: tuple[tuple[str, str, str], ...] = (
    (SessionType.DRILL, "最小作战单元实战演练", "特警大队教导员"),
    (SessionType.CALL_TAKING, "接处警流程与警情研判", "指挥中心值班长"),
    (SessionType.DUTIES, "职责规范与执勤纪律", "特警大队副大队长（尖刀队、预备队）"),
    (SessionType.EQUIPMENT, "执法记录仪与警务通应用", "特警大队教导员"),
    (SessionType.FITNESS, "体能与警务技能训练", "特警大队教导员"),
)

COMPETENCIES: tuple[tuple[str, str, bool], ...] = (
    ("call-taking", "接警流程", True),
    ("duties", "职责规范", False),
    ("equipment", "设备应用", False),
    ("first-aid", "现场急救", False),
)

# Item scores: a personal level around these, plus a little each month (0–100).
ITEM_MEANS: dict[str, float] = {
    SchemeItemCode.DISCIPLINE: 88.0,
    SchemeItemCode.BEARING: 90.0,
    SchemeItemCode.SKILLS: 84.0,
}
PERSON_LEVEL_SD = 4.0
MONTH_NOISE_SD = 3.0
# (kind, points, reason): a few per month.
ADJUSTMENTS: tuple[tuple[str, str, str], ...] = (
    (AdjustmentKind.AWARD, "3", "群众送锦旗表扬"),
    (AdjustmentKind.AWARD, "5", "协助抓获现行违法人员"),
    (AdjustmentKind.AWARD, "2", "拾金不昧"),
    (AdjustmentKind.DEDUCTION, "2", "执勤时未开启执法记录仪"),
    (AdjustmentKind.DEDUCTION, "1", "交接班迟到"),
)
CARE: tuple[tuple[str, int, str], ...] = (
    # (kind, days ago, summary); the person is chosen below.
    (CareKind.TALK, 50, "入职谈心谈话：了解家庭情况和工作适应情况"),
    (CareKind.TALK, 20, "家中老人生病，谈心谈话并协调调休"),
    (CareKind.HOSPITAL_VISIT, 34, "处置纠纷时手部受伤，到医院看望慰问"),
    (CareKind.ISSUE, 45, "换发夏季执勤服和反光背心"),
    (CareKind.HONOUR, 12, "月度考核标兵，通报表扬"),
    (CareKind.OTHER, 8, "生日慰问"),
)


@dataclass
class StaffReport:
    created: int = 0
    periods: int = 0
    assessments: int = 0
    sessions: int = 0
    attendance: int = 0
    mentorships: int = 0
    care_records: int = 0


def _month_start(day: date, back: int) -> date:
    month = day.year * 12 + day.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> Decimal:
    # Half points, as scored on paper.
    return Decimal(str(round(min(max(value, low), high) * 2) / 2))


@dataclass
class _Force:
    """The people of the roster, by staff number and by role."""

    people: dict[str, Person]
    titles: dict[str, str]  # staff number → title in the roster
    # (staging point code, shift) → the auxiliaries of that shift, by staff number.
    shifts: dict[tuple[str, int], list[Person]]
    leaders: dict[tuple[str, int], Person]  # the group leader of a staging point's shift
    responsible: dict[str, Person]  # staging point code → responsible officer

    def titled(self, title: str) -> Person:
        return next(self.people[s] for s, t in self.titles.items() if t == title)


def _force(roster: Any) -> _Force:
    people = {p.staff_number: p for p in Person.objects.all()}
    force = _Force(people, {}, defaultdict(list), {}, {})
    for spec in roster.people:
        force.titles[spec.staff_number] = spec.title
        posting = spec.posting or {}
        point, shift = posting.get("staging_point"), posting.get("shift")
        person = people[spec.staff_number]
        if point and shift:
            force.shifts[(point, shift)].append(person)
            if posting["team_role"] == TeamRole.GROUP_LEADER:
                force.leaders[(point, shift)] = person
        elif point and posting.get("team_role") == TeamRole.RESPONSIBLE_OFFICER:
            force.responsible[point] = person
    return force


# --- Assessment ------------------------------------------------------------------------------


def _level(staff_number: str, code: str) -> float:
    return random.Random(f"level:{staff_number}:{code}").gauss(0.0, PERSON_LEVEL_SD)


def _start_period(
    period: AssessmentPeriod, today: date, report: StaffReport, *, scored: bool
) -> bool:
    """Assess every active auxiliary of an open period: their assessments (with the awards and
    deductions dated before today) when the period has none, and (``scored``) the item scores
    when it has none yet (a month loaded while under way, then ended). Returns whether it wrote
    anything; the totals are left to the period's recompute (closing recomputes)."""
    rows = list(period.assessments.select_related("person").order_by("person__staff_number"))
    rng = random.Random(f"assessment:{period.month.isoformat()}")
    adjustments = []
    if not rows:
        auxiliaries = Person.objects.filter(
            kind=PersonKind.AUXILIARY, status=PersonStatus.ACTIVE
        ).order_by("staff_number")
        rows = Assessment.objects.bulk_create(
            [Assessment(period=period, person=p) for p in auxiliaries]
        )
        for n, (kind, points, reason) in enumerate(ADJUSTMENTS):
            on = period.month + timedelta(days=3 + 6 * n)
            if on < today:
                adjustments.append(
                    AssessmentAdjustment(
                        assessment=rng.choice(rows),
                        kind=kind,
                        points=Decimal(points),
                        reason=reason,
                        date=on,
                    )
                )
        AssessmentAdjustment.objects.bulk_create(adjustments)
        report.created += len(rows) + len(adjustments)
    items = [i for i in period.scheme_items.all() if i.code in ITEM_MEANS]
    if not scored or AssessmentScore.objects.filter(item__in=items).exists():
        return bool(adjustments)
    scores = []
    for assessment in rows:
        for item in items:
            level = _level(assessment.person.staff_number, item.code)
            value = ITEM_MEANS[item.code] + level + rng.gauss(0.0, MONTH_NOISE_SD)
            score = _clamp(value) * item.max_score / 100
            scores.append(AssessmentScore(assessment=assessment, item=item, score=score))
    AssessmentScore.objects.bulk_create(scores)
    report.created += len(scores)
    return True


def _load_assessments(today: date, hr: User | None, report: StaffReport) -> None:
    for back in range(CLOSED_MONTHS, -1, -1):
        month = _month_start(today, back)
        created = not AssessmentPeriod.objects.filter(month=month).exists()
        period = period_open(month=month)
        if created:
            report.created += 1 + period.scheme_items.count() + period.grade_bands.count()
        if period.status == PeriodStatus.CLOSED:
            continue
        if back == 0:
            # The month under way: assessments started, the awards and deductions so far; the
            # items are scored at the month's end.
            if _start_period(period, today, report, scored=False):
                assessment_recompute_period(period=period)
            continue
        # A month that has ended: scored, then closed (closing computes the call-handling item
        # from the incidents, the totals, grades and ranks), its model auxiliaries proposed
        # from the ranking and (the older month's) confirmed by HR.
        _start_period(period, today, report, scored=True)
        period_close(period=period, actor=hr, reason="月度考核结束")
        report.created += 1
        proposed = model_auxiliaries_propose(period=period)
        if back == CLOSED_MONTHS and hr is not None:
            for assessment in proposed:
                if assessment.model_status == ModelStatus.PROPOSED:
                    model_auxiliary_confirm(assessment=assessment, actor=hr)
    report.periods = AssessmentPeriod.objects.count()
    report.assessments = Assessment.objects.count()


# --- Training --------------------------------------------------------------------------------


def _session_window(day: date, shift: int) -> tuple[datetime, datetime]:
    """Two hours inside the shift: from its second hour, or before its end for a shift that
    starts in the small hours (the night crew trains at dawn, not at 01:00)."""
    window = shift_window(day, shift)
    start = window.start + timedelta(hours=1)
    if timezone.localtime(window.start, SHANGHAI).hour < 6:
        start = window.end - timedelta(hours=SESSION_HOURS)
    return start, start + timedelta(hours=SESSION_HOURS)


def _attendance_status(rng: random.Random, past: bool) -> tuple[str, str]:
    if not past:
        return AttendanceStatus.PLANNED, ""
    draw = rng.random()
    if draw < 0.03:
        return AttendanceStatus.ABSENT, ""
    if draw < 0.06:
        return AttendanceStatus.EXCUSED, ""
    return AttendanceStatus.PRESENT, "优秀" if draw > 0.85 else "合格"


def _load_training(days: list[date], force: _Force, now: datetime, report: StaffReport) -> None:
    points = sorted({point for point, _shift in force.shifts})
    wanted: dict[tuple[datetime, str], TrainingSession] = {}
    attendees: dict[tuple[datetime, str], list[Person]] = {}
    for day in days:
        kind, topic, trainer_title = TOPICS[day.toordinal() % len(TOPICS)]
        turn = day.toordinal() % 3
        for shift in (1, 2, 3):
            starts, ends = _session_window(day, shift)
            title = f"{shift}班轮训：{topic}"
            wanted[(starts, title)] = TrainingSession(
                type=kind,
                title=title,
                starts_at=starts,
                ends_at=ends,
                place=TRAINING_PLACE,
                trainer=force.titled(trainer_title),
            )
            people = []
            for point in points:
                crew = sorted(force.shifts[(point, shift)], key=lambda p: p.staff_number)
                people += crew[turn * TRAINING_PER_SHIFT : (turn + 1) * TRAINING_PER_SHIFT]
            attendees[(starts, title)] = people
    lo = min(start for start, _title in wanted)
    hi = max(start for start, _title in wanted)
    existing = {
        (s.starts_at, s.title): s
        for s in TrainingSession.objects.filter(
            starts_at__gte=lo, starts_at__lte=hi, place=TRAINING_PLACE
        )
    }
    new = [s for key, s in wanted.items() if key not in existing]
    TrainingSession.objects.bulk_create(new)
    for session in new:
        existing[(session.starts_at, session.title)] = session
    present = set(
        Attendance.objects.filter(session__in=list(existing.values())).values_list(
            "session_id", "person_id"
        )
    )
    rows = []
    for key, people in attendees.items():
        session = existing[key]
        for person in people:
            if (session.pk, person.pk) in present:
                continue
            rng = random.Random(f"attendance:{key[0].isoformat()}:{person.staff_number}")
            status, result = _attendance_status(rng, session.ends_at <= now)
            rows.append(Attendance(session=session, person=person, status=status, result=result))
    Attendance.objects.bulk_create(rows)
    report.created += len(new) + len(rows)
    report.sessions = TrainingSession.objects.count()
    report.attendance = Attendance.objects.count()


# --- Mentoring -------------------------------------------------------------------------------


def _load_mentoring(start: date, today: date, force: _Force, report: StaffReport) -> None:
    competencies = {}
    for code, name, required in COMPETENCIES:
        competency, created = Competency.objects.get_or_create(
            code=code, defaults={"name": name, "required_for_call_taking": required}
        )
        competencies[code] = competency
        report.created += created
    for point in sorted(force.responsible):
        members = [
            (person, shift)
            for shift in (1, 2, 3)
            for person in force.shifts[(point, shift)]
            if person.pk != force.leaders[(point, shift)].pk
            and force.titles[person.staff_number].endswith("队员")
        ]
        members.sort(key=lambda m: (m[0].hire_date or date.min, m[0].staff_number), reverse=True)
        for n, (mentee, shift) in enumerate(members[:2]):
            mentor = force.leaders[(point, shift)] if n == 0 else force.responsible[point]
            pair, created = Mentorship.objects.get_or_create(
                mentor=mentor, mentee=mentee, defaults={"started_on": start}
            )
            report.created += created
            # The first is signed off on everything the call taker needs; the second not yet.
            codes = ("duties", "call-taking", "equipment") if n == 0 else ("duties",)
            for k, code in enumerate(codes):
                on = pair.started_on + timedelta(days=15 * (k + 1))
                if on > today:
                    continue
                _sign, created = SignOff.objects.get_or_create(
                    mentorship=pair,
                    competency=competencies[code],
                    defaults={"signed_off_on": on, "note": "带教考核通过"},
                )
                report.created += created
    report.mentorships = Mentorship.objects.count()


# --- Care ------------------------------------------------------------------------------------


def _load_care(today: date, hr: User | None, force: _Force, report: StaffReport) -> None:
    mentees = list(Mentorship.objects.select_related("mentee").order_by("mentee__staff_number"))
    confirmed = (
        Assessment.objects.filter(model_status=ModelStatus.CONFIRMED)
        .select_related("person")
        .order_by("period__month", "rank", "person__staff_number")
        .first()
    )
    leaders = sorted(force.leaders.values(), key=lambda p: p.staff_number)
    people: dict[str, list[Person]] = {
        CareKind.TALK: [m.mentee for m in mentees[:2]] or leaders[:2],
        CareKind.HOSPITAL_VISIT: leaders[3:4],
        CareKind.ISSUE: leaders[:1],
        CareKind.HONOUR: [confirmed.person] if confirmed else leaders[1:2],
        CareKind.OTHER: leaders[5:6],
    }
    used: dict[str, int] = defaultdict(int)
    for kind, days_ago, summary in CARE:
        candidates = people[kind]
        if not candidates:
            continue
        person = candidates[used[kind] % len(candidates)]
        used[kind] += 1
        _record, created = CareRecord.objects.get_or_create(
            person=person,
            kind=kind,
            summary=summary,
            defaults={"date": today - timedelta(days=days_ago), "recorded_by": hr},
        )
        report.created += created
    report.care_records = CareRecord.objects.count()


# --- All of it -------------------------------------------------------------------------------


def _local_today() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def staff_records_load(*, roster: Any, history_days: list[date]) -> StaffReport:
    """Load the records above in one transaction (``history_days``: the days of the incident
    history, from which the training starts)."""
    report = StaffReport()
    now = timezone.now()
    today = _local_today()
    hr = User.objects.filter(username="hr").first()
    with transaction.atomic():
        force = _force(roster)
        _load_assessments(today, hr, report)
        days = [*history_days, today] + [
            today + timedelta(days=k) for k in range(1, TRAINING_DAYS_AHEAD + 1)
        ]
        _load_training(days, force, now, report)
        _load_mentoring(history_days[0], today, force, report)
        _load_care(today, hr, force, report)
    return report
