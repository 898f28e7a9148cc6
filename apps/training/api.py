"""The crew's own training records for the patrol app: GET /api/me/training/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.personnel.api import me_or_404

from .models import Attendance, Certification, Competency, Mentorship

ME_SESSIONS = 50


class SessionOut(serializers.Serializer[Any]):
    type = serializers.CharField()
    type_display = serializers.CharField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    place = serializers.CharField()
    trainer = serializers.CharField(allow_null=True)
    attendance = serializers.CharField()
    result = serializers.CharField()


class MentorshipOut(serializers.Serializer[Any]):
    mentor = serializers.CharField()
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    signed_off = serializers.ListField(child=serializers.DictField())
    outstanding = serializers.ListField(child=serializers.CharField())


class CertificationOut(serializers.Serializer[Any]):
    name = serializers.CharField()
    number = serializers.CharField()
    issued_on = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    expires_within_30_days = serializers.BooleanField()


class MyTrainingOut(serializers.Serializer[Any]):
    sessions = SessionOut(many=True)
    mentorships = MentorshipOut(many=True)
    certifications = CertificationOut(many=True)


class MyTrainingView(APIView):
    @extend_schema(responses={200: MyTrainingOut})
    def get(self, request: Request) -> Response:
        me = me_or_404(request.user)
        today = timezone.localdate()
        attendance = (
            Attendance.objects.filter(person=me)
            .select_related("session__trainer")
            .order_by("-session__starts_at")[:ME_SESSIONS]
        )
        competencies = list(Competency.objects.order_by("code"))
        mentorships = (
            Mentorship.objects.filter(mentee=me)
            .select_related("mentor")
            .prefetch_related("sign_offs__competency")
        )
        data = {
            "sessions": [
                {
                    "type": a.session.type,
                    "type_display": a.session.get_type_display(),
                    "title": a.session.title,
                    "starts_at": a.session.starts_at,
                    "ends_at": a.session.ends_at,
                    "place": a.session.place,
                    "trainer": a.session.trainer.name if a.session.trainer else None,
                    "attendance": a.status,
                    "result": a.result,
                }
                for a in attendance
            ],
            "mentorships": [
                {
                    "mentor": m.mentor.name,
                    "started_on": m.started_on,
                    "ended_on": m.ended_on,
                    "signed_off": [
                        {"competency": s.competency.name, "on": s.signed_off_on.isoformat()}
                        for s in m.sign_offs.all()
                    ],
                    "outstanding": [
                        c.name
                        for c in competencies
                        if c.pk not in {s.competency_id for s in m.sign_offs.all()}
                    ],
                }
                for m in mentorships
            ],
            "certifications": [
                {
                    "name": c.name,
                    "number": c.number,
                    "issued_on": c.issued_on,
                    "expires_on": c.expires_on,
                    "expires_within_30_days": c.expires_on is not None
                    and today <= c.expires_on <= today + timedelta(days=30),
                }
                for c in Certification.objects.filter(person=me).order_by("expires_on")
            ],
        }
        return Response(MyTrainingOut(data).data)
