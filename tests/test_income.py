"""Tests for ntm_analysis.income: wide and tall tables, the progress measure, thresholds."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ntm_analysis.errors import InputError, ParameterError
from ntm_analysis.income import (
    DETERIORATION,
    LIMITED,
    MODERATE,
    NOT_AVAILABLE,
    SUBSTANTIAL,
    TARGET_ACHIEVED,
    IncomeResult,
    IncomeSeries,
    compute_progress,
    load_income,
    load_income_thresholds,
    readiness_section,
    threshold_test,
)
from ntm_analysis.sample_money import write_income_sample

S = IncomeSeries


def write_sheet(path: Path, rows: list[list[object]], title: str = "Thu nhập",
                merges: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def series(unit: str, observed: dict[int, float], targets: dict[int, float] | None = None,
           level: str = "commune") -> pd.DataFrame:
    rows = [{S.unit: unit, S.level: level, S.year: y, S.kind: "observed", S.value: v}
            for y, v in observed.items()]
    rows += [{S.unit: unit, S.level: level, S.year: y, S.kind: "target", S.value: v}
             for y, v in (targets or {}).items()]
    return pd.DataFrame(rows)


def test_wide_sample_gives_the_required_growth(tmp_path: Path) -> None:
    path = write_income_sample(tmp_path / "thu_nhap.xlsx")
    result = load_income(path)
    commune = result.series[result.series[S.unit] == "Kim Phượng"]
    assert dict(zip(commune[S.year], commune[S.kind], strict=True))[2024] == "target"
    progress = compute_progress(result.series, direction="positive")
    row = progress[progress["unit"] == "Kim Phượng"].iloc[0]
    assert (row["latest_year"], row["latest_value"]) == (2023, 54.03)
    assert (row["target_year"], row["target_value"]) == (2024, 70.0)
    assert row["required_annual_growth"] == pytest.approx(70 / 54.03 - 1)
    assert round(row["required_annual_growth"], 3) == 0.296
    assert row["observed_annual_growth"] == pytest.approx((54.03 / 38.5) ** (1 / 4) - 1)
    assert set(progress["unit"]) == {"Kim Phượng", "Xóm Bản Lác", "Xóm Cạm Phước",
                                     "Xóm Ao Sen", "Xóm Phai Đá"}
    # the note under the table (the figures are illustrative) is not data, and says so
    note = result.issues.iloc[0]
    assert len(result.issues) == 1
    assert (note["severity"], note["code"], note["source_row"]) == ("info", "footer_row", 11)
    assert "MINH HỌA" in note["value"]


def test_tall_table_with_target_column(tmp_path: Path) -> None:
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI CÁC XÓM (triệu đồng/người/năm)"],
        ["STT", "Xóm", "Năm", "Thu nhập bình quân", "Mục tiêu", "Ghi chú"],
        [1, "Xóm Na Mao", 2021, "40,0", None, None],
        [2, "Xóm Na Mao", 2022, "44,0", None, None],
        [3, "Xóm Na Mao", "Năm 2023", "48,4", "60", None],
        [4, "Xóm Na Mao", 2025, None, "64", "kế hoạch"],
    ]
    result = load_income(write_sheet(tmp_path / "tall.xlsx", rows))
    s = result.series
    assert sorted(zip(s[S.year], s[S.kind], s[S.value], strict=True)) == [
        (2021, "observed", 40.0), (2022, "observed", 44.0), (2023, "observed", 48.4),
        (2023, "target", 60.0), (2025, "target", 64.0)]
    assert set(s[S.level]) == {"hamlet"}
    row = compute_progress(s, direction="positive").iloc[0]
    # the first target after the latest observed year is 2025
    assert (row["target_year"], row["target_value"]) == (2025, 64.0)
    assert row["cagr_observed"] == pytest.approx(0.1)
    assert row["required_annual_growth"] == pytest.approx((64 / 48.4) ** 0.5 - 1)
    assert row["projected_value"] == pytest.approx(48.4 * 1.1 ** 2)


def test_incomes_in_another_unit_are_converted_to_million_vnd(tmp_path: Path) -> None:
    """A wide table in nghìn đồng (its title says so) and a tall one in đồng (its header says
    so) give the same millions as the sample, each with an info row saying what was
    converted; the growth does not depend on the unit."""
    wide = write_sheet(tmp_path / "nghin.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG (nghìn đồng/người/năm)"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Mục tiêu năm 2024"],
        [1, "Xã Kim Phượng", "49.100", "54.030", 70000],
    ])
    tall = write_sheet(tmp_path / "dong.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
        ["Năm", "Thu nhập (đồng/người/năm)", "Mục tiêu"],
        [2022, 49_100_000, None],
        [2023, "54.030.000", None],
        [2024, None, 70_000_000],
    ])
    for path, unit in ((wide, "nghìn đồng (thousand VND)"), (tall, "đồng (VND)")):
        result = load_income(path)
        s = result.series
        assert sorted(zip(s[S.year], s[S.kind], s[S.value], strict=True)) == [
            (2022, "observed", pytest.approx(49.1)), (2023, "observed", pytest.approx(54.03)),
            (2024, "target", pytest.approx(70.0))]
        (info,) = result.issues[result.issues["code"] == "income_unit_converted"].itertuples()
        assert (info.severity, info.problem) == (
            "info", f"incomes in {unit} converted to million VND per person per year (the "
            "unit the reports use)")
        assert not (result.issues["code"] == "income_implausible").any()
        row = compute_progress(s, direction="positive").iloc[0]
        assert row["cagr_observed"] == pytest.approx(54.03 / 49.1 - 1)
    # a cell naming its own unit is in that unit, whatever the table's
    cells = load_income(write_sheet(tmp_path / "o.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG (triệu đồng/người/năm)"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023"],
        [1, "Xã Kim Phượng", "49.100.000 đồng", "54,03 triệu"],
    ]))
    assert cells.series[S.value].tolist() == pytest.approx([49.1, 54.03])
    assert cells.issues["code"].tolist() == ["income_unit_converted"]
    # a month's income, as statistics give it, is a year's times 12
    monthly = load_income(write_sheet(tmp_path / "thang.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG (triệu đồng/tháng)"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023"],
        [1, "Xã Kim Phượng", "4,09", "4,5 triệu/tháng"],  # said twice: counted once
    ]))
    assert monthly.series[S.value].tolist() == pytest.approx([49.08, 54.0])
    assert monthly.issues["problem"].tolist() == [
        "incomes in triệu đồng (million VND) per month (× 12) converted to million VND per "
        "person per year (the unit the reports use)"]


@pytest.mark.parametrize("unit", ["Đơn vị tính: 1.000 đồng/người/năm", "ĐVT: Nghìn VNĐ",
                                  "ĐVT: 1000đ"])
def test_incomes_in_thousands_as_offices_state_it(tmp_path: Path, unit: str) -> None:
    """"1.000 đồng" is thousands (it was read as đồng: 54,030 became 0.05 million) and
    "Nghìn VNĐ", "1000đ" were not read as units (54,030 "million", every threshold met); a
    cell in "nghìn VNĐ" is in thousands whatever the table says."""
    result = load_income(write_sheet(tmp_path / "thu_nhap.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
        [unit],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Năm 2024"],
        [1, "Xã Kim Phượng", "49.100", "54.030", "60.000 nghìn VNĐ"],
    ]))
    assert result.series[S.value].tolist() == pytest.approx([49.1, 54.03, 60.0])
    assert result.issues["code"].tolist() == ["income_unit_converted"]


def test_year_columns_as_offices_head_them(tmp_path: Path) -> None:
    """"TH 2022" and "Thực hiện năm 2023" (actuals, the commonest heads) were not read: the
    2023 income came from an estimate column, or from nowhere."""
    result = load_income(write_sheet(tmp_path / "th.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG (triệu đồng/người/năm)"],
        ["TT", "Đơn vị", "TH 2021", "TH 2022", "Thực hiện năm 2023", "Ước TH 2024", "KH 2025",
         "Sơ bộ 2020"],
        [1, "Xã Kim Phượng", 42.5, 49.1, 54.03, 60, 70, 40.2],
    ]))
    s = result.series
    assert list(zip(s[S.year], s[S.kind], s[S.value], strict=True)) == [
        (2020, "observed", 40.2), (2021, "observed", 42.5), (2022, "observed", 49.1),
        (2023, "observed", 54.03), (2024, "observed", 60.0), (2025, "target", 70.0)]
    assert result.issues.empty


def test_incomes_in_thousands_without_a_unit_are_a_warning(tmp_path: Path) -> None:
    """No unit written and 54,030 for a commune: taken as millions it would meet every income
    threshold. It is kept as read (nothing is guessed) and one warning per table names the
    first, with how many there are; a plausible table says nothing."""
    path = write_sheet(tmp_path / "thu_nhap.xlsx", [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023"],
        [1, "Xã Kim Phượng", "49.100", "54.030"],
        [2, "Xóm Ao Sen", "53.700", "59.500"],
    ])
    result = load_income(path)
    assert sorted(result.series[S.value]) == [49100, 53700, 54030, 59500]
    (warning,) = result.issues[result.issues["code"] == "income_implausible"].itertuples()
    assert (warning.severity, warning.source_row, warning.value) == ("warning", 3, "49100")
    assert warning.problem.startswith(
        "4 income(s) outside 1–1,000 million VND per person per year (first: Kim Phượng, 2022:"
        " 49,100) read as triệu đồng (million VND): expected the unit in the title or header")
    sample = load_income(write_income_sample(tmp_path / "sample.xlsx"))
    assert not sample.issues["code"].isin(["income_implausible",
                                           "income_unit_converted"]).any()


def test_tall_table_with_kind_column_and_unit_from_title(tmp_path: Path) -> None:
    rows = [
        ["Thu nhập bình quân đầu người xã Tân Dương"],
        ["Năm", "Loại", "Thu nhập (triệu đồng)"],
        [2022, "Thực hiện", 50],
        [2023, "Thực hiện", 55],
        [2024, "Mục tiêu", 66],
    ]
    s = load_income(write_sheet(tmp_path / "t.xlsx", rows)).series
    assert set(s[S.unit]) == {"Tân Dương"}
    assert list(s.sort_values(S.year)[S.kind]) == ["observed", "observed", "target"]


def _accounted(result: IncomeResult) -> list[tuple[int, str, str]]:
    issues = result.issues
    return sorted([(int(r), "read", "") for r in set(result.series[S.source_row])]
                  + [(int(r), s, c) for r, s, c in zip(issues["source_row"], issues["severity"],
                                                       issues["code"], strict=True)])


def test_every_row_of_a_wide_income_table_is_read_or_reported(tmp_path: Path) -> None:
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG (triệu đồng/người/năm)"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Mục tiêu năm 2024"],
        [1, "Xã Tân Dương", "50,0", "55,0", 70],
        [None, "Các xóm", None, None, None],
        [2, "Xóm Na Mao", "-", None, None],
        [3, None, "48,0", "52,0", None],
        [None, "Bình quân các xóm", "49,0", "53,5", None],
        [4, "Xóm Nà Lạ", "49,0", "54,0", None],
        [None, None, None, None, None],
        ["Nguồn: UBND xã Tân Dương"],
    ]
    result = load_income(write_sheet(tmp_path / "w.xlsx", rows))
    assert _accounted(result) == [(3, "read", ""), (4, "info", "row_not_read"),
                                  (5, "info", "row_not_read"),
                                  (6, "warning", "income_row_incomplete"),
                                  (7, "info", "summary_row"), (8, "read", ""),
                                  (10, "info", "footer_row")]
    # the average is no unit: the hamlet below it is still the commune's
    assert set(result.series["commune"]) == {"Tân Dương"}
    lost = result.issues[result.issues["code"] == "income_row_incomplete"].iloc[0]
    assert (lost["column"], lost["value"]) == ("Năm 2022", "3 | 48,0 | 52,0")
    assert lost["problem"] == "row has an income but no unit name; not read"
    skipped = result.issues[result.issues["source_row"] == 5].iloc[0]
    assert (skipped["value"], skipped["problem"]) == (
        "2 | Xóm Na Mao | -", "row has no income: nothing read")


def test_an_estimate_column_is_read_and_marked_as_an_estimate(tmp_path: Path) -> None:
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG (triệu đồng/người/năm)"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Ước TH 2024", "Mục tiêu năm 2025", "Ghi chú",
         "Tăng bình quân (%)", "Nguồn"],
        [1, "Xã Tân Dương", "50,0", "55,0", "60,5", 70, None, "9,9", None],
        [2, "Xóm Na Mao", "48,0", "52,0", "57,2", 70, "minh họa", "9,2", None],
    ]
    result = load_income(write_sheet(tmp_path / "e.xlsx", rows))
    s = result.series
    notes = {(u, y): n for u, y, n in zip(s[S.unit], s[S.year], s[S.note], strict=True)}
    assert notes[("Tân Dương", 2024)] == "ước tính"
    assert notes[("Xóm Na Mao", 2024)] == "minh họa; ước tính"
    assert pd.isna(notes[("Tân Dương", 2023)]) and notes[("Xóm Na Mao", 2023)] == "minh họa"
    row = compute_progress(s, direction="positive").set_index("unit").loc["Tân Dương"]
    assert (row["latest_year"], row["latest_value"], row["target_year"]) == (2024, 60.5, 2025)
    # a column of figures that is no year's income is named, not dropped without a word (an
    # empty one is not worth a row)
    assert list(zip(result.issues["source_row"], result.issues["column"], result.issues["code"],
                    strict=True)) == [(2, "Tăng bình quân (%)", "column_not_read")]


def test_a_years_actual_figure_is_used_over_its_estimate(tmp_path: Path) -> None:
    # a table kept over the years: the estimate made in 2023 beside the figure that closed it
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
        ["ĐVT: triệu đồng/người/năm"],
        ["TT", "Đơn vị", "TH 2022", "Ước TH 2023", "TH 2023", "Mục tiêu 2024"],
        [1, "Xã Kim Phượng", "50,1", "53,5", "54,03", 70],
        [2, "Xóm Cạm Phước", "48,0", "52,0", None, 70],
    ]
    result = load_income(write_sheet(tmp_path / "tn.xlsx", rows))
    s = result.series.set_index([S.unit, S.kind, S.year])
    assert s.index.is_unique  # one value per unit and year: no duplicate_year error
    assert s.loc[("Kim Phượng", "observed", 2023), S.value] == 54.03
    assert pd.isna(s.loc[("Kim Phượng", "observed", 2023), S.note])
    # a hamlet with only the estimate keeps it, marked as one
    assert s.loc[("Xóm Cạm Phước", "observed", 2023), S.note] == "ước tính"
    issue = result.issues.iloc[0]
    assert len(result.issues) == 1 and (issue["code"], issue["severity"]) == (
        "estimate_superseded", "info")
    assert (issue["source_row"], issue["column"], issue["value"]) == (4, "2023", "53.5")
    assert "54.03" in issue["problem"] and "row 4" in issue["problem"]
    row = compute_progress(result.series, direction="positive").set_index("unit")
    assert row.loc["Kim Phượng", "latest_value"] == 54.03


def test_a_tall_tables_estimate_gives_way_to_the_actual_figure(tmp_path: Path) -> None:
    rows = [
        ["Thu nhập bình quân đầu người xã Tân Dương"],
        ["Năm", "Loại", "Thu nhập (triệu đồng)"],
        [2022, "Thực hiện", 50],
        [2023, "Ước thực hiện", 54],
        [2023, "Thực hiện", 55],
        ["2024 (ước)", "Thực hiện", 61],
        [2025, "Mục tiêu", 66],
    ]
    result = load_income(write_sheet(tmp_path / "t.xlsx", rows))
    s = result.series.set_index(S.year)
    assert s.loc[2023, S.value] == 55 and s.loc[2024, S.note] == "ước tính"
    assert result.issues[["source_row", "code"]].values.tolist() == [
        [4, "estimate_superseded"]]


def test_a_column_of_hamlet_names_as_offices_head_it(tmp_path: Path) -> None:
    # "Tên xóm" was no unit column: the note column was taken for it and every row was lost
    # ("row has an income but no unit name"); bare names under it are the hamlets
    rows = [
        ["BẢNG TỔNG HỢP THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
        ["STT", "Tên xóm", "Thu nhập bình quân (triệu đồng/người/năm)", None, None, "Ghi chú"],
        [None, None, "Năm 2021", "Năm 2022", "Năm 2023", None],
        [1, "Cạm Phước", 45.2, 48.9, 52.1, None],
        [2, "Bản Lác", 44.0, 47.5, 51.0, None],
        [3, "Thôn Nà Ca", 43.1, 46.2, 50.3, None],
        [4, "Kim Phượng", 46.0, 50.2, 54.03, None],
        [None, "Bình quân chung toàn xã", 46.0, 50.2, 54.03, None],
    ]
    result = load_income(write_sheet(tmp_path / "tn.xlsx", rows, "TN",
                                     ("C2:E2", "A2:A3", "B2:B3", "F2:F3")))
    s = result.series[result.series[S.year] == 2023].set_index(S.source_row)
    assert s[S.unit].to_dict() == {4: "Xóm Cạm Phước", 5: "Xóm Bản Lác", 6: "Thôn Nà Ca",
                                   7: "Kim Phượng", 8: "Kim Phượng"}
    assert s.sort_index()[S.level].tolist() == ["hamlet"] * 3 + ["commune"] * 2
    assert set(s[S.commune]) == {"Kim Phượng"}
    # the commune twice (its name and "toàn xã") is told, not summed or dropped
    assert set(result.issues["code"]) == {"duplicate_year"}


def test_a_tall_tables_unit_merged_down_its_years_is_each_rows(tmp_path: Path) -> None:
    # each hamlet's second year had no unit: it was the title's commune, "Xã Kim Phượng", with
    # two values for 2023 (a duplicate error) and the hamlets' 2023 incomes lost
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI CÁC XÓM XÃ KIM PHƯỢNG (triệu đồng/người/năm)"],
        ["TT", "Xóm", "Năm", "Thu nhập", "Ghi chú"],
        [1, "Cạm Phước", 2022, 48.9, None],
        [None, None, 2023, 52.1, None],
        [2, "Bản Lác", 2022, 47.5, None],
        [None, None, 2023, 51.0, None],
        [3, None, 2023, 50.3, None],  # blank, not merged: no unit
    ]
    result = load_income(write_sheet(tmp_path / "tn.xlsx", rows,
                                     merges=("B3:B4", "B5:B6", "A3:A4", "A5:A6")))
    s = result.series
    assert list(zip(s[S.unit], s[S.year], s[S.value], strict=True)) == [
        ("Xóm Bản Lác", 2022, 47.5), ("Xóm Bản Lác", 2023, 51.0),
        ("Xóm Cạm Phước", 2022, 48.9), ("Xóm Cạm Phước", 2023, 52.1)]
    assert set(s[S.commune]) == {"Kim Phượng"}
    assert result.issues[["source_row", "severity", "code"]].values.tolist() == [
        [7, "warning", "income_row_incomplete"]]


def test_a_rows_unit_column_is_the_unit_of_its_incomes(tmp_path: Path) -> None:
    # the "ĐVT" column was not read: 54.030 (thousands) was 54,030 million, a warning
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
        ["TT", "Đơn vị", "ĐVT", "Năm 2022", "Năm 2023", "Mục tiêu 2024"],
        [1, "Xã Kim Phượng", "Nghìn đồng/người/năm", 50100, 54030, 70000],
        [2, "Xóm Cạm Phước", "Triệu đồng/người/năm", 48.0, 52.0, 70],
        [3, "Xóm Ao Sen", "Tr.đ/người/tháng", "4,2", "4,5", None],
        [4, "Xóm Bản Lác", "Triệu đồng/người/năm", "49.000.000 đồng", 51.0, None],
    ]
    result = load_income(write_sheet(tmp_path / "tn.xlsx", rows))
    s = result.series.set_index([S.unit, S.year, S.kind])[S.value]
    assert s[("Kim Phượng", 2023, "observed")] == pytest.approx(54.03)
    assert s[("Kim Phượng", 2024, "target")] == pytest.approx(70.0)
    assert s[("Xóm Cạm Phước", 2023, "observed")] == 52.0
    assert s[("Xóm Ao Sen", 2023, "observed")] == pytest.approx(54.0)  # a month's, × 12
    assert s[("Xóm Bản Lác", 2022, "observed")] == pytest.approx(49.0)  # its own unit
    assert list(result.issues["code"]) == ["income_unit_converted"]
    tall = [["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"],
            ["Năm", "Đơn vị tính", "Thu nhập"],
            [2022, "Nghìn đồng/người/năm", 50100],
            [2023, "Triệu đồng/người/năm", 54.03]]
    series = load_income(write_sheet(tmp_path / "tall.xlsx", tall)).series
    assert series[S.value].tolist() == pytest.approx([50.1, 54.03])


def test_years_on_a_row_of_their_own_under_a_heading(tmp_path: Path) -> None:
    """"Thu nhập bình quân …" merged over the years, which are numbers on the row below; "Đơn
    vị" and "Ghi chú" beside the heading: the table was not found at all."""
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG GIAI ĐOẠN 2019-2024"],
        ["TT", "Đơn vị", "Thu nhập bình quân đầu người (triệu đồng/người/năm)", None, None,
         "Ghi chú"],
        [None, None, 2022, 2023, "KH 2024", None],
        [1, "Xã Kim Phượng", 48.9, 54.03, 70, "BC 46"],
        [2, "Xóm Ao Sen", 44, 49, 60, None],
    ]
    result = load_income(write_sheet(tmp_path / "below.xlsx", rows))
    s = result.series
    assert list(zip(s[S.unit], s[S.year], s[S.kind], s[S.value], s[S.source_row],
                    strict=True)) == [
        ("Kim Phượng", 2022, "observed", 48.9, 4), ("Kim Phượng", 2023, "observed", 54.03, 4),
        ("Kim Phượng", 2024, "target", 70.0, 4), ("Xóm Ao Sen", 2022, "observed", 44.0, 5),
        ("Xóm Ao Sen", 2023, "observed", 49.0, 5), ("Xóm Ao Sen", 2024, "target", 60.0, 5)]
    assert set(s[S.note].dropna()) == {"BC 46"} and result.issues.empty


@pytest.mark.parametrize("label", ["Toàn xã", "Chung toàn xã", "Bình quân chung toàn xã",
                                   "Cả xã", "Xã"])
def test_the_whole_commune_row_is_the_commune_of_the_title(tmp_path: Path, label: str) -> None:
    """'Toàn xã' on the commune's row is the commune the title names (it was a commune of its
    own, 'Toàn xã', and the commune's income was not found: ``--commune`` failed)."""
    rows = [
        ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG (triệu đồng/người/năm)"],
        ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Mục tiêu năm 2024"],
        [1, label, 48.9, 54.03, 70],
        [2, "Xóm Ao Sen", 44, 49, 60],
    ]
    result = load_income(write_sheet(tmp_path / "w.xlsx", rows), commune="kim phuong")
    s = result.series
    assert sorted(set(zip(s[S.unit], s[S.level], s["commune"], strict=True))) == [
        ("Kim Phượng", "commune", "Kim Phượng"), ("Xóm Ao Sen", "hamlet", "Kim Phượng")]
    assert result.issues.empty
    rows[0] = ["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI (triệu đồng/người/năm)"]  # names no commune
    unnamed = load_income(write_sheet(tmp_path / "u.xlsx", rows)).issues
    assert list(zip(unnamed["source_row"], unnamed["code"], strict=True)) == [
        (3, "whole_commune_unnamed")]
    # a tall table's unit column, likewise
    tall = [["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ KIM PHƯỢNG"], ["Đơn vị", "Năm", "Thu nhập"],
            [label, 2022, 48.9], [label, 2023, 54.03], ["Xóm Ao Sen", 2023, 49]]
    s = load_income(write_sheet(tmp_path / "t.xlsx", tall), commune="Kim Phượng").series
    assert sorted(set(zip(s[S.unit], s["commune"], strict=True))) == [
        ("Kim Phượng", "Kim Phượng"), ("Xóm Ao Sen", "Kim Phượng")]


def test_every_row_of_a_tall_income_table_is_read_or_reported(tmp_path: Path) -> None:
    rows = [
        ["Thu nhập bình quân đầu người xã Tân Dương"],
        ["Năm", "Loại", "Thu nhập (triệu đồng)"],
        [2022, "Thực hiện", 50],
        ["(ước)", "Thực hiện", 52],
        ["Giai đoạn sau", None, None],
        ["Ghi chú: năm 2024 là mục tiêu"],
        [2024, "Mục tiêu", 66],
        [2025, "Mục tiêu", "-"],
        ["Bình quân 2022-2024", "Thực hiện", 56],
    ]
    result = load_income(write_sheet(tmp_path / "t.xlsx", rows))
    assert _accounted(result) == [(3, "read", ""), (4, "warning", "income_row_incomplete"),
                                  (5, "info", "row_not_read"), (6, "info", "footer_row"),
                                  (7, "read", ""), (8, "info", "row_not_read"),
                                  (9, "warning", "income_row_incomplete")]
    lost = result.issues[result.issues["severity"] == "warning"]
    assert list(zip(lost["column"], lost["problem"], strict=True)) == [
        ("Thu nhập (triệu đồng)", "row has an income but no single year; not read")] * 2
    # the period's average is not taken for 2022's income
    assert sorted(result.series["year"]) == [2022, 2024]


def test_sheets_without_income_are_skipped_and_none_is_an_error(tmp_path: Path) -> None:
    budget_rows = [["TT", "Nội dung", "Tổng kinh phí"], ["1", "Đường", 100]]
    wb = openpyxl.Workbook()
    wb.active.title = "Kinh phí"
    for row in budget_rows:
        wb.active.append(row)
    wb.save(tmp_path / "kp.xlsx")
    with pytest.raises(InputError, match="kp.xlsx: no income table found"):
        load_income([tmp_path / "kp.xlsx"])
    write_income_sample(tmp_path / "tn.xlsx")
    result = load_income([tmp_path / "kp.xlsx", tmp_path / "tn.xlsx"])
    assert list(zip(result.issues["source_file"], result.issues["severity"],
                    result.issues["code"], strict=True)) == [
        ("kp.xlsx", "info", "not_income"), ("tn.xlsx", "info", "footer_row")]


# ------------------------------------------------------------ progress measure, by hand
# base 2020 = 100, latest 2022, target 2030 = 200 → CAGR required = 2^(1/10) - 1 = 0.071773


@pytest.mark.parametrize(("latest", "status"), [
    (100 * 1.08 ** 2, SUBSTANTIAL),  # ratio 0.08 / 0.071773 = 1.1146 ≥ 0.95
    (100 * 1.05 ** 2, MODERATE),  # 0.05 / 0.071773 = 0.6966
    (100 * 1.02 ** 2, LIMITED),  # 0.02 / 0.071773 = 0.2787
    (100 * 0.98 ** 2, DETERIORATION),  # -0.02 / 0.071773 = -0.2787
    (210.0, TARGET_ACHIEVED),  # already above 200
])
def test_progress_status_by_hand(latest: float, status: str) -> None:
    s = series("Xã A", {2020: 100.0, 2022: latest}, {2030: 200.0})
    row = compute_progress(s, direction="positive").iloc[0]
    cagr_o = (latest / 100) ** 0.5 - 1
    cagr_r = 2 ** 0.1 - 1
    assert row["cagr_observed"] == pytest.approx(cagr_o)
    assert row["cagr_required_from_base"] == pytest.approx(cagr_r)
    assert row["progress_value"] == pytest.approx(cagr_o / cagr_r)
    assert row["progress_status"] == status
    assert bool(row["target_achieved"]) is (status == TARGET_ACHIEVED)
    assert (row["base_year"], row["latest_year"], row["method"]) == (2020, 2022, 2)


def test_boundaries_are_inclusive_like_sdg_build() -> None:
    cagr_r = 2 ** 0.1 - 1
    for ratio, status in ((0.95, SUBSTANTIAL), (0.6, MODERATE)):
        latest = 100 * (1 + ratio * cagr_r) ** 2
        s = series("Xã A", {2020: 100.0, 2022: latest}, {2030: 200.0})
        assert compute_progress(s, direction="positive").iloc[0]["progress_status"] == status


def test_negative_direction() -> None:
    # poverty rate 10% → 8.1% in two years, target 5% in 2030: improvement
    s = series("Xã A", {2020: 10.0, 2022: 8.1}, {2030: 5.0})
    row = compute_progress(s, direction="negative").iloc[0]
    cagr_o = 0.9 - 1
    cagr_r = 0.5 ** 0.1 - 1
    assert row["progress_value"] == pytest.approx(-1 * cagr_o / abs(cagr_r))
    assert row["progress_status"] == SUBSTANTIAL  # 0.1 / 0.067 = 1.49
    assert row["direction_sign"] == -1
    # read as "higher is better", 8.1 is already above the target of 5
    assert compute_progress(s, direction="positive").iloc[0]["progress_status"] == TARGET_ACHIEVED
    # and a falling series with a higher target deteriorates
    up = series("Xã A", {2020: 10.0, 2022: 8.1}, {2030: 20.0})
    assert compute_progress(up, direction="positive").iloc[0]["progress_status"] == DETERIORATION


def test_without_target_uses_methodology_1() -> None:
    s = series("Xóm B", {2020: 100.0, 2022: 101.0}, level="hamlet")
    row = compute_progress(s, direction="positive").iloc[0]
    assert row["method"] == 1
    assert row["progress_value"] == pytest.approx(1.01 ** 0.5 - 1)  # 0.004988 < 0.005
    assert row["progress_status"] == LIMITED
    assert pd.isna(row["required_annual_growth"])


def test_one_year_is_not_enough_and_base_year_moves_forward() -> None:
    one = compute_progress(series("Xã A", {2023: 54.03}, {2024: 70.0}), direction="positive")
    assert one.iloc[0]["progress_status"] == NOT_AVAILABLE
    assert one.iloc[0]["required_annual_growth"] == pytest.approx(70 / 54.03 - 1)
    s = series("Xã A", {2019: 40.0, 2021: 44.0, 2023: 48.4}, {2025: 60.0})
    row = compute_progress(s, direction="positive", base_year=2020).iloc[0]
    assert row["base_year"] == 2021  # 2020 missing: the next available year, as sdg-build
    assert row["cagr_observed"] == pytest.approx((48.4 / 44.0) ** 0.5 - 1)


def test_a_base_year_after_the_observations_is_refused() -> None:
    s = series("Xã K", {2021: 40.0, 2023: 48.4}, {2025: 60.0})
    with pytest.raises(ParameterError, match="give a year before 2023"):
        compute_progress(s, direction="positive", base_year=2023)
    assert compute_progress(s, direction="positive", base_year=2022).iloc[0]["base_year"] == 2023


def test_direction_is_never_defaulted() -> None:
    s = series("Xã A", {2020: 1.0, 2021: 2.0})
    with pytest.raises(ParameterError, match="direction must be"):
        compute_progress(s, direction="up")
    with pytest.raises(TypeError):
        compute_progress(s)  # type: ignore[call-arg]


def test_input_not_mutated_and_output_sorted() -> None:
    s = pd.concat([series("Xóm Z", {2020: 1.0, 2021: 2.0}, level="hamlet"),
                   series("Xã A", {2020: 1.0, 2021: 2.0})], ignore_index=True)
    before = s.copy()
    out = compute_progress(s, direction="positive")
    pd.testing.assert_frame_equal(s, before)
    assert list(out["unit"]) == ["Xã A", "Xóm Z"] and list(out.index) == [0, 1]


def test_threshold_test_shows_both_readings() -> None:
    thresholds = load_income_thresholds()
    s = series("Xã Kim Phượng", {2022: 49.1, 2023: 54.03}, {2024: 70.0})
    progress = compute_progress(s, direction="positive")
    out = threshold_test(s, thresholds, year=2024, progress=progress)
    readings = thresholds[(thresholds["level"] == "xa_NTM_kieu_mau")
                          & (thresholds["year"] == 2024)]
    assert sorted(set(out["scenario"])) == sorted(readings["scenario"])
    assert set(out["threshold_status"]) == {"inferred"}
    assert set(out["value_basis"]) == {"observed", "projection", "target"}
    for _, row in out.iterrows():
        limit = float(readings.set_index("scenario").loc[row["scenario"],
                                                         "threshold_million_vnd"])
        assert row["passes"] == (row["value"] >= limit)
        assert math.isclose(row["margin"], row["value"] - limit)
    # a table in thousands with no unit (54,030 "million"): no threshold is compared with it
    # (each reading "passed"), the growth still is (a ratio, whatever the unit)
    thousands = series("Xã Kim Phượng", {2022: 49_100, 2023: 54_030}, {2024: 70_000})
    assert threshold_test(thousands, thresholds, year=2024,
                          progress=compute_progress(thousands, direction="positive")).empty


def test_readiness_section_sentence() -> None:
    s = series("Xã Kim Phượng", {2019: 38.5, 2023: 54.03}, {2024: 70.0})
    vi = readiness_section(s, year=2024, lang="vi")
    en = readiness_section(s, year=2024, lang="en")
    assert "29,6%" in vi.finding and "54,03" in vi.finding
    assert "29.6%" in en.finding and "unverified" in en.finding
    assert len(vi.thresholds) > 0 and len(vi.progress) == 1


# ---------------------------------------------------------------------------- communes


def test_income_rows_name_their_commune_and_hamlets_follow_it(tmp_path: Path) -> None:
    kp = write_income_sample(tmp_path / "kp_thu_nhap.xlsx")
    bc = write_income_sample(tmp_path / "bc_thu_nhap.xlsx", commune="Bảo Cường")
    read = load_income([kp, bc])  # no commune asked: every row
    communes = read.series.groupby("source_file")["commune"].agg(lambda s: sorted(set(s)))
    assert communes.to_dict() == {"bc_thu_nhap.xlsx": ["Bảo Cường"],
                                  "kp_thu_nhap.xlsx": ["Kim Phượng"]}
    # the same hamlet names in two communes: the duplicate-year errors say why
    dupes = read.issues[read.issues["code"] == "duplicate_year"]
    assert len(dupes) and dupes["problem"].str.contains(
        r"\(tables of communes Bảo Cường, Kim Phượng: keep one commune\)", regex=True).all()
    mine = load_income([kp, bc], commune="xa KIM PHUONG")
    assert set(mine.series["source_file"]) == {"kp_thu_nhap.xlsx"}
    assert sorted(set(mine.series["unit"])) == [
        "Kim Phượng", "Xóm Ao Sen", "Xóm Bản Lác", "Xóm Cạm Phước", "Xóm Phai Đá"]
    assert not (mine.issues["severity"] == "error").any()
    alone = load_income(kp)
    pd.testing.assert_frame_equal(compute_progress(mine.series, direction="positive"),
                                  compute_progress(alone.series, direction="positive"))
    with pytest.raises(InputError, match="income tables of 2 communes"):
        load_income([kp, bc], commune="")
