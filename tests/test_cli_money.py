"""Tests for the ``ntm funding`` and ``ntm income`` commands (click's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from ntm_analysis.cli_money import funding, income
from ntm_analysis.errors import InputError, ParameterError
from ntm_analysis.sample_money import write_budget_sample, write_income_sample


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    write_budget_sample(tmp_path / "kim_phuong_2024_kinh_phi.xlsx")
    write_income_sample(tmp_path / "kim_phuong_2024_thu_nhap.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["TT", "Tên tiêu chí", "Chỉ tiêu", "Hiện trạng", "Đánh giá"])
    wb.active.append([1, "Quy hoạch", "Có", "Có", "Đạt"])
    wb.save(tmp_path / "kim_phuong_2024_xa.xlsx")
    return tmp_path


def files(raw: Path) -> list[str]:
    return sorted(str(p) for p in raw.glob("*.xlsx"))


def test_funding_json_on_the_sample(raw: Path) -> None:
    result = CliRunner().invoke(funding, [*files(raw), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total_million_vnd"] == 4122
    assert data["by_source_group"] == {"state": 3792, "non_state": 0, "unassigned": 330}
    assert {k: data["by_level"][k] for k in ("commune", "model_hamlet", "smart_hamlet")} == {
        "commune": 3432, "model_hamlet": 320, "smart_hamlet": 40}
    assert data["lines"] == 15
    assert data["issues"] == []


def test_funding_text_output(raw: Path) -> None:
    result = CliRunner().invoke(funding, [str(raw / "kim_phuong_2024_kinh_phi.xlsx"),
                                          "--lang", "en"])
    assert result.exit_code == 0
    assert "Total budget: 4,122 million VND (15 lines)" in result.output
    assert "Source not given: 330" in result.output


def test_funding_of_a_funding_gap_table(tmp_path: Path) -> None:
    from test_budget import GAP_TABLE, write_sheet

    path = write_sheet(tmp_path / "nhu_cau_von.xlsx", GAP_TABLE)
    result = CliRunner().invoke(funding, [str(path)])
    assert result.exit_code == 0, result.output
    assert "  Đã bố trí: 800" in result.output.splitlines()
    assert "  Còn thiếu: 200" in result.output.splitlines()
    data = json.loads(CliRunner().invoke(funding, [str(path), "--json"]).output)
    assert (data["committed_million_vnd"], data["shortfall_million_vnd"]) == (800, 200)


def test_text_output_speaks_vietnamese_by_default(raw: Path) -> None:
    result = CliRunner().invoke(funding, [str(raw / "kim_phuong_2024_kinh_phi.xlsx")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Tổng kinh phí: 4.122 triệu đồng (15 dòng)"
    assert "  Ngân sách nhà nước: 3.792" in lines and "  Chưa xác định nguồn: 330" in lines
    result = CliRunner().invoke(income, [str(raw / "kim_phuong_2024_thu_nhap.xlsx")])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Kim Phượng:")]
    assert line == ("Kim Phượng: 54,03 (2023) → 70 (2024): cần tăng 29,6%/năm, thực tế "
                    "8,8%/năm · Tiến bộ vừa phải")
    english = CliRunner().invoke(income, [str(raw / "kim_phuong_2024_thu_nhap.xlsx"),
                                          "--lang", "en"])
    assert ("Kim Phượng: 54.03 (2023) → 70 (2024): needs 29.6%/yr, observed 8.8%/yr · "
            "Moderate progress") in english.output.splitlines()


def test_income_json_on_the_sample(raw: Path) -> None:
    result = CliRunner().invoke(income, [*files(raw), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["unit"]: r for r in json.loads(result.output)}
    kp = rows["Kim Phượng"]
    assert (kp["latest_year"], kp["latest_value"], kp["target_year"], kp["target_value"]) == (
        2023, 54.03, 2024, 70)
    assert round(kp["required_annual_growth"], 4) == round(70 / 54.03 - 1, 4) == 0.2956
    assert kp["progress_status"] == "moderate_progress"
    for key in ("base_year", "base_value", "cagr_observed", "cagr_required_from_base",
                "progress_value", "threshold_high", "direction"):
        assert key in kp
    assert "Kim Phượng" in result.output  # ensure_ascii=False keeps Vietnamese readable


def test_errors_are_left_to_the_group(raw: Path) -> None:
    result = CliRunner().invoke(funding, [str(raw / "kim_phuong_2024_xa.xlsx")])
    assert isinstance(result.exception, InputError)
    assert "kim_phuong_2024_xa.xlsx" in str(result.exception)
    result = CliRunner().invoke(income, [str(raw / "nothing.xlsx"), "--json"])
    assert isinstance(result.exception, InputError)
    assert "nothing.xlsx: file not found" in str(result.exception)


def test_errors_in_a_table_are_printed_after_the_figures_and_exit_3(tmp_path: Path) -> None:
    """JSON or text, the figures come out (each line counted once) and stay parseable; every
    error goes to standard error with its file, sheet, row and column; exit code 3."""
    wb = openpyxl.Workbook()
    wb.active.title = "Kinh phí"
    for row in (["TT", "Nội dung", "Tổng kinh phí"], [None, "Tổng cộng", "1.000"],
                ["1", "Đường", "600"], ["2", "Trường", "300"]):
        wb.active.append(row)
    wb.save(tmp_path / "kp.xlsx")
    wb = openpyxl.Workbook()
    wb.active.title = "Thu nhập"
    for row in (["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG"],
                ["TT", "Đơn vị", "Năm 2022", "Năm 2023"], [1, "Xã Tân Dương", "50,0", "55,0"],
                [2, "Xóm Na Mao", "48,0", "năm mươi"]):
        wb.active.append(row)
    wb.save(tmp_path / "tn.xlsx")
    for command, path, expected in (
            (funding, "kp.xlsx", "error: kp.xlsx, sheet 'Kinh phí', row 2, column 'Tổng kinh phí': "
                                 "grand total 1000 does not equal the sum of its 2 line(s) 900"),
            (income, "tn.xlsx", "error: tn.xlsx, sheet 'Thu nhập', row 4, column 'Năm 2023': "
                                "expected an income in million VND per person")):
        for options in (["--json"], []):
            result = CliRunner().invoke(command, [str(tmp_path / path), *options])
            assert result.exit_code == 3, result.output
            assert result.stderr.startswith(expected), result.stderr
            if options:
                data = json.loads(result.stdout)
                assert data["total_million_vnd"] == 900 if command is funding else (
                    [r["unit"] for r in data] == ["Tân Dương", "Xóm Na Mao"])
            else:
                assert result.stdout.strip() and "error" not in result.stdout


def test_income_without_a_trend_says_so_and_a_late_base_year_is_refused(raw: Path,
                                                                        tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Thu nhập"
    for row in (["THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ TÂN DƯƠNG"],
                ["TT", "Đơn vị", "Năm 2022", "Năm 2023", "Mục tiêu năm 2024"],
                [1, "Xã Tân Dương", "50,0", "55,0", 70], [2, "Xóm Mới", None, "60,5", 70]):
        wb.active.append(row)
    wb.save(tmp_path / "tn.xlsx")
    result = CliRunner().invoke(income, [str(tmp_path / "tn.xlsx")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        "Xóm Mới: 60,50 (2023) → 70 (2024): cần tăng 15,7%/năm, chưa đủ số liệu các năm để "
        "tính mức tăng thực tế · Không đủ số liệu")
    assert "nan" not in result.stdout
    sample = str(raw / "kim_phuong_2024_thu_nhap.xlsx")
    for late in ("2023", "2030"):
        refused = CliRunner().invoke(income, [sample, "--base-year", late])
        assert isinstance(refused.exception, ParameterError)
        assert str(refused.exception) == (
            f"base year {late} (--base-year): the income tables observe 2019–2023; the observed "
            "growth runs from the base year to a later observed one: give a year before 2023")
    assert CliRunner().invoke(income, [sample, "--base-year", "2022"]).exit_code == 0


def test_help_has_an_example() -> None:
    for command in (funding, income):
        result = CliRunner().invoke(command, ["--help"])
        assert "Example: ntm" in result.output


# ---------------------------------------------------------------------------- two communes


@pytest.fixture
def two(raw: Path) -> Path:
    """The Kim Phượng folder plus Bảo Cường's budget and income, written by the same writers."""
    write_budget_sample(raw / "bao_cuong_2024_kinh_phi.xlsx", commune="Bảo Cường")
    write_income_sample(raw / "bao_cuong_2024_thu_nhap.xlsx", commune="Bảo Cường")
    return raw


def test_funding_on_a_folder_of_two_communes_asks_which(two: Path) -> None:
    result = CliRunner().invoke(funding, [str(two), "--json"])
    assert isinstance(result.exception, InputError)
    message = str(result.exception)
    assert "budget tables of 2 communes: Bảo Cường (bao_cuong_2024_kinh_phi.xlsx), Kim Phượng " \
           "(kim_phuong_2024_kinh_phi.xlsx); choose one with --commune" in message
    assert result.output == ""  # no mixed total printed


@pytest.mark.parametrize("spelling", ["Kim Phượng", "kim phuong", "XÃ KIM PHƯỢNG"])
def test_funding_keeps_the_named_commune(two: Path, spelling: str) -> None:
    result = CliRunner().invoke(funding, [str(two), "--commune", spelling, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["files"] == ["kim_phuong_2024_kinh_phi.xlsx"]
    assert (data["total_million_vnd"], data["lines"]) == (4122, 15)
    assert data["by_level"] == {"commune": 3432, "model_hamlet": 320, "smart_hamlet": 40,
                                "unspecified": 330}
    assert data["by_source_group"] == {"state": 3792, "non_state": 0, "unassigned": 330}
    other = CliRunner().invoke(funding, [*files(two), "--commune", "Bảo Cường", "--json"])
    assert json.loads(other.output)["files"] == ["bao_cuong_2024_kinh_phi.xlsx"]


def test_income_keeps_the_named_commune(two: Path) -> None:
    result = CliRunner().invoke(income, [str(two), "--commune", "kim phượng", "--json"])
    assert result.exit_code == 0, result.output
    units = [r["unit"] for r in json.loads(result.output)]
    assert units == ["Kim Phượng", "Xóm Ao Sen", "Xóm Bản Lác", "Xóm Cạm Phước", "Xóm Phai Đá"]
    every = CliRunner().invoke(income, [str(two)])
    assert "warning: income tables of 2 communes (Bảo Cường, Kim Phượng)" in every.stderr
