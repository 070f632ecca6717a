"""Fuzzing: the parsers and the loader never raise anything but ``NtmError`` on arbitrary input.

Short by default so that it runs in CI; ``NTM_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py``
searches longer (the value is the number of examples per test).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntm_analysis.errors import NtmError
from ntm_analysis.load import LoadResult, header_roles, load_workbook
from ntm_analysis.parse import (
    Target,
    Value,
    parse_assessment,
    parse_number,
    parse_target,
    parse_value,
)
from ntm_analysis.schema import Ind, Iss

EXAMPLES = int(os.environ.get("NTM_FUZZ_EXAMPLES", "60"))
settings.register_profile("fuzz", max_examples=EXAMPLES, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings.get_profile("fuzz")

# Text close to what workbooks hold: Vietnamese words, numbers in both conventions, symbols.
FRAGMENTS = ["Đạt", "Chưa đạt", "Có", "Chưa có", "Không", "≥", "≤", ">", "<", "=", "%", ",",
             ".", " ", "trở lên", "triệu đồng", "hộ", "lần", "/", "năm", "Tiêu chí", "1.1",
             "I", "x", "✓", "-", "\n", ";", "so với", "Từ", "tối thiểu", "không quá", "9O",
             "1.250,5", "54,03", "0.95", "1e308", "NaN", "inf", "\u0301", "\u00a0", "\u202f"]
CELL_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.integers(0, 10**6).map(str)),
             max_size=6).map(" ".join),
)
RAW = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), CELL_TEXT,
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.dates(), st.times(),
)


@FUZZ
@given(CELL_TEXT)
def test_parse_number_returns_a_finite_float_or_none(text: str) -> None:
    out = parse_number(text)
    assert out is None or (isinstance(out, float) and math.isfinite(out))


@FUZZ
@given(RAW)
def test_parse_value_returns_a_value(raw: object) -> None:
    out = parse_value(raw)
    assert isinstance(out, Value)
    assert out.kind in {"number", "percent", "bool", "text", "empty", "date"}
    assert out.number is None or (isinstance(out.number, float) and math.isfinite(out.number))
    assert isinstance(out.text, str)
    assert out.unit is None or isinstance(out.unit, str)


@FUZZ
@given(RAW)
def test_parse_target_returns_a_target(raw: object) -> None:
    out = parse_target(raw)
    assert isinstance(out, Target)
    assert out.comparator in {">=", ">", "<=", "<", "==", "is_true", "text"}
    assert out.value is None or (isinstance(out.value, float) and math.isfinite(out.value))
    assert isinstance(out.text, str)


@FUZZ
@given(RAW)
def test_parse_assessment_returns_a_status_or_none(raw: object) -> None:
    assert parse_assessment(raw) in {"met", "not_met", None}


# --------------------------------------------------------------------------- the loader

HEADER_WORDS = sorted(set(header_roles()))
GRID_CELL = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    CELL_TEXT.filter(lambda s: s.isprintable() or "\n" in s),
    st.sampled_from(["TT", "STT", "Nội dung", "Tên tiêu chí", "Hiện trạng", "Đánh giá",
                     "Tự đánh giá", "Chỉ tiêu theo quy định", "Đạt", "Chưa đạt", "Ghi chú",
                     "Kết quả rà soát", "1", "1.1", "I", "II", "x", "XÓM BẢN LÁC",
                     "XÃ KIM PHƯỢNG", "NĂM 2024", "=1+1", "(1)", "(2)"]),
    st.dates().map(lambda d: dt.datetime(d.year, d.month, d.day)),
)


@st.composite
def grids(draw: st.DrawFn) -> tuple[list[list[object]], list[tuple[int, int, int, int]]]:
    """Draw a small grid of cells and a few merged ranges (1-based, possibly overlapping)."""
    n_rows = draw(st.integers(1, 14))
    n_cols = draw(st.integers(1, 8))
    rows = draw(st.lists(st.lists(GRID_CELL, min_size=n_cols, max_size=n_cols),
                         min_size=n_rows, max_size=n_rows))
    merges = []
    for _ in range(draw(st.integers(0, 3))):
        r0 = draw(st.integers(1, n_rows))
        c0 = draw(st.integers(1, n_cols))
        r1 = draw(st.integers(r0, n_rows))
        c1 = draw(st.integers(c0, n_cols))
        if (r0, c0) != (r1, c1):
            merges.append((r0, c0, r1, c1))
    return rows, merges


def _clean(value: object) -> object:
    """Drop characters openpyxl refuses to write (control characters)."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\n\t" or ord(ch) >= 32)
    return value


@settings(FUZZ, max_examples=max(10, EXAMPLES // 2),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(grids(), st.booleans())
def test_loader_returns_a_result_or_raises_ntm_error(
        grid: tuple[list[list[object]], list[tuple[int, int, int, int]]], hidden: bool) -> None:
    rows, merges = grid
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phụ biểu"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(r, c, _clean(value))
    taken: set[tuple[int, int]] = set()
    for r0, c0, r1, c1 in merges:
        cells = {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        if cells & taken:
            continue  # Excel refuses overlapping merges; openpyxl would write them anyway
        taken |= cells
        ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
    if hidden:
        ws.row_dimensions[len(rows)].hidden = True
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"
        wb.save(path)
        try:
            result = load_workbook(path)
        except NtmError:
            return
    assert isinstance(result, LoadResult)
    assert list(result.indicators.columns) == list(Ind.dtypes)
    assert list(result.issues.columns) == list(Iss.dtypes)
    assert result.indicators[Ind.source_row].dropna().between(1, len(rows)).all()
