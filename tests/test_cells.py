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
