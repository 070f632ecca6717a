"""Shared fixtures: the project root and the bundled sample workbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    paths = sorted((ROOT / "data" / "raw").glob("kim_phuong_2024_*.xlsx"))
    assert paths, "sample workbooks missing from data/raw"
    return paths
