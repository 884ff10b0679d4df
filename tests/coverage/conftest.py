"""Shared set-up: a catalog version of the tests' own, in force from 2021 (after the seeded 2020 one)."""
from __future__ import annotations

from datetime import date

import pytest

from tests import factories


@pytest.fixture
def catalog():
    return factories.catalog_version(effective_from=date(2021, 1, 1), declared_line_count=5)


@pytest.fixture
def nanchang():
    """A legal metrology institution in 南昌 (360100)."""
    return factories.institution(region_code="360100", kind="legal_metrology")
