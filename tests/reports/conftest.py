"""Fixtures of the report tests: the tiny world of ``report_world`` (archive, metrics, card, inspections)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reports.report_world import write_world


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict[str, Path]:
    """The tiny world, written once per test session."""
    return write_world(tmp_path_factory.mktemp("report_world"))
