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


def test_show_table_renders_what_the_pandas_styler_rendered() -> None:
    """The small renderer is an equivalence of the Styler it replaced (escaping included)."""
    import re

    from IPython.display import HTML

    from ntm_analysis.i18n import status_label
    from ntm_analysis.report_data import show_table
    from ntm_analysis.style import STATUS_FILLS

    view = pd.DataFrame({
        "Đơn vị": ['Xóm <img src=x onerror="window.__pwned=1">', "Xóm Ao Sen & Nà Mò"],
        '<b>"Xóm"</b>': ["Đạt", "Chưa đạt"],
        "Khoảng cách": [0.12345, float("nan")],
        "Hạng": pd.array([1, None], dtype="Int64"),
        "Tệp": pd.array(["=HYPERLINK('x')", None], dtype="string"),
        "Đạt": [True, False],
        "Tỷ lệ": pd.array([0.5, None], dtype="Float64"),
    })
    shown = show_table(view, lang="vi")
    assert isinstance(shown, HTML)
    fills = {status_label(s, "vi"): c for s, c in STATUS_FILLS.items()}
    styler = view.style.hide(axis="index").format(escape="html", na_rep="—", precision=2)
    styler = styler.format_index(escape="html", axis=1).set_table_styles(
        [{"selector": "td, th", "props": "text-align: left;"}], overwrite=False)
    styler = styler.map(lambda v: f"background-color: {fills[v]}"
                        if isinstance(v, str) and v in fills else "")

    def normal(html: str) -> str:  # only the table ids and the order of class and id differ
        html = re.sub(r"T_[0-9a-z]+", "T_", html)
        return re.sub(r'id="([^"]*)" class="([^"]*)"', r'class="\2" id="\1"', html)

    assert normal(shown.data) == normal(styler.to_html())
    assert "<img" not in shown.data and "&lt;img src=x" in shown.data
