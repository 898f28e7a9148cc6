"""The crew's own records for the patrol app: GET /api/me/assessments/.

A user sees only their own person's records; a user without a person record gets 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Assessment, Person
from .selectors import person_call_handling, person_of_user

# How many of the latest periods the patrol app is given.
ME_PERIODS = 12


def me_or_404(user: Any) -> Person:
    person = person_of_user(user)
    if person is None:
        raise Http404(_("No personnel record is linked to this account."))
    return person


class ScoreOut(serializers.Serializer[Any]):
    item = serializers.CharField()
    name = serializers.CharField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    score = serializers.DecimalField(max_digits=6, decimal_places=2)


class AdjustmentOut(serializers.Serializer[Any]):
    kind = serializers.CharField()
    points = serializers.DecimalField(max_digits=5, decimal_places=2)
    reason = serializers.CharField()
    date = serializers.DateField()
    evidence = serializers.CharField()


class CallHandlingOut(serializers.Serializer[Any]):
    incidents = serializers.IntegerField()
    acknowledge_median_s = serializers.FloatField(allow_null=True)
    acknowledge_p90_s = serializers.FloatField(allow_null=True)
    arrival_median_s = serializers.FloatField(allow_null=True)
    arrival_p90_s = serializers.FloatField(allow_null=True)
    acknowledge_within_target = serializers.FloatField(allow_null=True)
    arrival_within_target = serializers.FloatField(allow_null=True)
    on_scene_resolution_rate = serializers.FloatField(allow_null=True)


class AssessmentOut(serializers.Serializer[Any]):
    month = serializers.DateField()
    period_status = serializers.CharField()
    scores = ScoreOut(many=True)
    adjustments = AdjustmentOut(many=True)
    call_handling = CallHandlingOut()
    own_score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    group_average = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    total = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    grade = serializers.CharField()
    grade_display = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    model_status = serializers.CharField()


def _assessment_data(a: Assessment) -> dict[str, Any]:
    return {
        "month": a.period.month,
        "period_status": a.period.status,
        "scores": [
            {"item": s.item.code, "name": str(s.item), "weight": s.item.weight, "score": s.score}
            for s in a.scores.all()
        ],
        "adjustments": [
            {
                "kind": j.kind,
                "points": j.points,
                "reason": j.reason,
                "date": j.date,
                "evidence": j.evidence,
            }
            for j in a.adjustments.all()
        ],
        "call_handling": person_call_handling(person=a.person, month=a.period.month),
        "own_score": a.own_score,
        "group_average": a.group_average,
        "total": a.total,
        "grade": a.grade,
        "grade_display": a.get_grade_display() if a.grade else "",
        "rank": a.rank,
        "model_status": a.model_status,
    }


class MyAssessmentsView(APIView):
    @extend_schema(responses={200: AssessmentOut(many=True)})
    def get(self, request: Request) -> Response:
        me = me_or_404(request.user)
        rows = (
            Assessment.objects.filter(person=me)
            .select_related("period", "person")
            .prefetch_related("scores__item", "adjustments")
            .order_by("-period__month")[:ME_PERIODS]
        )
        return Response(AssessmentOut([_assessment_data(a) for a in rows], many=True).data)
