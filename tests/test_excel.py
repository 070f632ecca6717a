"""Tests of ntm_analysis.excel: formatted export and formula-injection safety."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from ntm_analysis.excel import (
    FLOAT_FORMAT,
    INT_FORMAT,
    PERCENT_FORMAT,
    is_formula_like,
    write_table,
    write_tables,
)
from ntm_analysis.outputs import save_table
from ntm_analysis.style import STATUS_FILLS

HOSTILE = [
    "=1+1", "=HYPERLINK(\"http://example.invalid\",\"bấm\")", "+SUM(A1:A9)", "-2+3",
    "@SUM(1)", "=cmd|' /C calc'!A0", "\t=1+1", "\n=1+1", "-", "Xóm Ao Sen", "a=b",
]


def _read(path: Path, sheet: str) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(path)[sheet]


def test_hostile_text_stays_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "unit": HOSTILE,
        "value": [float(i) - 3.5 for i in range(len(HOSTILE))],
    })
    path = tmp_path / "out.xlsx"
    write_table(frame, path, sheet_name="Bảng")
    ws = _read(path, "Bảng")
    for i, text in enumerate(HOSTILE, start=2):
        cell = ws.cell(row=i, column=1)
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.quotePrefix is is_formula_like(text)
        number = ws.cell(row=i, column=2)
        assert number.data_type == "n" and number.value == frame["value"].iloc[i - 2]
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Bảng").to_python()
    assert [r[0] for r in rows[1:]] == HOSTILE
    assert [r[1] for r in rows[1:]] == frame["value"].tolist()


def test_no_formula_element_in_the_sheet_xml(tmp_path: Path) -> None:
    import zipfile

    write_table(pd.DataFrame({"note": HOSTILE}), tmp_path / "x.xlsx")
    xml = zipfile.ZipFile(tmp_path / "x.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_hostile_header_and_sheet_names(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=evil()": ["x"], "ok": [1]})
    write_tables({"Thôn/[1]": frame, "thôn/[1]": frame}, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "x.xlsx")
    assert wb.sheetnames == ["Thôn__1_", "thôn__1_ (2)"]
    assert wb["Thôn__1_"]["A1"].value == "=evil()"
    assert wb["Thôn__1_"]["A1"].data_type == "s"


def test_formatting(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "unit": ["Xóm Ao Sen", "Xóm Cạm Phước có tên rất dài " * 5, None],
        "households": pd.array([1250, 980, None], dtype="Int64"),
        "value": [95.5, 1250000.25, float("nan")],
        "poor_share": [0.032, 0.5, 0.0],
        "status": ["met", "not_met", "unknown"],
        "met": pd.array([True, False, None], dtype="boolean"),
    })
    path = tmp_path / "f.xlsx"
    write_tables({"Chỉ tiêu": frame}, path)
    ws = _read(path, "Chỉ tiêu")
    assert ws.freeze_panes == "B2"  # header row and label column
    assert ws.auto_filter.ref == "A1:F4"
    assert all(ws.cell(row=1, column=j).font.b for j in range(1, 7))
    assert ws["A3"].value == frame["unit"].iloc[1].rstrip() or ws["A3"].value == frame[
        "unit"].iloc[1]
    # capped at 60 characters; stored as Excel stores it, with the cell's padding (60.71)
    assert 60 <= ws.column_dimensions["A"].width < 61
    assert 6 <= ws.column_dimensions["B"].width < 20
    assert ws["B2"].number_format == INT_FORMAT and ws["B2"].value == 1250
    assert ws["C3"].number_format == FLOAT_FORMAT and ws["C3"].value == 1250000.25
    assert ws["C4"].value is None and ws["A4"].value is None and ws["B4"].value is None
    assert ws["D2"].number_format == PERCENT_FORMAT and ws["D2"].value == pytest.approx(0.032)
    for row, status in ((2, "met"), (3, "not_met"), (4, "unknown")):
        expected = STATUS_FILLS[status].lstrip("#").upper()
        assert ws.cell(row=row, column=5).fill.start_color.rgb.endswith(expected)
        assert ws.cell(row=row, column=6).fill.start_color.rgb.endswith(expected)
    assert ws["F2"].value is True and ws["F3"].value is False


def test_numeric_first_column_freezes_header_only(tmp_path: Path) -> None:
    write_table(pd.DataFrame({"year": [2023, 2024], "value": [1.0, 2.0]}), tmp_path / "y.xlsx")
    assert _read(tmp_path / "y.xlsx", "Sheet1").freeze_panes == "A2"


def test_carriage_return_first_is_text(tmp_path: Path) -> None:
    write_table(pd.DataFrame({"note": ["\r=1+1", "a\r\nb"]}), tmp_path / "r.xlsx")
    ws = _read(tmp_path / "r.xlsx", "Sheet1")
    assert ws["A2"].value == "\n=1+1" and ws["A2"].data_type == "s" and ws["A2"].quotePrefix
    assert ws["A3"].value == "a\nb"


def test_control_characters_are_kept_visible(tmp_path: Path) -> None:
    write_table(pd.DataFrame({"note": ["a\x07b", "dòng 1\ndòng 2"]}), tmp_path / "c.xlsx")
    ws = _read(tmp_path / "c.xlsx", "Sheet1")
    assert ws["A2"].value == "a\\x07b"
    assert ws["A3"].value == "dòng 1\ndòng 2"


def test_write_is_atomic_on_error(tmp_path: Path) -> None:
    path = tmp_path / "keep.xlsx"
    path.write_bytes(b"old content")

    class Boom:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_table(pd.DataFrame({"x": [Boom()]}), path)
    assert path.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.xlsx"]


def test_save_table_goes_through_the_formatted_export(tmp_path: Path) -> None:
    out = save_table(pd.DataFrame({"unit": ["=1"], "status": ["met"]}), "kq", out_dir=tmp_path)
    ws = _read(out, "kq")
    assert ws["A2"].data_type == "s" and ws["A2"].value == "=1"
    assert ws.freeze_panes == "B2"


def test_categorical_attainment_texts_export_as_their_strings(tmp_path: Path) -> None:
    """The attainment table's texts are categoricals: Excel and Parquet hold the same cells."""
    from ntm_analysis.attainment import compute_attainment
    from ntm_analysis.budget import read_attainment
    from ntm_analysis.schema import CATEGORY, Att

    ind = pd.DataFrame({"unit": ["Xóm A", "Xóm A", None], "criterion_no": ["1", "1", "2"],
                        "indicator_no": ["1.1", "1.2", "2.1"],
                        "target_text": ["≥ 90%", "Có", "=1+1"], "value": [95.0, None, 1.0],
                        "value_unit": ["%", None, "bool"],
                        "self_assessment": [None, "not_met", None]})
    att = compute_attainment(ind)
    texts = [c for c, t in Att.dtypes.items() if t == CATEGORY]
    strings = att.astype({c: "string" for c in texts})
    write_table(att, tmp_path / "cat.xlsx", sheet_name="t")
    write_table(strings, tmp_path / "str.xlsx", sheet_name="t")
    cells = [[c.value for c in row] for row in _read(tmp_path / "cat.xlsx", "t").iter_rows()]
    assert cells == [[c.value for c in row]
                     for row in _read(tmp_path / "str.xlsx", "t").iter_rows()]
    assert ["=1+1" in str(v) for row in cells for v in row].count(True) == 1  # kept as text
    att.to_parquet(tmp_path / "att.parquet")
    back = read_attainment(tmp_path / "att.parquet")
    assert back is not None
    pd.testing.assert_frame_equal(back.astype({c: "string" for c in texts}), strings)


def test_dates_and_times_read_back_as_dates_with_their_formats(tmp_path: Path) -> None:
    import datetime as dt

    from ntm_analysis.excel import DATE_FORMAT, DATETIME_FORMAT, HEADER_FILL, TIME_FORMAT

    frame = pd.DataFrame({
        "decided": [dt.date(2024, 4, 8), None],
        "updated": pd.to_datetime(["2024-04-08 14:30", None]),
        "at": [dt.time(7, 45), dt.time(16, 0)],
        "aware": [pd.Timestamp("2024-04-08 09:00", tz="Asia/Ho_Chi_Minh"), None],
    })
    write_table(frame, tmp_path / "d.xlsx")
    ws = _read(tmp_path / "d.xlsx", "Sheet1")
    assert ws["A2"].value == dt.datetime(2024, 4, 8) and ws["A2"].number_format == DATE_FORMAT
    assert ws["B2"].value == dt.datetime(2024, 4, 8, 14, 30)
    assert ws["B2"].number_format == DATETIME_FORMAT
    assert ws["C2"].value == dt.time(7, 45) and ws["C2"].number_format == TIME_FORMAT
    assert ws["D2"].value == dt.datetime(2024, 4, 8, 9, 0)  # wall time, zone dropped
    assert ws["A3"].value is None and ws["B3"].value is None and ws["D3"].value is None
    assert all(ws.cell(row=1, column=j).fill.start_color.rgb.endswith(HEADER_FILL)
               for j in range(1, 5))


def test_text_beyond_excels_cell_limit_is_cut_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from ntm_analysis.excel import MAX_CELL_CHARS

    write_table(pd.DataFrame({"note": ["ngắn", "x" * (MAX_CELL_CHARS + 10)]}), tmp_path / "l.xlsx")
    ws = _read(tmp_path / "l.xlsx", "Sheet1")
    assert ws["A2"].value == "ngắn"
    assert len(ws["A3"].value) == MAX_CELL_CHARS and ws["A3"].value.endswith("…")
    assert "cell A3" in caplog.text and str(MAX_CELL_CHARS) in caplog.text


def test_typed_columns_write_the_cells_of_the_value_by_value_path(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Columns of numbers (numpy's, pandas' nullable) and of text are written by dtype,
    without a check per value (a country's batch summary has 700,000 cells); a status column
    and object columns take each value as its type says. Both ways write the same cells."""
    import unicodedata

    import numpy as np

    from ntm_analysis.excel import MAX_CELL_CHARS

    texts = [*HOSTILE, unicodedata.normalize("NFD", "Xóm Cạm Phước"), "a\r\nb", "c\x07d", None,
             "y" * (MAX_CELL_CHARS + 5), "", "Bản Lác"]
    n = len(texts)
    wholes = [(i - 3) * 1_000_003 for i in range(n)]
    wholes_missing = [None if i % 4 == 1 else w for i, w in enumerate(wholes)]
    numbers = ([1250.5, None, -0.0, 3e15, 0.1] * 4)[:n]
    frame = pd.DataFrame({
        "note": pd.Series(texts, dtype="str"),          # by dtype
        "status": pd.Series(texts, dtype=object),       # value by value (a status column)
        "whole": np.array(wholes, dtype=np.int64),      # by dtype
        "whole_nullable": pd.array(wholes_missing, dtype="Int64"),       # by dtype
        "whole_objects": pd.Series(wholes_missing, dtype=object),        # value by value
        "real": np.array([np.nan if x is None else x for x in numbers]),  # by dtype
        "real_nullable": pd.array(numbers, dtype="Float64"),             # by dtype
        "real_objects": pd.Series(numbers, dtype=object),                # value by value
        "sum_share": np.linspace(0, 1, n),              # a percentage, by dtype
        "mixed": pd.Series([*texts[:n - 1], 7], dtype=object),
        "extreme": np.array([float("inf"), float("nan"), -float("inf"), 2.5] * 5)[:n],
    })
    write_table(frame, tmp_path / "t.xlsx", sheet_name="t")
    ws = _read(tmp_path / "t.xlsx", "t")
    columns = {name: next(ws.iter_cols(min_col=k, max_col=k, min_row=2))
               for k, name in enumerate(frame.columns, start=1)}

    def cells(name: str) -> list[tuple[object, ...]]:
        return [(c.value, c.data_type, c.number_format, c.quotePrefix) for c in columns[name]]

    def values(name: str) -> list[tuple[object, str]]:
        return [(c.value, c.data_type) for c in columns[name]]

    note = cells("note")
    assert note == cells("status")
    assert [v for v, *_ in note] == [
        None if t is None else unicodedata.normalize("NFC", t).replace("\r\n", "\n")
        .replace("\x07", "\\x07")[:MAX_CELL_CHARS - 1] + ("…" if len(t) > MAX_CELL_CHARS
                                                           else "") for t in texts]
    assert [q for *_, q in note] == [t is not None and is_formula_like(t) for t in texts]
    long_row = texts.index("y" * (MAX_CELL_CHARS + 5)) + 2
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        f"cell {c}{long_row}" for c in "ABJ"]  # once per cell, named
    assert [v for v, _ in values("whole")] == wholes
    assert values("whole_nullable") == values("whole_objects")
    assert [v for v, _ in values("whole_nullable")] == wholes_missing
    assert values("real") == values("real_nullable") == values("real_objects")
    assert [v for v, _ in values("real")] == numbers
    formats = {name: {f for v, _, f, _ in cells(name) if v is not None} for name in columns}
    assert formats["whole"] == formats["whole_nullable"] == {INT_FORMAT}
    assert formats["real"] == formats["real_nullable"] == {FLOAT_FORMAT}
    assert [v for v, _ in values("sum_share")] == pytest.approx(frame["sum_share"].tolist())
    assert formats["sum_share"] == {PERCENT_FORMAT}
    assert cells("mixed")[:n - 1] == note[:n - 1] and values("mixed")[-1] == (7, "n")
    # a float column holding an infinity is written value by value: infinities as text
    assert [v for v, _ in values("extreme")][:4] == ["inf", None, "-inf", 2.5]
