"""Text helpers: the sheet-wide NFC shortcut gives exactly the per-cell texts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ntm_analysis.cells import read_sheets
from ntm_analysis.errors import InputError
from ntm_analysis.text import cell_text_rows, cell_texts

ROOT = Path(__file__).resolve().parents[1]


def _corpus_grids() -> list[list[list[object]]]:
    paths = sorted((ROOT / "data" / "raw").glob("*.xlsx")) + sorted(
        (ROOT / "tests" / "data" / "with-problems").glob("*.xlsx"))
    grids = []
    for path in paths:
        try:
            grids += [g.rows for g in read_sheets(path)]
        except InputError:
            continue  # the corpus's unreadable files
    return grids


@pytest.mark.parametrize("rows", [
    [["Xóm Ao Sen", "Đạt"], ["1.1", ""]],  # tidy NFC text only: the shortcut
    [["Xóm Ao Sen", 3.0, None, True], [2.5, dt.datetime(2024, 1, 5), ""]],  # numbers beside
    [["Ha\u0300 Nội"]],  # decomposed accents
    [["  Xóm"], ["Xóm  "], ["Xóm  Ao"], ["Xóm\u00a0Ao"], ["Xóm\nAo"], ["Xóm\tAo"]],
    [[" "], ["a", " b"], ["a ", "b"], ["\x00 x"], ["\u2003x"]],  # edges of the joined text
    [["\u0301", "a"], ["a", "\u0301"]],  # a combining mark at a cell's start
    [], [[]], [[""]],
])
def test_cell_text_rows_equals_cell_texts_per_row(rows: list[list[object]]) -> None:
    assert cell_text_rows(rows) == [cell_texts(r) for r in rows]


def test_cell_text_rows_on_every_sample_and_defect_sheet() -> None:
    grids = _corpus_grids()
    assert len(grids) > 30
    for rows in grids:
        assert cell_text_rows(rows) == [cell_texts(r) for r in rows]
