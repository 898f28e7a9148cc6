"""Every personnel and training admin page opens for HR, with filters and search on each list."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.personnel.services import period_open
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_hr_opens_every_list_with_a_search_and_every_add_form() -> None:
    from datetime import date

    period_open(month=date(2026, 3, 1))
    PersonFactory()
    client = Client()
    client.force_login(UserFactory(roles=[Role.HR], is_staff=True))
    models = [m for m in admin.site._registry if m._meta.app_label in ("personnel", "training")]
    assert len(models) == 11
    for model in models:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        info = model._meta.label
        listing = client.get(reverse(f"{prefix}_changelist"), {"q": "x"})
        assert listing.status_code == 200, info
        model_admin = admin.site._registry[model]
        if model._meta.model_name != "dailyroster":
            assert model_admin.list_filter, info
            assert model_admin.get_search_fields(listing.wsgi_request), info
            assert client.get(reverse(f"{prefix}_add")).status_code == 200, info
