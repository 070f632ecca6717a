"""What the notebooks call to show the issues table."""

from __future__ import annotations

import pandas as pd

from ntm_analysis.report_data import issues_view
from ntm_analysis.schema import Iss, conform


def _issues() -> pd.DataFrame:
    return conform(pd.DataFrame([
        {Iss.source_file: "a.xlsx", Iss.source_sheet: "X", Iss.source_row: 30,
         Iss.problem: "row below the table (note or signature) was not read as data",
         Iss.severity: "info", Iss.code: "footer_row"},
        {Iss.source_file: "a.xlsx", Iss.source_sheet: "X", Iss.source_row: 9,
         Iss.problem: "something new", Iss.severity: "warning", Iss.code: "brand_new_code"},
        {Iss.source_file: "a.xlsx", Iss.source_sheet: "X", Iss.source_row: 12,
         Iss.problem: "indicator 1.1 appears more than once", Iss.severity: "error",
         Iss.code: "duplicate_indicator"},
    ]), Iss)


def test_issues_view_orders_errors_first_and_speaks_vietnamese() -> None:
    view = issues_view(_issues(), lang="vi")
    assert view[Iss.source_row].tolist() == [12, 9, 30]
    assert view[Iss.severity].tolist() == ["Lỗi", "Cảnh báo", "Ghi nhận"]
    assert view[Iss.problem].tolist() == [
        "Một chỉ tiêu xuất hiện hai lần cho cùng một đơn vị",
        "something new",  # an unknown code keeps the loader's message
        "Dòng ghi chú hoặc chữ ký dưới bảng (không phải số liệu)",
    ]


def test_issues_view_without_lang_keeps_the_messages() -> None:
    issues = _issues()
    view = issues_view(issues)
    assert set(view[Iss.problem]) == set(issues[Iss.problem])
    assert issues[Iss.severity].tolist() == ["info", "warning", "error"]  # input untouched
