"""Marks of tests whose servers run in other processes (tests.support.procs) and share the test
database: PostgreSQL only, since an in-memory SQLite test database cannot be shared between
processes; and committed data (a transactional test), since the servers cannot see the test's
uncommitted transaction."""

from __future__ import annotations

import pytest
from django.db import connection

SHARED_DATABASE = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the processes share the test database, which needs PostgreSQL",
    ),
]
E2E_MARKS = [pytest.mark.e2e, *SHARED_DATABASE]
FAULTS_MARKS = [pytest.mark.faults, *SHARED_DATABASE]
