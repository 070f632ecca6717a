"""Tests for ntm_analysis.budget: budget tables in several layouts of the appendix family."""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ntm_analysis.budget import (
    Bud,
    Budget,
    load_budget,
    parse_criterion,
    parse_hamlet,
    read_grids,
)
from ntm_analysis.errors import InputError
from ntm_analysis.funding import summarise_funding
from ntm_analysis.income import load_income
from ntm_analysis.sample_money import write_budget_sample


def write_sheet(path: Path, rows: list[list[object]], *, title: str = "Kinh phí",
                merges: tuple[str, ...] = (), extra: dict[str, list[list[object]]] | None = None
                ) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    for name, other in (extra or {}).items():
        sheet = wb.create_sheet(name)
        for row in other:
            sheet.append(row)
    wb.save(path)
    return path


INDICATOR_SHEET = [
    ["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÓM NTM KIỂU MẪU"],
    ["TT", "Tên tiêu chí", "Nội dung tiêu chí", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
    [1, "Quy hoạch", "Có sơ đồ khu dân cư", "Có", "Có", "Đạt"],
]

# total at the bottom, one header row split by state level, a level column, "Cộng" subtotals
BOTTOM_TOTAL = [
    ["KẾ HOẠCH VỐN XÂY DỰNG NTM KIỂU MẪU NĂM 2025"],
    ["Đơn vị tính: nghìn đồng"],
    ["STT", "Nội dung đầu tư", "Cấp", "Thôn", "Tiêu chí liên quan", "Tổng kinh phí",
     "NS tỉnh", "NS huyện", "NS xã", "Nhân dân đóng góp", "Lồng ghép", "Doanh nghiệp",
     "Trạng thái"],
    ["A", "Cấp xã", None, None, None, None, None, None, None, None, None, None, None],
    ["1", "Nhà văn hóa trung tâm", "Xã", None, "Tiêu chí 2", "1.500.000", "1.000.000",
     "300.000", "100.000", "100.000", None, None, "Đã bố trí"],
    ["2", "Đường trục xã", "Xã", None, "TC 3", "2.000.000", "1.200.000", None, None,
     "300.000", "500.000", None, "Đề nghị"],
    [None, "Cộng", None, None, None, "3.500.000", "2.200.000", "300.000", "100.000", "400.000",
     "500.000", None, None],
    ["B", "Cấp thôn", None, None, None, None, None, None, None, None, None, None, None],
    ["1", "Sân thể thao", "Thôn kiểu mẫu", "Đồng Tâm", "3.1", "250.000", None, "150.000", None,
     "60.000", None, "40.000", "Kế hoạch"],
    ["2", "Wifi công cộng", "Thôn thông minh", "Đồng Tâm", "Tiêu chí 1", "50.000", None,
     None, "50.000", None, None, None, "Kế hoạch"],
    [None, "Cộng", None, None, None, "300.000", None, "150.000", "50.000", "60.000", None,
     "40.000", None],
    [None, "TỔNG CỘNG", None, None, None, "3.800.000", "2.200.000", "450.000", "150.000",
     "460.000", "500.000", "40.000", None],
]


def test_sample_budget_matches_the_report(tmp_path: Path) -> None:
    path = write_budget_sample(tmp_path / "kinh_phi.xlsx")
    result = load_budget([path])
    lines = result.lines
    assert len(result.issues[result.issues["severity"] == "error"]) == 0
    # the note under the table (the split is illustrative) is reported, not dropped
    assert list(zip(result.issues["code"], result.issues["source_row"], strict=True)) == [
        ("footer_row", 33)]
    assert "MINH HỌA" in result.issues["value"].iloc[0]
    assert math.isclose(lines[Bud.total].sum(), 4122)
    assert math.isclose(lines[Bud.state].sum(), 3792)
    assert math.isclose(lines[Bud.unassigned].sum(), 330)
    by_level = lines.groupby(Bud.level)[Bud.total].sum().to_dict()
    assert by_level == {Budget.commune: 3432, Budget.model_hamlet: 320,
                        Budget.smart_hamlet: 40, Budget.unspecified: 330}
    # group rows, the grand total and parent items (1 → 1.1, 1.2) are not counted
    assert not lines[Bud.content].str.contains("Tổng cộng").any()
    assert "1.1" in set(lines[Bud.item_no]) and not (
        (lines[Bud.group_no] == "II") & (lines[Bud.item_no] == "1")).any()
    row = lines[lines[Bud.indicator_no] == "6.1"].iloc[0]
    assert (row[Bud.criterion_no], row[Bud.total], row[Bud.source_row]) == ("6", 1250.0, 12)
    assert set(lines.loc[lines[Bud.level] == Budget.model_hamlet, Bud.hamlet]) == {
        "Xóm Bản Lác", "Xóm Cạm Phước", "Xóm Ao Sen"}
    assert (lines[Bud.year] == 2024).all()


def test_total_at_bottom_split_state_sources_and_scale(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "von.xlsx", BOTTOM_TOTAL)
    result = load_budget(path)
    lines = result.lines
    assert list(result.issues["severity"]) == []
    assert len(lines) == 4
    # nghìn đồng → million VND
    assert math.isclose(lines[Bud.total].sum(), 3800.0)
    assert math.isclose(lines[Bud.state_province].sum(), 2200.0)
    assert math.isclose(lines[Bud.state].sum(), 2200 + 450 + 150)
    assert math.isclose(lines[Bud.non_state].sum(), 460 + 500 + 40)
    assert math.isclose(lines[Bud.unassigned].sum(), 0.0)
    assert list(lines[Bud.level]) == [Budget.commune, Budget.commune, Budget.model_hamlet,
                                      Budget.smart_hamlet]
    assert list(lines[Bud.status]) == [Budget.committed, Budget.requested, Budget.planned,
                                       Budget.planned]
    assert list(lines[Bud.indicator_no].fillna("")) == ["", "", "3.1", ""]
    assert list(lines[Bud.criterion_no]) == ["2", "3", "3", "1"]
    assert list(lines[Bud.hamlet].fillna("")) == ["", "", "Xóm Đồng Tâm", "Xóm Đồng Tâm"]
    assert (lines[Bud.year] == 2025).all()  # from the title


def test_a_budget_in_dong_without_a_unit_is_a_warning(tmp_path: Path) -> None:
    """4,122,000,000 đồng with no "ĐVT" would be 4,122 billion "million VND": kept as read,
    told once for the table; the same table saying "ĐVT: đồng" is converted without a word."""
    rows = [["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
            ["1", "Trường Mầm non", "850.000.000", "850.000.000"],
            ["2", "Đường trục xóm", 3_272_000_000, 2_942_000_000]]
    result = load_budget(write_sheet(tmp_path / "dong.xlsx", rows))
    assert result.lines[Bud.total].sum() == 4_122_000_000
    (issue,) = result.issues[result.issues["code"] == "budget_implausible"].itertuples()
    assert (issue.severity, issue.source_row, issue.value) == ("warning", 1, "4,122,000,000")
    assert issue.problem == (
        "the budget lines add up to 4,122,000,000 million VND read as triệu đồng (million "
        "VND), more than 1,000,000 (a trillion VND) for one commune: expected the unit in the "
        "title or header, e.g. 'ĐVT: triệu đồng' or 'ĐVT: đồng'; kept as read")
    stated = load_budget(write_sheet(tmp_path / "dvt.xlsx", [["ĐVT: đồng"], *rows]))
    assert stated.lines[Bud.total].sum() == pytest.approx(4122)
    assert stated.issues.empty
    wrong = load_budget(write_sheet(tmp_path / "sai.xlsx", [["ĐVT: triệu đồng"], *rows]))
    assert wrong.issues["problem"].tolist() == [
        "the budget lines add up to 4,122,000,000 million VND read as triệu đồng (million "
        "VND), more than 1,000,000 (a trillion VND) for one commune: expected amounts in the "
        "triệu đồng (million VND) the table names (is that its unit?); kept as read"]


@pytest.mark.parametrize(("unit_row", "amounts", "total"), [
    # "1.000 đồng" is thousands (it was read as đồng: 1,000 times too little)
    (["Đơn vị tính: 1.000 đồng"], ["850.000", "3.272.000"], 4122.0),
    (["ĐVT: 1000đ"], ["850.000", "3.272.000"], 4122.0),
    (["ĐVT: 1.000.000 đồng"], ["850", "3.272"], 4122.0),
    # these were not read as units at all, so the amounts were taken for millions
    (["ĐVT: Nghìn VNĐ"], ["850.000", "3.272.000"], 4122.0),
    (["ĐVT: nghìn đ"], ["850.000", "3.272.000"], 4122.0),
    (["(Đơn vị: Tỷ VNĐ)"], ["0,85", "3,272"], 4122.0),
    (["Đơn vị: tỷ"], ["0,85", "3,272"], 4122.0),
    (["ĐVT: VNĐ"], ["850.000.000", "3.272.000.000"], 4122.0),
    (["ĐVT: Tr.đ"], ["850", "3.272"], 4122.0),
    (["ĐVT: Trđ"], ["850", "3.272"], 4122.0),
])
def test_the_unit_a_table_states_as_offices_write_it(tmp_path: Path, unit_row: list[object],
                                                     amounts: list[str], total: float) -> None:
    rows = [unit_row,
            ["TT", "Nội dung", "Tổng kinh phí"],
            ["1", "Trường Mầm non", amounts[0]],
            ["2", "Đường trục xóm Cộng đồng", amounts[1]]]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    assert result.lines[Bud.total].sum() == pytest.approx(total)
    assert result.issues.empty


def test_words_that_only_look_like_a_unit_state_none(tmp_path: Path) -> None:
    """"Cộng đồng", a place called Đồng Hỷ or "Tỷ lệ" name no unit: an amount in đồng under
    them is still the warning of a table without its unit."""
    rows = [["KẾ HOẠCH VỐN XÃ ĐỒNG HỶ, VỐN CỘNG ĐỒNG"],
            ["TT", "Nội dung", "Tổng kinh phí", "Tỷ lệ vốn đối ứng"],
            ["1", "Trường Mầm non", "850.000.000", "10"],
            ["2", "Đường trục xóm", "3.272.000.000", "20"]]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    assert result.lines[Bud.total].sum() == 4_122_000_000
    assert result.issues["code"].tolist() == ["budget_column_not_read", "budget_implausible"]


def test_a_line_starting_like_cong_is_no_subtotal(tmp_path: Path) -> None:
    """"Cống thoát nước" (a culvert) and "Cộng đồng dân cư …" (the community) fold like
    "Cộng": both were subtotals, checked against the lines above (three mismatch errors each)
    and left out of the totals; "Cộng" below them is the subtotal, and it adds up."""
    rows = [["ĐVT: triệu đồng"],
            ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách xã", "Cộng đồng dân cư"],
            ["1", "Nhà văn hóa xóm", 500, 400, 100],
            ["2", "Cống thoát nước xóm Bản Lác", 150, 150, None],
            ["3", "Cộng đồng dân cư hiến đất làm đường", 80, None, 80],
            [None, "CỘNG:", 730, 550, 180]]
    result = load_budget(write_sheet(tmp_path / "cong.xlsx", rows))
    assert result.lines[Bud.content].tolist() == [
        "Nhà văn hóa xóm", "Cống thoát nước xóm Bản Lác", "Cộng đồng dân cư hiến đất làm đường"]
    assert result.lines[Bud.total].sum() == 730
    assert result.lines[Bud.people].sum() == 180  # "Cộng đồng dân cư" is a source column
    assert result.issues.empty
    wrong = load_budget(write_sheet(tmp_path / "sai.xlsx", [*rows[:-1], [None, "Cộng", 700]]))
    assert wrong.issues["code"].tolist() == ["subtotal_mismatch"]


@pytest.mark.parametrize(("header", "column"), [
    ("Vốn tín dụng", Bud.enterprise_other), ("Hợp tác xã", Bud.enterprise_other),
    ("NS TW", Bud.state_central), ("Ngân sách cấp tỉnh", Bud.state_province),
    ("NS cấp huyện", Bud.state_district), ("Ngân sách cấp xã", Bud.state_commune),
    ("NS địa phương", Bud.state), ("Huy động cộng đồng", Bud.people),
])
def test_source_headers_as_offices_write_them(tmp_path: Path, header: str, column: str) -> None:
    """Each was an unknown column (its amounts not assigned to any source, a warning) or, for
    "Ngân sách cấp tỉnh" and "cấp xã", the state budget without its level."""
    rows = [["ĐVT: triệu đồng"], ["TT", "Nội dung", "Tổng kinh phí", header],
            ["1", "Đường trục xóm", 1000, 1000]]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    assert result.issues.empty
    assert result.lines[column].tolist() == [1000]
    assert result.lines[Bud.unassigned].tolist() == [0]


@pytest.mark.parametrize(("header", "column"), [
    ("Trong đó: NSNN", Bud.state_unsplit), ("Chia ra: NS tỉnh", Bud.state_province),
    ("Vốn NSNN", Bud.state_unsplit), ("Vốn huy động hợp pháp khác", Bud.enterprise_other),
])
def test_a_source_introduced_in_its_own_header(tmp_path: Path, header: str,
                                               column: str) -> None:
    # "Trong đó: NSNN" was the words introducing the sources ("Trong đó"), no source: its
    # amounts were counted as not assigned
    rows = [["TT", "Nội dung", "Tổng kinh phí", header, "Nhân dân đóng góp"],
            [1, "Nhà văn hóa", 100, 80, 20]]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    line = result.lines.iloc[0]
    assert line[column] == 80.0 and line[Bud.unassigned] == 0.0
    assert result.issues.empty


@pytest.mark.parametrize("header", ["Đơn vị thực hiện", "Địa bàn", "Vị trí"])
def test_a_place_column_as_offices_head_it(tmp_path: Path, header: str) -> None:
    # the hamlet in such a column was not read: the line was shared by every hamlet
    rows = [["TT", "Nội dung", header, "Tổng kinh phí", "NSNN"],
            [1, "Lắp đèn đường", "Xóm Cạm Phước", 100, 100],
            [2, "Sửa trụ sở", "UBND xã", 50, 50]]
    lines = load_budget(write_sheet(tmp_path / "kp.xlsx", rows)).lines
    assert lines[Bud.hamlet].tolist()[0] == "Xóm Cạm Phước"
    assert pd.isna(lines[Bud.hamlet].iloc[1])


def test_a_hidden_budget_line_is_counted_and_said_so(tmp_path: Path) -> None:
    """A line hidden in Excel (a cancelled work left in the table) is counted as any other:
    a warning names the row, as the indicator loader does (it was counted without a word)."""
    path = write_sheet(tmp_path / "an.xlsx", [
        ["ĐVT: triệu đồng"], ["TT", "Nội dung", "Tổng kinh phí"],
        ["1", "Nhà văn hóa xóm", 500], ["2", "Đường cũ (đã hủy)", 150], ["3", "Cống", 80]])
    wb = openpyxl.load_workbook(path)
    wb.active.row_dimensions[4].hidden = True
    wb.active.row_dimensions[6].hidden = True  # empty: nothing to say
    wb.save(path)
    result = load_budget(path)
    assert result.lines[Bud.total].sum() == 730
    assert list(zip(result.issues["source_row"], result.issues["code"],
                    result.issues["problem"], strict=True)) == [
        (4, "hidden_rows", "1 hidden row(s) hold data and were read: 4 (expected visible rows; "
                           "unhide them in Excel to check)")]


def test_a_place_column_naming_the_commune_names_no_hamlet(tmp_path: Path) -> None:
    """"Trung tâm xã" (the commune centre), "Toàn xã" and "UBND xã" in a "Địa điểm" column
    were hamlets "Xóm Trung", "Xóm Toàn", "Xóm UBND"; a bare proper name is a hamlet."""
    rows = [["ĐVT: triệu đồng"],
            ["STT", "Danh mục công trình", "Địa điểm", "Tổng kinh phí"],
            ["1", "Trường mầm non", "Trung tâm xã", 2000],
            ["2", "Hệ thống loa truyền thanh", "Toàn xã", 300],
            ["3", "Sửa trụ sở", "UBND xã", 132],
            ["4", "Sân vận động", "Nà Chú", 1000],
            ["5", "Nhà văn hóa", "Xóm Cạm Phước", 120]]
    lines = load_budget(write_sheet(tmp_path / "dd.xlsx", rows)).lines
    assert lines[Bud.hamlet].fillna("").tolist() == ["", "", "", "Xóm Nà Chú", "Xóm Cạm Phước"]


def test_an_amount_naming_its_unit_is_read_in_that_unit(tmp_path: Path) -> None:
    """"850 triệu", "1,2 tỷ", "300tr" and "150.000.000đ" in a table in triệu đồng: each in its
    own unit (they were errors, and "150.000.000đ" 150 billion); a word that is no unit is
    still an error naming what is expected."""
    rows = [["ĐVT: triệu đồng"],
            ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước", "Nhân dân đóng góp"],
            ["1", "Trường Mầm non", "850 triệu", "850", None],
            ["2", "Đường", "1,2 tỷ", "1.000", "200"],
            ["3", "Nhà văn hóa", "300tr", "250", "50"],
            ["4", "Kênh", "150.000.000đ", "150", None],
            ["5", "Cầu", "90 (dự kiến)", "90", None]]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    assert result.lines[Bud.total].tolist() == [850.0, 1200.0, 300.0, 150.0, 90.0]
    # the line's total is then the sum of its sources, and said so
    assert result.issues["code"].tolist() == ["bad_amount", "total_missing"]
    issue = next(result.issues.itertuples())
    assert (issue.source_row, issue.value) == (7, "90 (dự kiến)")
    assert issue.problem == ("expected an amount in million VND (a number, or a number and "
                             "its unit: '850 triệu', '1,2 tỷ')")


def test_desks_and_village_lanes_are_no_hamlet_budget(tmp_path: Path) -> None:
    """A parent item "Mua sắm bàn ghế" (desks: "bàn", not "bản") and "Đường làng, ngõ xóm"
    (village lanes) put their lines in no model hamlet's budget (both did); "Buôn Ko Siêr", a
    hamlet of the Central Highlands, does."""
    rows = [["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
            ["1", "Mua sắm bàn ghế cho các lớp học", 300, 300],
            ["1.1", "Trường Mầm non", 100, 100],
            ["1.2", "Trường Tiểu học", 200, 200],
            ["2", "Đường làng, ngõ xóm", 500, 500],
            ["2.1", "Cứng hóa 1,2 km", 500, 500],
            ["3", "Buôn Ko Siêr", 80, 80],
            ["3.1", "Nhà văn hóa", 80, 80]]
    lines = load_budget(write_sheet(tmp_path / "kp.xlsx", rows)).lines
    assert list(zip(lines[Bud.item_no], lines[Bud.level], strict=True)) == [
        ("1.1", Budget.unspecified), ("1.2", Budget.unspecified), ("2.1", Budget.unspecified),
        ("3.1", Budget.model_hamlet)]


def test_a_period_in_the_title_is_not_the_budgets_year(tmp_path: Path) -> None:
    """"NĂM 2024 (GIAI ĐOẠN 2021-2025)": the lines are 2024's (the latest year named, 2025,
    was taken)."""
    rows = [["KINH PHÍ XÂY DỰNG XÃ NTM KIỂU MẪU NĂM 2024 (GIAI ĐOẠN 2021-2025)"],
            ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
            ["1", "Trường Mầm non", 850, 850]]
    lines = load_budget(write_sheet(tmp_path / "kp.xlsx", rows)).lines
    assert lines[Bud.year].tolist() == [2024]


def test_state_total_column_with_split_below_it(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước", None, None, "Nhân dân"],
        [None, None, None, "Tổng số", "Trung ương", "Tỉnh", None],
        ["1", "Kênh mương", 100, 80, 50, 20, 20],
    ]
    path = write_sheet(tmp_path / "b.xlsx", rows, merges=("D1:F1", "A1:A2", "B1:B2", "C1:C2",
                                                          "G1:G2"))
    line = load_budget(path).lines.iloc[0]
    assert (line[Bud.state_central], line[Bud.state_province]) == (50.0, 20.0)
    assert line[Bud.state_unsplit] == pytest.approx(10.0)  # 80 - 50 - 20, not split by level
    assert line[Bud.state] == pytest.approx(80.0)
    assert line[Bud.people] == 20.0 and line[Bud.unassigned] == pytest.approx(0.0)


# the state money split by kind of capital, as district plans write it: "Ngân sách nhà nước"
# over "Vốn đầu tư phát triển" | "Vốn sự nghiệp"
CAPITAL_KINDS = [
    ["KINH PHÍ XÂY DỰNG XÃ KIM PHƯỢNG NTM KIỂU MẪU NĂM 2024"],
    ["ĐVT: triệu đồng"],
    ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước", None, "Nhân dân đóng góp"],
    [None, None, None, "Vốn đầu tư phát triển", "Vốn sự nghiệp", None],
    ["I", "Xã NTM kiểu mẫu", 1000, 700, 200, 100],
    [1, "Nâng cấp trường mầm non (TC 5)", 600, 500, 50, 50],
    [2, "Cống thoát nước", 400, 200, 150, 50],
    [None, "Tổng cộng", 1000, 700, 200, 100],
]


def test_the_state_budget_split_by_kind_of_capital_is_summed(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "kp.xlsx", CAPITAL_KINDS, merges=("D3:E3",))
    result = load_budget(path)
    lines = result.lines
    assert lines[Bud.state_unsplit].tolist() == [550.0, 350.0]  # both kinds, not the first
    assert lines[Bud.state].sum() == 900.0 and lines[Bud.unassigned].sum() == 0.0
    assert result.issues.empty  # no column left out, no subtotal mismatch
    rows = [row[:] for row in CAPITAL_KINDS]
    rows[4][4] = 210  # the group's "Vốn sự nghiệp" says 210, its lines 200
    result = load_budget(write_sheet(tmp_path / "sai.xlsx", rows, merges=("D3:E3",)))
    issue = result.issues.iloc[0]
    assert (issue["code"], issue["source_row"], issue["value"]) == (
        "subtotal_mismatch", 5, "700 + 210")
    assert issue["column"] == "Ngân sách nhà nước / Vốn đầu tư phát triển + Vốn sự nghiệp"


def test_each_state_level_split_by_kind_of_capital(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Nguồn vốn", None, None, None, None],
        [None, None, None, "Ngân sách tỉnh", None, "Ngân sách huyện", None, "Nhân dân"],
        [None, None, None, "Vốn ĐTPT", "Vốn SN", "Vốn ĐTPT", "Vốn SN", None],
        [1, "Nâng cấp trường", 600, 300, 50, 150, 50, 50],
    ]
    path = write_sheet(tmp_path / "kp.xlsx", rows, merges=("D1:H1", "D2:E2", "F2:G2"))
    line = load_budget(path).lines.iloc[0]
    assert (line[Bud.state_province], line[Bud.state_district]) == (350.0, 200.0)
    assert pd.isna(line[Bud.state_unsplit]) and line[Bud.unassigned] == 0.0


def test_a_state_total_beside_its_kinds_of_capital_is_checked(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước", None, None, "Nhân dân"],
        [None, None, None, "Tổng số", "Vốn ĐTPT", "Vốn SN", None],
        [1, "Nâng cấp trường", 600, 550, 500, 50, 50],
        [2, "Đường trục xã", 400, 350, 200, 100, 50],
    ]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows, merges=("D1:F1",)))
    assert result.lines[Bud.state].tolist() == [550.0, 300.0]
    assert result.lines[Bud.unassigned].tolist() == [0.0, 50.0]
    errors = result.issues
    assert errors[["code", "source_row", "severity"]].values.tolist() == [
        ["state_split", 4, "error"]]
    assert "350" in errors.iloc[0]["problem"] and "300" in errors.iloc[0]["problem"]
    assert (errors.iloc[0]["column"], errors.iloc[0]["value"]) == (
        "Ngân sách nhà nước / Tổng số", "350")  # the header, not "state budget" and 350.0


def test_sources_above_the_total_name_the_total_column(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "NS tỉnh", "Nhân dân đóng góp"],
        [1, "Nhà văn hóa", 100, 80, 40],
    ]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    issue = result.issues.iloc[0]
    assert (issue["code"], issue["severity"], issue["source_row"], issue["column"],
            issue["value"]) == ("sources_exceed_total", "error", 2, "Tổng kinh phí", "100")
    assert "120" in issue["problem"]


def test_a_phasing_by_year_is_named_not_taken_for_the_year_column(tmp_path: Path) -> None:
    rows = [
        ["KẾ HOẠCH VỐN XÂY DỰNG XÃ KIM PHƯỢNG NTM KIỂU MẪU NĂM 2024"],
        ["TT", "Nội dung", "Tổng kinh phí", "Phân kỳ đầu tư", None, "Nhân dân"],
        [None, None, None, "Năm 2024", "Năm 2025", None],
        [1, "Nâng cấp trường", 600, 400, 200, 50],
        [2, "Đường trục xã", 400, 400, None, 50],
    ]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows, merges=("D2:E2",)))
    assert result.lines[Bud.year].tolist() == [2024, 2024]  # the title's, not "400"
    named = result.issues[result.issues["code"] == "budget_column_not_read"]
    assert named["column"].tolist() == ["Phân kỳ đầu tư / Năm 2024", "Phân kỳ đầu tư / Năm 2025"]
    assert set(named["severity"]) == {"info"}


def test_a_line_naming_several_hamlets_is_shared_not_the_first_ones(tmp_path: Path) -> None:
    rows = [
        ["KINH PHÍ XÂY DỰNG XÓM NTM KIỂU MẪU XÃ KIM PHƯỢNG NĂM 2024"],
        ["TT", "Nội dung", "Xóm", "Tổng kinh phí", "Ngân sách nhà nước"],
        ["II", "Xóm NTM kiểu mẫu", None, None, None],
        [1, "Lắp đèn đường", "Cạm Phước, Bản Lác", 100, 100],
        [2, "Sửa nhà văn hóa", "Cạm Phước và Ao Sen", 120, 120],
        [3, "Biển tên", "Cạm Phước", 40, 40],
        [4, "Nhà văn hóa xóm Ao Sen, xóm Bản Lác", None, 60, 60],
        [5, "Nâng cấp nhà văn hóa xóm Cạm Phước, lát sân", None, 30, 30],
    ]
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", rows))
    lines = result.lines
    # the first line was all Cạm Phước's, the fourth all Ao Sen's
    assert lines[Bud.hamlet].isna().tolist() == [True, True, False, True, False]
    assert lines[Bud.hamlet].dropna().tolist() == ["Xóm Cạm Phước", "Xóm Cạm Phước"]
    assert set(lines[Bud.level]) == {"model_hamlet"}
    shared = result.issues
    assert list(zip(shared["source_row"], shared["column"], shared["code"], strict=True)) == [
        (4, "Xóm", "hamlets_shared"), (5, "Xóm", "hamlets_shared"),
        (7, "Nội dung", "hamlets_shared")]
    assert "2 hamlets (Xóm Cạm Phước, Xóm Bản Lác)" in shared.iloc[0]["problem"]
    assert "(Xóm Ao Sen, Xóm Bản Lác)" in shared.iloc[2]["problem"]


def test_a_place_criterion_or_status_merged_down_its_lines_is_each_lines(
        tmp_path: Path) -> None:
    rows = [
        ["KINH PHÍ XÂY DỰNG XÓM NTM KIỂU MẪU XÃ KIM PHƯỢNG NĂM 2024"],
        ["TT", "Xóm", "Nội dung", "Tiêu chí", "Tổng kinh phí", "Ngân sách nhà nước",
         "Trạng thái"],
        [1, "Cạm Phước", "Lắp đèn đường", "TC 3", 100, 100, "Đã bố trí"],
        [2, None, "Sửa nhà văn hóa", None, 120, 100, None],
        [3, None, "Biển tên", "TC 5", 40, 40, None],
        [4, "Bản Lác", "Cây xanh", "TC 7", 60, 60, "Đề nghị"],
        [5, None, "Thùng rác", None, 20, 20, None],
    ]
    path = write_sheet(tmp_path / "kp.xlsx", rows,
                       merges=("B3:B5", "B6:B7", "D3:D4", "G3:G5", "G6:G7"))
    lines = load_budget(path).lines
    # the lines below each merge's first had no hamlet (shared, level unspecified), criterion
    # or status (planned)
    assert lines[Bud.hamlet].tolist() == ["Xóm Cạm Phước"] * 3 + ["Xóm Bản Lác"] * 2
    assert set(lines[Bud.level]) == {"model_hamlet"}
    assert lines[Bud.criterion_no].tolist()[:4] == ["3", "3", "5", "7"]
    assert pd.isna(lines[Bud.criterion_no].iloc[4])
    assert lines[Bud.status].tolist() == ["committed"] * 3 + ["requested"] * 2


# a funding-gap table: each line's need, what is allocated and what is still missing
GAP_TABLE = [
    ["NHU CẦU VỐN XÂY DỰNG XÃ KIM PHƯỢNG ĐẠT CHUẨN NTM KIỂU MẪU NĂM 2024"],
    ["ĐVT: triệu đồng"],
    ["TT", "Nội dung", "Tổng nhu cầu", "Ngân sách nhà nước", "Đã bố trí", "Còn thiếu"],
    ["I", "Xã NTM kiểu mẫu", 1000, 900, 800, 200],
    [1, "Nâng cấp trường mầm non (TC 5)", 600, 550, 400, 200],
    [2, "Đường trục xã", 400, 350, 400, 0],
    [None, "Tổng cộng", 1000, 900, 800, 200],
]


def test_a_funding_gap_tables_allocated_and_missing_amounts_are_read(tmp_path: Path) -> None:
    result = load_budget(write_sheet(tmp_path / "kp.xlsx", GAP_TABLE))
    lines = result.lines
    assert lines[Bud.committed].tolist() == [400.0, 400.0]
    assert lines[Bud.shortfall].tolist() == [200.0, 0.0]
    assert lines[Bud.total].sum() == 1000.0 and lines[Bud.state].sum() == 900.0
    assert result.issues.empty  # both columns read (they were named as not read), sums check
    rows = [row[:] for row in GAP_TABLE]
    rows[5][5] = 50  # allocated 400 + missing 50 is not the line's 400
    rows[3][5] = 210  # the group's "Còn thiếu" says 210, its lines 200
    result = load_budget(write_sheet(tmp_path / "sai.xlsx", rows))
    issues = result.issues.set_index("code")
    assert issues.loc["gap_mismatch", "source_row"] == 6
    assert issues.loc["gap_mismatch", "severity"] == "warning"
    assert issues.loc["gap_mismatch", "problem"] == (
        "allocated 400 + missing 50 = 450, not the line's total 400 (read as written)")
    assert issues.loc["subtotal_mismatch", "column"] == "Còn thiếu"


def test_subtotal_mismatch_is_an_issue_not_a_silent_choice(tmp_path: Path) -> None:
    rows = [row[:] for row in BOTTOM_TOTAL]
    rows[6][5] = "3.600.000"  # the commune "Cộng" says 3,600 but its lines add to 3,500
    path = write_sheet(tmp_path / "sai.xlsx", rows)
    result = load_budget(path)
    errors = result.issues[result.issues["severity"] == "error"]
    assert list(errors["code"]) == ["subtotal_mismatch"]
    issue = errors.iloc[0]
    assert (issue["source_file"], issue["source_row"], issue["column"]) == (
        "sai.xlsx", 7, "Tổng kinh phí")
    assert "3500" in issue["problem"] and "3600" in issue["problem"]
    # lines are still counted once each, from the lines themselves
    assert math.isclose(result.lines[Bud.total].sum(), 3800.0)


def test_grand_total_mismatch_and_bad_amount(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
        [None, "Tổng cộng", "1.000", "900"],
        ["1", "Đường", "600", "600"],
        ["2", "Trường", "n/a", None],
        ["3", "Chợ", "300", "300"],
    ]
    result = load_budget(write_sheet(tmp_path / "g.xlsx", rows))
    codes = sorted(result.issues["code"])
    assert "bad_amount" in codes and "grand_total_mismatch" in codes
    bad = result.issues[result.issues["code"] == "bad_amount"].iloc[0]
    assert (bad["source_row"], bad["value"]) == (4, "n/a")


def test_rows_that_are_not_budget_lines_are_reported(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước", "Ghi chú"],
        ["1", "Đường", "600", "600", None],
        [None, None, None, None, "xem phụ lục 2"],
        ["2", "Trường", "300", "300", None],
        [None, None, None, None, None],
        ["Ghi chú: số liệu dự kiến"],
    ]
    result = load_budget(write_sheet(tmp_path / "n.xlsx", rows))
    assert list(result.lines[Bud.source_row]) == [2, 4]
    assert list(zip(result.issues["source_row"], result.issues["severity"],
                    result.issues["code"], result.issues["value"], strict=True)) == [
        (3, "info", "row_not_read", "xem phụ lục 2"),
        (6, "info", "footer_row", "Ghi chú: số liệu dự kiến")]


def test_a_line_without_content_is_counted_with_a_warning(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
        ["1", "Đường", 600, 600],
        [None, None, 250, None],
        ["2", None, 100, 100],
    ]
    result = load_budget(write_sheet(tmp_path / "c.xlsx", rows))
    assert result.lines[Bud.total].sum() == 950
    assert list(zip(result.issues["source_row"], result.issues["severity"],
                    result.issues["code"], result.issues["value"], strict=True)) == [
        (3, "warning", "line_no_content", "250"),
        (4, "warning", "line_no_content", "2 | 100 | 100")]


def test_a_column_of_amounts_the_reader_does_not_know_is_named(tmp_path: Path) -> None:
    """'Dân góp' is people's money; 'Vốn đối ứng' under 'Nguồn vốn' and a column without a
    header hold money no source takes (a warning: the split counts it as not assigned); a
    quantity column is only named."""
    rows = [
        ["NHU CẦU KINH PHÍ XÃ TÂN DƯƠNG NĂM 2025"],
        ["TT", "Nội dung", "Khối lượng (km)", "Tổng kinh phí", "Nguồn vốn", None, None, None],
        [None, None, None, None, "NSNN", "Vốn đối ứng", "Dân góp", None],
        ["1", "Đường trục xóm", 2.5, 1000, 700, 200, 100, 55],
        ["2", "Nhà văn hóa", None, "500", "400", "50", "50", None],
    ]
    result = load_budget(write_sheet(tmp_path / "cols.xlsx", rows))
    lines = result.lines
    assert list(lines[Bud.people]) == [100, 50]
    assert list(lines[Bud.unassigned]) == [200, 50]
    assert [(i.severity, i.column, i.problem) for i in result.issues.itertuples()] == [
        ("info", "Khối lượng (km)",
         "column 'Khối lượng (km)' holds figures (row 4) that are neither a total nor a "
         "source; not read"),
        ("warning", "Nguồn vốn / Vốn đối ứng",
         "column 'Nguồn vốn / Vốn đối ứng' holds amounts (2 rows, 4–5) but is no budget column "
         "this reader knows: its amounts are in no source, so the split counts them as not "
         "assigned; name it as a source ('Nhân dân đóng góp', 'Lồng ghép', 'Doanh nghiệp và "
         "khác', 'Ngân sách xã' …)"),
        ("warning", "H",
         "column H (no header) holds amounts (row 4) but is no budget column this reader "
         "knows: its amounts are in no source, so the split counts them as not assigned; name "
         "it as a source ('Nhân dân đóng góp', 'Lồng ghép', 'Doanh nghiệp và khác', 'Ngân "
         "sách xã' …)")]
    assert set(result.issues["code"]) == {"budget_column_not_read"}


def test_a_negative_amount_is_an_error_and_not_used(tmp_path: Path) -> None:
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
        ["1", "Đường", 600, 600],
        ["2", "Điện chiếu sáng", "-20", None],
    ]
    result = load_budget(write_sheet(tmp_path / "neg.xlsx", rows))
    assert result.lines[Bud.total].sum() == 600
    (issue,) = result.issues.itertuples()
    assert (issue.source_row, issue.code, issue.severity, issue.value) == (
        3, "negative_amount", "error", "-20")
    assert issue.problem.startswith("expected an amount of zero or more, found a negative one")


def test_a_formula_without_a_saved_result_is_a_warning(tmp_path: Path) -> None:
    """A total typed as =SUM(…) by a tool that never calculated reads as empty: said, by cell;
    in an income table too."""
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
        [None, "Tổng cộng", "=SUM(C3:C4)", "=SUM(D3:D4)"],
        ["1", "Đường", 600, 600],
        ["2", "Trường", 300, 300],
    ]
    result = load_budget(write_sheet(tmp_path / "f.xlsx", rows))
    assert result.lines[Bud.total].sum() == 900
    assert [(i.source_row, i.column, i.value, i.code, i.severity)
            for i in result.issues.itertuples()] == [
        (2, "C", "=SUM(C3:C4)", "formula_no_value", "warning"),
        (2, "D", "=SUM(D3:D4)", "formula_no_value", "warning")]
    income = write_sheet(tmp_path / "i.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG"],
        ["Đơn vị", "Năm 2022", "Năm 2023"],
        ["Xã Tân Dương", 50, "=B3*1.08"],
    ], title="Thu nhập")
    issues = load_income([income]).issues
    stale = issues[issues["code"] == "formula_no_value"]
    assert list(zip(stale["source_row"], stale["column"], stale["value"], strict=True)) == [
        (3, "C", "=B3*1.08")]


def test_an_excel_error_is_a_warning_naming_its_cell(tmp_path: Path) -> None:
    """A source amount holding #REF! (a formula whose reference was deleted, pasted as a value)
    reads as empty: its 600 count as not assigned, and the warning says which cell and why."""
    rows = [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
        ["1", "Đường", 600, "#REF!"],
        ["2", "Trường", 300, 300],
    ]
    result = load_budget(write_sheet(tmp_path / "f.xlsx", rows))
    assert result.lines[Bud.total].sum() == 900
    (issue,) = result.issues[result.issues["code"] == "excel_error"].itertuples()
    assert (issue.source_row, issue.column, issue.value, issue.severity) == (
        2, "D", "#REF!", "warning")
    assert issue.problem == ("cell D2 holds the Excel error #REF!: expected a value (correct "
                             "the formula or the cell in Excel and save it again); the cell "
                             "was read as empty")


def test_an_excel_error_kept_as_text_is_the_same_warning(tmp_path: Path) -> None:
    """"#REF!" as a text cell (pasted as text; calamine reads it as that text) was an error
    "expected an amount"; it is the Excel-error warning, in an income table too."""
    path = write_sheet(tmp_path / "f.xlsx", [
        ["TT", "Nội dung", "Tổng kinh phí", "Ngân sách nhà nước"],
        ["1", "Đường", 600, "#REF!"], ["2", "Trường", 300, 300]])
    wb = openpyxl.load_workbook(path)
    wb.active["D2"].data_type = "s"
    wb.save(path)
    issues = load_budget(path).issues
    assert list(zip(issues["code"], issues["severity"], issues["value"], strict=True)) == [
        ("excel_error", "warning", "#REF!")]
    assert issues["problem"].iloc[0].startswith("the cell holds the Excel error #REF!: expected "
                                                "a value")
    income = write_sheet(tmp_path / "i.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG"],
        ["Đơn vị", "Năm 2022", "Năm 2023"], ["Xã Tân Dương", 50, "#N/A"]], title="Thu nhập")
    wb = openpyxl.load_workbook(income)
    wb.active["C3"].data_type = "s"
    wb.save(income)
    got = load_income([income]).issues
    assert got.loc[got["source_row"] == 3, ["code", "severity"]].values.tolist() == [
        ["excel_error", "warning"]]


def test_other_sheets_are_skipped_with_info(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "kp.xlsx", BOTTOM_TOTAL, extra={"Xóm": INDICATOR_SHEET})
    result = load_budget(path)
    info = result.issues[result.issues["severity"] == "info"]
    assert list(info["source_sheet"]) == ["Xóm"]
    assert len(result.lines) == 4


def test_no_budget_table_anywhere_is_an_input_error(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "chi_tieu.xlsx", INDICATOR_SHEET)
    with pytest.raises(InputError, match="chi_tieu.xlsx: no budget table found"):
        load_budget([path])


def test_missing_file_and_not_a_workbook(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="khong_co.xlsx: file not found"):
        load_budget([tmp_path / "khong_co.xlsx"])
    junk = tmp_path / "rac.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputError, match="rac.xlsx: this is a plain text file, not an Excel"):
        read_grids(junk)


def test_input_files_are_not_changed(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "von.xlsx", BOTTOM_TOTAL)
    before = path.read_bytes()
    load_budget(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(("text", "bare", "expected"), [
    ("TC 6 - Giáo dục", False, ("6", None)),
    ("Tiêu chí số 02", False, ("2", None)),
    ("6.1", True, ("6", "6.1")),
    ("10.2 - Thu nhập", True, ("10", "10.2")),
    ("Kiên cố hóa 1,5 km kênh", False, (None, None)),
    ("6.1", False, (None, None)),
])
def test_parse_criterion(text: str, bare: bool, expected: tuple[str | None, str | None]) -> None:
    assert parse_criterion(text, bare=bare) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Bê tông hóa đường xóm Cạm Phước", "Xóm Cạm Phước"),
    ("Xóm Phai Đá: mô hình chuyển đổi số", "Xóm Phai Đá"),
    ("Hỗ trợ 06 xóm lắp dụng cụ thể thao", None),
    ("III. Xóm thông minh", None),
])
def test_parse_hamlet(text: str, expected: str | None) -> None:
    assert parse_hamlet(text) == expected


# ---------------------------------------------------------------------------- communes

KP, BC = "kim_phuong_2024_kinh_phi.xlsx", "bao_cuong_2024_kinh_phi.xlsx"


@pytest.fixture
def two_communes(tmp_path: Path) -> list[Path]:
    """The sample budget of Kim Phượng and the same workbook written for Bảo Cường."""
    return [write_budget_sample(tmp_path / KP),
            write_budget_sample(tmp_path / BC, commune="Bảo Cường")]


def figures(lines: pd.DataFrame) -> tuple[float, dict[str, float], dict[str, float]]:
    summary = summarise_funding(lines)
    return summary.total_million_vnd, summary.by_level, summary.by_source_group


SAMPLE_FIGURES = (4122.0, {"commune": 3432.0, "model_hamlet": 320.0, "smart_hamlet": 40.0,
                           "unspecified": 330.0},
                  {"state": 3792.0, "non_state": 0.0, "unassigned": 330.0})


def test_budget_lines_name_the_commune_of_their_title(two_communes: list[Path]) -> None:
    lines = load_budget(two_communes).lines  # no commune asked: every line, as before
    assert len(lines) == 30
    named = lines.groupby("source_file")["commune"].agg(lambda s: sorted(set(s)))
    assert named.to_dict() == {BC: ["Bảo Cường"], KP: ["Kim Phượng"]}
    assert all(unicodedata.is_normalized("NFC", c) for c in lines["commune"])


@pytest.mark.parametrize("spelling", ["Kim Phượng", "KIM PHƯỢNG", "xã kim phuong",
                                      unicodedata.normalize("NFD", "Xã Kim Phượng")])
def test_load_budget_keeps_the_asked_commune(two_communes: list[Path], spelling: str) -> None:
    result = load_budget(two_communes, commune=spelling)
    assert set(result.lines["source_file"]) == {KP}
    assert figures(result.lines) == SAMPLE_FIGURES  # 4,122 = 3,432 + 320 + 40 + 330
    assert figures(result.lines) == figures(load_budget(two_communes[0]).lines)
    left = result.issues[result.issues["code"] == "other_commune"]
    assert left[["source_file", "severity"]].values.tolist() == [[BC, "info"]]
    assert "Bảo Cường, not " in left["problem"].iloc[0]
    other = load_budget(two_communes, commune="bao cuong")
    assert set(other.lines["source_file"]) == {BC}


def test_load_budget_does_not_add_up_two_communes(two_communes: list[Path]) -> None:
    with pytest.raises(InputError) as error:
        load_budget(two_communes, commune="")  # "the one commune named": there are two
    message = str(error.value)
    assert f"Bảo Cường ({BC}), Kim Phượng ({KP})" in message and "--commune" in message
    with pytest.raises(InputError, match="no budget table of commune Hà Nội; budget tables "
                                         "found for Bảo Cường"):
        load_budget(two_communes, commune="Hà Nội")
    with pytest.raises(InputError, match="no budget table of commune Bảo Cươn \\(did you mean "
                                         "'Bảo Cường'\\?\\); budget tables found for"):
        load_budget(two_communes, commune="Bảo Cươn")
    # one commune in the data: "" takes it
    assert figures(load_budget(two_communes[:1], commune="").lines) == SAMPLE_FIGURES


def test_a_table_naming_no_commune_is_left_out_only_beside_other_communes(
        two_communes: list[Path], tmp_path: Path) -> None:
    unnamed = write_sheet(tmp_path / "ke_hoach.xlsx", BOTTOM_TOTAL)  # title names no commune
    assert load_budget(unnamed).lines["commune"].isna().all()
    alone = load_budget(unnamed, commune="Kim Phượng")  # nothing to mix it with: kept
    assert len(alone.lines) == len(load_budget(unnamed).lines) > 0
    with_kp = load_budget([two_communes[0], unnamed], commune="Kim Phượng")
    assert set(with_kp.lines["source_file"]) == {KP, "ke_hoach.xlsx"}
    mixed = load_budget([*two_communes, unnamed], commune="Kim Phượng")
    assert set(mixed.lines["source_file"]) == {KP}
    warning = mixed.issues[mixed.issues["code"] == "commune_not_named"]
    assert warning[["source_file", "severity"]].values.tolist() == [
        ["ke_hoach.xlsx", "warning"]]
    assert "names no commune" in warning["problem"].iloc[0]
    assert f"Bảo Cường ({BC})" in warning["problem"].iloc[0]


def test_a_title_naming_two_communes_is_not_attributed(tmp_path: Path) -> None:
    rows = [["KẾ HOẠCH VỐN XÂY DỰNG NTM KIỂU MẪU XÃ KIM PHƯỢNG, XÃ BẢO CƯỜNG NĂM 2025"],
            *BOTTOM_TOTAL[1:]]
    result = load_budget(write_sheet(tmp_path / "chung.xlsx", rows))
    assert result.lines["commune"].isna().all()
    ambiguous = result.issues[result.issues["code"] == "budget_communes_ambiguous"]
    assert len(ambiguous) == 1
    assert "names 2 communes (Kim Phượng, Bảo Cường)" in ambiguous["problem"].iloc[0]
