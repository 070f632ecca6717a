"""Cells: sheets as grids (values, merged ranges, hidden flag), chart sheets left out."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, Reference

from ntm_analysis.cells import SheetGrid, read_sheets


def _workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Xã Kim Phượng"
    ws.append(["TT", "Chỉ tiêu", "Hiện trạng"])
    ws.append([1, "Quy hoạch", 100])
    ws.append(["", None, None])  # trailing empty rows are dropped
    ws.cell(row=8, column=2).value = None
    ws.merge_cells("A1:A2")
    ws.merge_cells("B2:C2")
    hidden = wb.create_sheet("Ẩn")
    hidden.append(["x"])
    hidden.sheet_state = "hidden"
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=2))
    wb.create_chartsheet("Biểu đồ").add_chart(chart)
    wb.save(path)
    return path


def test_read_sheets_gives_values_merged_ranges_and_hidden_flags(tmp_path: Path) -> None:
    grids = read_sheets(_workbook(tmp_path / "kim_phuong.xlsx"))
    for grid in grids:
        grid.merged.sort()
    # merging keeps only the top-left value; empty cells are ''
    assert grids == [
        SheetGrid("Xã Kim Phượng", [["TT", "Chỉ tiêu", "Hiện trạng"], ["", "Quy hoạch", ""]],
                  [((0, 0), (1, 0)), ((1, 1), (1, 2))], hidden=False),
        SheetGrid("Ẩn", [["x"]], [], hidden=True),
    ]
    assert all(type(m) is tuple and type(m[0]) is tuple for g in grids for m in g.merged)


def test_read_sheets_by_name_keeps_file_order(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "kim_phuong.xlsx")
    assert [g.name for g in read_sheets(path, sheets=["Ẩn", "Xã Kim Phượng"])] == [
        "Xã Kim Phượng", "Ẩn"]


def _unpacked(path: Path) -> bytes:
    from ntm_analysis.sniff import check_workbook_file

    copies: list[bytes] = []
    check_workbook_file(path, unpacked=copies)
    return copies[0]


def test_read_sheets_from_the_unpacked_copy_gives_the_files_grids(tmp_path: Path) -> None:
    """The package copy of the file check (XML parts stored) reads as the file does."""
    path = _workbook(tmp_path / "kim_phuong.xlsx")
    copy = _unpacked(path)
    assert read_sheets(path, content=copy) == read_sheets(path)
    assert read_sheets(path, sheets=["Ẩn"], content=copy) == read_sheets(path, sheets=["Ẩn"])


def test_a_copy_calamine_cannot_read_leaves_the_file_to_decide(tmp_path: Path) -> None:
    """Should calamine fail on the copy, the file itself is read (and its own errors hold)."""
    path = _workbook(tmp_path / "kim_phuong.xlsx")
    copy = _unpacked(path)
    assert read_sheets(path, content=copy[: len(copy) // 2]) == read_sheets(path)
    assert read_sheets(path, content=b"PK\x03\x04" + bytes(100)) == read_sheets(path)
