"""The bundled sample: regenerating it gives the same tidy tables as data/raw's workbooks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ntm_analysis.load import load_workbook
from ntm_analysis.sample import ILLUSTRATIVE_NOTE, write_kim_phuong_sample, write_sample_data
from ntm_analysis.schema import Ind, Iss

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def test_regenerated_sample_equals_data_raw(tmp_path: Path) -> None:
    paths = write_kim_phuong_sample(tmp_path)
    assert {p.name for p in paths} <= {p.name for p in RAW.glob("*.xlsx")}
    for path in paths:
        fresh = load_workbook(path)
        committed = load_workbook(RAW / path.name)
        pd.testing.assert_frame_equal(fresh.indicators, committed.indicators)
        assert fresh.errors.empty


def test_sample_data_is_every_workbook_in_data_raw(tmp_path: Path) -> None:
    paths = write_sample_data(tmp_path)
    assert sorted(p.name for p in paths) == sorted(p.name for p in RAW.glob("*.xlsx"))


def test_sample_says_its_values_are_illustrative(tmp_path: Path) -> None:
    for path in sorted(RAW / p.name for p in write_kim_phuong_sample(tmp_path)):
        issues = load_workbook(path).issues
        notes = issues[issues[Iss.code] == "footer_row"][Iss.value]
        assert notes.str.contains("minh họa").any(), path.name
    assert "illustrative" in ILLUSTRATIVE_NOTE


def test_sample_uses_several_layouts(tmp_path: Path) -> None:
    names = [p.name for p in write_kim_phuong_sample(tmp_path)]
    sheets = {name: load_workbook(RAW / name).indicators for name in names}
    units_per_file = {name: ind[Ind.unit].nunique() for name, ind in sheets.items()}
    assert max(units_per_file.values()) > 1  # a wide table
    assert min(units_per_file.values()) == 1  # and one-unit tables
