from __future__ import annotations

from tests.incidents.conftest import world  # noqa: F401  (the shared small-city fixture)
