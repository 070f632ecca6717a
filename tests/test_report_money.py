"""Tests for ``ntm_analysis.report_money``: the money sections of the readiness report.

Workbooks are written in the test (the bundled sample writers, openpyxl); expected figures are
derived from the same workbooks through ``funding`` / ``income``, not typed in.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import openpyxl
import pandas as pd
import pytest
from test_budget import BOTTOM_TOTAL, write_sheet

from ntm_analysis import funding, income, readiness, report_money
from ntm_analysis.budget import load_budget
from ntm_analysis.export import format_number
from ntm_analysis.i18n import term
from ntm_analysis.report_money import MoneyData, commune_income, load_money
from ntm_analysis.sample_money import write_budget_sample, write_income_sample

matplotlib.use("Agg")


#: The sample tables' notes ("illustrative") as a report lists them: file, code.
NOTES = [["kp_kinh_phi.xlsx", "footer_row"], ["kp_thu_nhap.xlsx", "footer_row"]]


def write_indicator_only(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["TT", "Tên tiêu chí", "Chỉ tiêu", "Hiện trạng", "Đánh giá"])
    wb.active.append([1, "Quy hoạch", "Có", "Có", "Đạt"])
    wb.save(path)
    return path


@pytest.fixture
def raw(tmp_path: Path) -> list[Path]:
    return [write_budget_sample(tmp_path / "kp_kinh_phi.xlsx"),
            write_income_sample(tmp_path / "kp_thu_nhap.xlsx"),
            write_indicator_only(tmp_path / "kp_xa.xlsx")]


def income_rows(unit: str, observed: dict[int, float], target: dict[int, float],
                *, level: str = "commune") -> pd.DataFrame:
    rows = [(y, "observed", v) for y, v in observed.items()] + [
        (y, "target", v) for y, v in target.items()]
    return pd.DataFrame({
        "source_file": "tn.xlsx", "source_sheet": "Thu nhập", "source_row": 5, "unit": unit,
        "level": level, "year": [r[0] for r in rows], "kind": [r[1] for r in rows],
        "value": [r[2] for r in rows], "note": None})


# ---------------------------------------------------------------------------- loading


def test_load_money_reads_the_tables_beside_the_appendices(raw: list[Path],
                                                           tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook", encoding="utf-8")
    money = load_money([*raw, broken], year=2024)
    direct = load_budget(raw[0]).lines
    assert money.budget is not None and money.income is not None
    assert len(money.budget) == len(direct)
    assert money.budget["total"].sum() == pytest.approx(direct["total"].sum())
    assert money.budget_files == ["kp_kinh_phi.xlsx"]
    assert money.income_files == ["kp_thu_nhap.xlsx"]
    assert money.files_read == 4
    # the notes under the tables (their figures are illustrative) are listed; "sheet
    # skipped" notes are not
    assert money.issues[["source_file", "code"]].values.tolist() == NOTES


def test_load_money_lists_what_its_tables_left_unread(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Thu nhập"
    for row in (["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG"],
                ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Tăng (%)"],
                [1, "Xã Tân Dương", "50,0", "55,0", "10,0"], [None, "Bình quân", "50,0", "55,0"],
                ["Nguồn: UBND xã"]):
        wb.active.append(row)
    wb.save(tmp_path / "tn.xlsx")
    money = load_money([tmp_path / "tn.xlsx", write_indicator_only(tmp_path / "xa.xlsx")],
                       year=2024)
    # the column of rates, the average and the source line; not the indicator workbook's
    # "no income table here"
    assert money.issues[["source_file", "source_row", "code"]].values.tolist() == [
        ["tn.xlsx", 2, "column_not_read"], ["tn.xlsx", 4, "summary_row"],
        ["tn.xlsx", 5, "footer_row"]]


def test_load_money_without_money_tables_is_not_an_error(tmp_path: Path) -> None:
    money = load_money([write_indicator_only(tmp_path / "xa.xlsx")], year=2024)
    assert money.budget is None and money.income is None and money.files_read == 1


def test_load_money_keeps_budget_problems_and_other_years_out(tmp_path: Path) -> None:
    rows = [row[:] for row in BOTTOM_TOTAL]
    rows[6][5] = "3.600.000"  # the commune subtotal disagrees with its lines
    path = write_sheet(tmp_path / "sai.xlsx", rows)  # a plan for 2025 ("NĂM 2025")
    money = load_money([path], year=2025)
    assert list(money.issues["code"]) == ["subtotal_mismatch"]
    assert money.issues["source_file"].tolist() == ["sai.xlsx"]
    assert money.budget is not None
    assert len(money.budget) == len(load_budget(path).lines) > 0
    other = load_money([path], year=2024)  # a table was given, but no line is for 2024
    assert other.budget is not None and other.budget.empty


def test_load_money_keeps_the_report_commune(raw: list[Path], tmp_path: Path) -> None:
    others = [write_budget_sample(tmp_path / "bc_kinh_phi.xlsx", commune="Bảo Cường"),
              write_income_sample(tmp_path / "bc_thu_nhap.xlsx", commune="Bảo Cường")]
    mixed = load_money([*raw, *others], year=2024)  # no commune: every table, as before
    assert mixed.budget_files == ["bc_kinh_phi.xlsx", "kp_kinh_phi.xlsx"]
    money = load_money([*raw, *others], year=2024, commune="xã Kim Phuong")
    alone = load_money(raw, year=2024, commune="Kim Phượng")
    assert money.budget_files == ["kp_kinh_phi.xlsx"]
    assert money.income_files == ["kp_thu_nhap.xlsx"]
    assert money.budget is not None and alone.budget is not None
    pd.testing.assert_frame_equal(money.budget, alone.budget)
    assert funding.summarise_funding(money.budget).total_million_vnd == 4122
    # another commune's tables, and the notes under them, are simply not this report's
    assert money.issues[["source_file", "code"]].values.tolist() == NOTES
    assert len(mixed.issues) == 4
    # the hamlets kept for the income section are Kim Phượng's, not Bảo Cường's namesakes
    assert mixed.income is not None
    series = report_money.commune_series(mixed.income, commune="Kim Phượng")
    assert alone.income is not None
    pd.testing.assert_frame_equal(series, alone.income)


def test_load_money_says_when_a_budget_names_no_commune(raw: list[Path],
                                                       tmp_path: Path) -> None:
    rows = [row[:] for row in BOTTOM_TOTAL]
    rows[0] = ["KẾ HOẠCH VỐN XÂY DỰNG NTM KIỂU MẪU NĂM 2024"]
    unnamed = write_sheet(tmp_path / "ke_hoach.xlsx", rows)
    other = write_budget_sample(tmp_path / "bc_kinh_phi.xlsx", commune="Bảo Cường")
    alone = load_money([*raw, unnamed], year=2024, commune="Kim Phượng")
    assert alone.budget_files == ["ke_hoach.xlsx", "kp_kinh_phi.xlsx"]  # nothing to mix with
    money = load_money([*raw, unnamed, other], year=2024, commune="Kim Phượng")
    assert money.budget_files == ["kp_kinh_phi.xlsx"]
    assert money.issues[["source_file", "code"]].values.tolist() == [
        *NOTES, ["ke_hoach.xlsx", "commune_not_named"]]
    none = load_money([unnamed, other], year=2024, commune="Kim Phượng")
    assert none.budget is None
    assert "no budget table of commune Kim Phượng" in " ".join(none.issues["problem"])


@pytest.mark.slow
def test_readiness_report_uses_only_its_communes_budget(sample_paths: list[Path],
                                                         tmp_path: Path) -> None:
    """A folder with Kim Phượng's workbooks, Bảo Cường's money tables and an unnamed budget."""
    import shutil

    from ntm_analysis.run import build_report

    folder = tmp_path / "raw"
    folder.mkdir()
    for path in sample_paths:
        shutil.copy(path, folder / path.name)
    write_budget_sample(folder / "bao_cuong_2024_kinh_phi.xlsx", commune="Bảo Cường")
    write_income_sample(folder / "bao_cuong_2024_thu_nhap.xlsx", commune="Bảo Cường")
    rows = [row[:] for row in BOTTOM_TOTAL]
    rows[0] = ["KẾ HOẠCH VỐN XÂY DỰNG NTM KIỂU MẪU NĂM 2024"]
    write_sheet(folder / "ke_hoach_von.xlsx", rows)
    result = build_report([folder], out_dir=tmp_path / "run", year=2024, lang="vi")
    assert result.ok, result.manifest.get("error")
    html = result.html_path.read_text(encoding="utf-8") if result.html_path else ""
    # the sample's figures, not Bảo Cường's added to them (8.244) nor the unnamed plan's
    assert "Tổng kinh phí 4.122 triệu đồng: ngân sách nhà nước 3.792 (92,0%)" in html
    lines = pd.read_excel(tmp_path / "run" / "tables" / "budget_lines.xlsx", engine="openpyxl")
    assert set(lines["source_file"]) == {"kim_phuong_2024_kinh_phi.xlsx"}
    assert set(lines["commune"]) == {"Kim Phượng"}
    series = pd.read_excel(tmp_path / "run" / "tables" / "income_series.xlsx", engine="openpyxl")
    assert set(series["source_file"]) == {"kim_phuong_2024_thu_nhap.xlsx"}
    # the unnamed plan is named in the quality section, as a warning
    issues = pd.read_excel(tmp_path / "run" / "tables" / "issues.xlsx", engine="openpyxl")
    flagged = issues[issues["code"] == "commune_not_named"]
    assert flagged["source_file"].tolist() == ["ke_hoach_von.xlsx"]
    assert "ke_hoach_von.xlsx" in html


# ---------------------------------------------------------------------------- condition 2


def test_commune_income_prefers_the_table_then_the_indicator_then_the_parameter() -> None:
    series = pd.concat([
        income_rows("Kim Phượng", {2022: 49.1, 2023: 54.03, 2025: 80.0}, {2024: 70.0}),
        income_rows("Bảo Cường", {2023: 99.0}, {}),
        income_rows("Xóm Ao Sen", {2023: 59.5}, {}, level="hamlet"),
    ], ignore_index=True)
    att = pd.DataFrame({
        "unit": ["Kim Phượng", "Kim Phượng", "Xóm Ao Sen"],
        "level": ["commune", "commune", "hamlet"], "year": 2024,
        "indicator_no": ["1.4", "1.5", "10.1"],
        "indicator_name": ["Thu nhập bình quân đầu người của xã",
                           "Thu nhập bình quân đầu người so với bình quân chung", "Thu nhập"],
        "value": [52.0, 1.1, 59.5], "source_file": "xa.xlsx", "source_sheet": "PB01",
        "source_row": [13, 14, 20]})
    # a later year (2025) is not used for a 2024 report; another commune is never used
    fig = commune_income(series, att, commune="xã kim phuong", year=2024, parameter=60.0)
    assert (fig.value, fig.year, fig.origin) == (54.03, 2023, "income_table")
    assert "tn.xlsx" in fig.describe(lang="en") and "2023" in fig.describe(lang="en")
    fig = commune_income(series[series.unit != "Kim Phượng"], att, commune="Kim Phượng",
                         year=2024, parameter=60.0)
    assert (fig.value, fig.origin, fig.indicator_no) == (52.0, "indicator", "1.4")
    assert fig.describe(lang="vi").startswith("chỉ tiêu 1.4 của bảng đánh giá xa.xlsx")
    fig = commune_income(None, att[att.indicator_no != "1.4"], commune="Kim Phượng",
                         year=2024, parameter=60.0)
    assert (fig.value, fig.origin) == (60.0, "parameter")  # the ratio 1.5 is not an income
    fig = commune_income(None, pd.DataFrame(), commune="Kim Phượng", year=2024, parameter=None)
    assert (fig.value, fig.origin) == (None, "none")
    # an indicator written in đồng is converted; one with no unit and no plausible million
    # figure (54030: thousands?) is never compared with the thresholds as millions
    in_dong = att.assign(value=[54_030_000.0, 1.1, 59.5], value_unit=["đồng", None, None])
    fig = commune_income(None, in_dong, commune="Kim Phượng", year=2024, parameter=60.0)
    assert (fig.value, fig.origin) == (54.03, "indicator")
    no_unit = att.assign(value=[54_030.0, 1.1, 59.5], value_unit=None)
    fig = commune_income(None, no_unit, commune="Kim Phượng", year=2024, parameter=60.0)
    assert (fig.value, fig.origin) == (60.0, "parameter")
    # so is an income table's: 54,030 (a table in thousands, with no unit) is passed over
    thousands = income_rows("Kim Phượng", {2023: 54_030.0}, {})
    fig = commune_income(thousands, att, commune="Kim Phượng", year=2024, parameter=60.0)
    assert (fig.value, fig.origin) == (52.0, "indicator")


def test_condition_two_on_the_sample_income_is_unknown_when_readings_disagree(
        raw: list[Path]) -> None:
    money = load_money(raw, year=2024)
    fig = commune_income(money.income, pd.DataFrame(), commune="Kim Phượng", year=2024)
    observed = money.income[(money.income.unit == "Kim Phượng")
                            & (money.income.kind == "observed")]
    assert fig.value == float(observed.sort_values("year")["value"].iloc[-1])
    table = readiness.assess_readiness(pd.DataFrame(columns=["unit", "level", "commune", "year",
                                                             "criteria_set", "criterion_no",
                                                             "criterion_name", "status",
                                                             "catalogue_status", "source_file",
                                                             "source_sheet"]),
                                       year=2024, commune="Kim Phượng",
                                       income_per_capita=fig.value,
                                       income_source=fig.describe(lang="vi"),
                                       income_source_file=fig.source_file)
    row = table.set_index("condition_id").loc["income"]
    shipped = readiness.income_thresholds()
    required = shipped[(shipped.level == "xa_NTM_nang_cao") & (shipped.year == 2024)][
        "threshold_million_vnd"] * readiness.INCOME_MARGIN
    assert required.min() <= fig.value < required.max()  # one reading met, the other not
    assert row["status"] == "unknown" and row["basis"] == "inferred"
    assert f"Thu nhập {format_number(fig.value)} " in row["evidence"]
    assert "kp_thu_nhap.xlsx" in row["evidence"] and "kp_thu_nhap.xlsx" in row["source_file"]


# ---------------------------------------------------------------------------- sections


def test_funding_report_on_the_sample(raw: list[Path]) -> None:
    money = load_money(raw, year=2024)
    assert money.budget is not None
    summary = funding.summarise_funding(money.budget)
    report = report_money.funding_report(money, pd.DataFrame(), lang="vi")
    for amount in (summary.total_million_vnd, summary.by_source_group["state"],
                   summary.by_source_group["unassigned"], *summary.by_level.values()):
        assert format_number(amount) in report.finding
    assert format_number(summary.total_million_vnd) == "4.122"  # Vietnamese thousands
    levels = report.level_view.set_index("Cấp")
    assert levels.loc["Xóm NTM kiểu mẫu", "Tổng (triệu đồng)"] == format_number(
        summary.by_level["model_hamlet"])
    assert levels.loc["Chưa xác định cấp", "Chưa xác định nguồn"] == format_number(
        summary.by_source_group["unassigned"])
    assert "kp_kinh_phi.xlsx" in report.provenance
    english = report_money.funding_report(money, pd.DataFrame(), lang="en")
    assert format_number(summary.total_million_vnd, lang="en") in english.finding
    assert "Level" in english.level_view.columns
    assert "Allocated" not in english.level_view.columns  # no funding-gap columns: none shown


def test_funding_report_of_a_funding_gap_table(tmp_path: Path) -> None:
    from test_budget import GAP_TABLE, write_sheet

    path = write_sheet(tmp_path / "kp_nhu_cau_von.xlsx", GAP_TABLE)
    report = report_money.funding_report(load_money([path], year=2024), None, lang="vi")
    assert "Theo bảng: đã bố trí 800, còn thiếu 200 triệu đồng." in report.finding
    levels = report.level_view.set_index("Cấp")
    assert (levels.loc["Xã NTM kiểu mẫu", "Đã bố trí"],
            levels.loc["Xã NTM kiểu mẫu", "Còn thiếu"]) == ("800", "200")
    english = report_money.funding_report(load_money([path], year=2024), None, lang="en")
    assert {"Allocated", "Still missing"} <= set(english.level_view.columns)


def test_funding_report_matches_unmet_criteria(raw: list[Path]) -> None:
    money = load_money(raw, year=2024)
    att = pd.DataFrame({"unit": ["Xóm Bản Lác", "Xóm Bản Lác"], "level": ["hamlet"] * 2,
                        "criteria_set": ["TN_XOM_NTM_KIEUMAU_2021_2025"] * 2,
                        "criterion_no": ["2", "9"], "criterion_name": ["Giao thông", "An ninh"],
                        "indicator_no": ["2.1", "9.1"], "status": ["not_met", "not_met"]})
    report = report_money.funding_report(money, att, lang="vi")
    assert money.budget is not None
    expected = funding.funding_by_criterion(money.budget, att)
    pd.testing.assert_frame_equal(report.by_criterion, expected)
    assert report.gaps["criterion_no"].tolist() == ["9"]  # no budget line for criterion 9
    assert report.criterion_view["Có kinh phí"].tolist() == ["có", "không"]


def test_income_report_on_the_sample(raw: list[Path]) -> None:
    money = load_money(raw, year=2024)
    report = report_money.income_report(money, commune="Kim Phượng", year=2024, lang="vi")
    assert money.income is not None
    progress = income.compute_progress(money.income, direction="positive")
    kp = progress.set_index("unit").loc["Kim Phượng"]
    required = format_number(kp["required_annual_growth"] * 100, digits=1) + "%"
    assert required == "29,6%"
    row = report.progress_view.set_index("Đơn vị").loc["Kim Phượng"]
    assert row["Tăng cần thiết (/năm)"] == required
    assert row["Mức tiến độ"] == term("income.status", kp["progress_status"], "vi")
    assert set(report.thresholds["scenario"]) == {"A_fixed_table", "B_ratio_1.1_of_NTM"}
    # the readings by their names, not the identifiers of the thresholds table
    assert "cách đọc A (bảng mức cố định theo vùng) ≥ 55" in report.threshold_note
    assert "cách đọc B (1,1 × mức xã NTM) ≥ 50,82" in report.threshold_note
    assert "_" not in report.threshold_note
    assert set(report.threshold_view["Cách đọc"]) == {"A (bảng mức cố định theo vùng)",
                                                     "B (1,1 × mức xã NTM)"}
    assert "suy luận" in report.threshold_note and "khác nhau" in report.threshold_note
    assert set(report.threshold_view["Cơ sở"]) == {"suy luận, chưa kiểm chứng"}
    assert report.series_view.iloc[0]["Đơn vị"] == "Kim Phượng"  # the commune first
    assert report.series_view.iloc[0]["2023"] == format_number(kp["latest_value"])
    assert "kp_thu_nhap.xlsx" in report.provenance
    english = report_money.income_report(money, commune="Kim Phượng", year=2024, lang="en")
    assert "29.6%" in english.finding and "Not an official threshold" in \
        english.threshold_note


def test_sections_without_tables_say_none_was_given() -> None:
    money = MoneyData(files_read=2)
    funds = report_money.funding_report(money, pd.DataFrame(), lang="vi")
    incomes = report_money.income_report(money, commune="K", year=2024, lang="en")
    assert not funds.given and funds.finding.startswith("Không có bảng kinh phí trong 2 tệp")
    assert not incomes.given and incomes.finding.startswith("No income table was given")
    assert funds.level_view.empty and incomes.progress_view.empty
    for ax in (report_money.plot_funding_split(funds), report_money.plot_funding_gaps(funds),
               report_money.plot_income(incomes, lang="en")):
        assert ax.texts[0].get_text() in (funds.finding, incomes.finding)
        assert not ax.axison


def test_charts_draw_the_sample(raw: list[Path]) -> None:
    money = load_money(raw, year=2024)
    funds = report_money.funding_report(money, pd.DataFrame(), lang="vi")
    ax = report_money.plot_funding_split(funds)
    assert any(t.get_text() == "4.122" for t in ax.texts)
    incomes = report_money.income_report(money, commune="Kim Phượng", year=2024)
    ax = report_money.plot_income(incomes)
    assert any("Mục tiêu 70" in t.get_text() for t in ax.texts)  # the target line
