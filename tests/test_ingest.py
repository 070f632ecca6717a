"""Ingest (issue 5): the process pool gives the same tables as a serial parse."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ntm_analysis import ingest
from ntm_analysis.ingest import load_raw_dir
from ntm_analysis.synth import write_province


def test_pool_and_serial_ingest_give_the_same_tables(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    write_province(raw, communes=4, hamlets=(2, 3), seed=5)
    (raw / "broken.xlsx").write_bytes(b"not a workbook")  # an error row, in its place
    serial = load_raw_dir(raw, workers=1)
    monkeypatch.setattr(ingest, "POOL_MIN_FILES", 2)
    pooled = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=2)
    pd.testing.assert_frame_equal(pooled.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(pooled.result.issues, serial.result.issues)
    assert pooled.parsed == serial.parsed == sorted(p.name for p in raw.glob("*.xlsx"))
    assert serial.result.indicators["source_file"].nunique() == 4
    assert "broken.xlsx" in set(serial.result.issues["source_file"])
    # the cache then serves every file, with the same tables
    again = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=2)
    assert again.parsed == [] and len(again.cached) == 5
    pd.testing.assert_frame_equal(again.result.indicators, serial.result.indicators)
