"""Tests of ntm_analysis.sheetxml: hidden rows and formulas without cached values per sheet."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from ntm_analysis.sheetxml import SheetExtras, _may_hold_extras, scan_sheets
from ntm_analysis.sniff import check_workbook_file


def _workbook(path: Path, *, hidden_in: str | None, formula_in: str | None) -> Path:
    """Three hamlet sheets of plain data (with "dd" in text and names); one may hide rows 4-5,
    one may hold a formula openpyxl saves without a cached value."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title in ("Xóm Ao Sen", "Xóm Bãi Bằng", "Thôn Đồng Ladder"):
        ws = wb.create_sheet(title)
        ws.append(["TT", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng"])
        for i in range(1, 9):
            ws.append([i, f"Tiêu chí {i} (address, paddy)", "Đạt", 90 + i])
        if title == hidden_in:
            ws.row_dimensions[4].hidden = True
            ws.row_dimensions[5].hidden = True
        if title == formula_in:
            ws["D7"] = "=SUM(D2:D6)"
    wb.save(path)
    return path


@pytest.mark.parametrize(("hidden_in", "formula_in"), [
    (None, None), ("Xóm Bãi Bằng", None), (None, "Thôn Đồng Ladder"),
    ("Thôn Đồng Ladder", "Xóm Ao Sen")])
def test_extras_are_found_on_the_sheet_that_holds_them(
        tmp_path: Path, hidden_in: str | None, formula_in: str | None) -> None:
    """With the parts the file check kept (one byte test over all sheets, then each sheet) and
    without them (the zip read again), the same sheets and rows are reported."""
    path = _workbook(tmp_path / "xa.xlsx", hidden_in=hidden_in, formula_in=formula_in)
    expected: dict[str, SheetExtras] = {}
    if hidden_in:
        expected[hidden_in] = SheetExtras(hidden_rows=[4, 5])
    if formula_in:
        expected.setdefault(formula_in, SheetExtras()).stale_formulas.append(
            (7, 4, "=SUM(D2:D6)"))
    parts: dict[str, bytes] = {}
    assert check_workbook_file(path, parts=parts) == "xlsx"
    assert scan_sheets(path, parts=parts) == expected
    assert scan_sheets(path) == expected


def test_byte_test_rules_out_only_what_cannot_hold_extras() -> None:
    row = b'<row r="3" spans="1:4"><c r="A3"><v>1</v></c></row>'
    assert not _may_hold_extras(row * 50 + b"<t>address paddy fdd dd</t>")
    assert _may_hold_extras(row * 50 + b'<row r="9" hidden="1"/>')
    assert _may_hold_extras(b'<x:row r="9" x:hidden="true"/>' + row)
    assert _may_hold_extras(row + b"<c r='B2'><f>A1*2</f></c>")
    assert _may_hold_extras(row + b"<x:c r='B2'><x:f t='shared' si='0'/></x:c>")
    assert not _may_hold_extras(b"")


def test_a_chartsheet_is_among_the_kept_parts(tmp_path: Path) -> None:
    """A chartsheet is a sheet of the workbook too: its part is kept, so the scans need not open
    the zip again, and they answer as they do from the zip."""
    from openpyxl.chart import BarChart, Reference

    path = _workbook(tmp_path / "xa.xlsx", hidden_in="Xóm Ao Sen", formula_in=None)
    wb = openpyxl.load_workbook(path)
    chart = BarChart()
    chart.add_data(Reference(wb["Xóm Ao Sen"], min_col=4, min_row=1, max_row=9),
                   titles_from_data=True)
    wb.create_chartsheet("Biểu đồ").add_chart(chart)
    for row in (4, 5):  # (openpyxl keeps row heights but not the hidden flag on loading)
        wb["Xóm Ao Sen"].row_dimensions[row].hidden = True
    wb.save(path)
    parts: dict[str, bytes] = {}
    check_workbook_file(path, parts=parts)
    assert "xl/chartsheets/sheet1.xml" in parts
    assert scan_sheets(path, parts=parts) == scan_sheets(path) == {
        "Xóm Ao Sen": SheetExtras(hidden_rows=[4, 5])}


def test_error_cells_are_told_apart_from_stale_formulas() -> None:
    """An error saved by a formula, an error pasted as a value, a formula never calculated and
    a plain value: only the first two are error cells (with the formula when there is one);
    the prefixed and single-quoted spellings some writers use count too."""
    from ntm_analysis.sheetxml import _scan_part

    part = (
        '<sheetData><row r="4">'
        '<c r="D4" t="e"><f>D2/D3</f><v>#DIV/0!</v></c>'
        "<c r='E4' t='e'><v>#N/A</v></c>"
        '<c r="F4"><f>SUM(F1:F3)</f></c>'
        '<c r="G4" t="n"><v>5</v></c>'
        '<x:c r="H4" t="e"><x:f t="shared" si="0"/><x:v>#REF!</x:v></x:c>'
        '<c r="I4" t="e"/>'
        "</row></sheetData>")
    assert _may_hold_extras(part.encode())
    extras = _scan_part(part)
    assert extras.error_cells == [(4, 4, "#DIV/0!", "=D2/D3"), (4, 5, "#N/A", ""),
                                  (4, 8, "#REF!", "a formula")]
    assert extras.stale_formulas == [(4, 6, "=SUM(F1:F3)")]
    assert not _may_hold_extras(b'<c r="A1" t="s"><v>3</v></c><c r="B1" t="e2"/>')
