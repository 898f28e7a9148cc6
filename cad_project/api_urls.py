"""The public HTTP API (/api/…): each app adds its routes here."""

from __future__ import annotations

from django.urls import path

from apps.calls import api as calls_api
from apps.common.api import ObtainTokenView
from apps.field import api as field_api
from apps.incidents import api as incidents_api
from apps.personnel import api as personnel_api
from apps.places import api as places_api
from apps.planning import api as planning_api
from apps.stats import api as stats_api
from apps.training import api as training_api
from apps.units import api as units_api

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    # statistics (issue 7)
    path("stats/summary/", stats_api.StatsSummaryView.as_view(), name="stats-summary"),
    path(
        "stats/street-presence/",
        stats_api.StreetPresenceView.as_view(),
        name="stats-street-presence",
    ),
    path("stats/coverage/", planning_api.CoverageView.as_view(), name="stats-coverage"),
    path("stats/coverage-gap/", planning_api.CoverageGapView.as_view(), name="stats-coverage-gap"),
    # incidents (issue 3)
    path("incidents/", incidents_api.IncidentListCreateView.as_view(), name="incident-list"),
    path("incidents/<int:pk>/", incidents_api.IncidentDetailView.as_view(), name="incident-detail"),
    # the call-taker's console (issue 12)
    path(
        "incidents/recommendations/",
        incidents_api.PointRecommendationsView.as_view(),
        name="point-recommendations",
    ),
    path("incidents/nearby/", incidents_api.IncidentNearbyView.as_view(), name="incident-nearby"),
    path(
        "incidents/caller-history/",
        incidents_api.CallerHistoryView.as_view(),
        name="incident-caller-history",
    ),
    path(
        "incidents/<int:pk>/calls/",
        incidents_api.IncidentLinkCallView.as_view(),
        name="incident-link-call",
    ),
    path(
        "incidents/<int:pk>/notes/", incidents_api.IncidentNoteView.as_view(), name="incident-note"
    ),
    path(
        "incidents/<int:pk>/recommendations/",
        incidents_api.IncidentRecommendationsView.as_view(),
        name="incident-recommendations",
    ),
    # several units on one incident (issue 13)
    path(
        "incidents/<int:pk>/divert/",
        incidents_api.IncidentDivertView.as_view(),
        name="incident-divert",
    ),
    path(
        "incidents/<int:pk>/units/<int:unit_id>/clear/",
        incidents_api.IncidentUnitReleaseView.as_view(),
        name="incident-unit-clear",
    ),
    path(
        "incidents/<int:pk>/units/<int:unit_id>/<slug:step>/",
        incidents_api.IncidentUnitStepView.as_view(),
        name="incident-unit-step",
    ),
    path(
        "incidents/<int:pk>/attachments/",
        field_api.IncidentAttachmentsView.as_view(),
        name="incident-attachments",
    ),
    path(
        "incidents/<int:pk>/attachments/<int:attachment_id>/",
        field_api.AttachmentFileView.as_view(),
        name="incident-attachment-file",
    ),
    path(
        "incidents/<int:pk>/request-backup/",
        field_api.IncidentBackupRequestView.as_view(),
        name="incident-request-backup",
    ),
    # one route per row of the transition table (apps/incidents/transitions.py)
    *[
        path(f"incidents/<int:pk>/{slug}/", view.as_view(), name=f"incident-{slug}")
        for slug, view in incidents_api.TRANSITION_VIEWS.items()
    ],
    # the telephony link and the call-taker's console (issue 12)
    path("calls/", calls_api.CallListView.as_view(), name="call-list"),
    path("calls/<int:pk>/close/", calls_api.CallCloseView.as_view(), name="call-close"),
    # units (issue 3)
    path("units/", units_api.UnitListView.as_view(), name="unit-list"),
    path("units/<int:pk>/position/", units_api.UnitPositionView.as_view(), name="unit-position"),
    # the crews' reports (issue 13)
    path("units/<int:pk>/status/", field_api.UnitDutyStatusView.as_view(), name="unit-status"),
    path("units/<int:pk>/emergency/", field_api.UnitEmergencyView.as_view(), name="unit-emergency"),
    path(
        "emergencies/<int:pk>/incident/",
        field_api.EmergencyIncidentView.as_view(),
        name="emergency-incident",
    ),
    path(
        "emergencies/<int:pk>/acknowledge/",
        field_api.EmergencyAcknowledgeView.as_view(),
        name="emergency-acknowledge",
    ),
    # the gazetteer (issue 12)
    path("places/", places_api.PlaceSearchView.as_view(), name="place-search"),
    path("places/reverse/", places_api.PlaceReverseView.as_view(), name="place-reverse"),
    # the crew's own records (issue 6)
    path("me/assessments/", personnel_api.MyAssessmentsView.as_view(), name="me-assessments"),
    path("me/training/", training_api.MyTrainingView.as_view(), name="me-training"),
]
