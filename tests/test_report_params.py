"""Tests of notebook parameter validation and unit look-up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ntm_analysis.errors import ParameterError
from ntm_analysis.report_params import require_unit, validate_parameters


def test_normalises_values(tmp_path: Path) -> None:
    book = tmp_path / "a.xlsx"
    book.write_bytes(b"")
    p = validate_parameters(year="2024", lang="en", raw_dir=str(tmp_path), paths=[str(book)],
                            out_dir="", commune="Kim Phu\u031bo\u031b\u0323ng",
                            income_per_capita="56.5", advanced_ntm_recognised="Có")
    assert p["year"] == 2024
    assert p["raw_dir"] == tmp_path
    assert p["paths"] == [book]
    assert p["out_dir"] is None
    assert p["commune"] == "Kim Phượng"  # NFC
    assert p["income_per_capita"] == 56.5
    assert p["advanced_ntm_recognised"] is True
    assert validate_parameters(advanced_ntm_recognised="unknown")["advanced_ntm_recognised"] \
        is None
    assert validate_parameters(income_per_capita=0.0)["income_per_capita"] is None
    assert validate_parameters(advanced_ntm_recognised="auto")["advanced_ntm_recognised"] == "auto"
    assert validate_parameters(commune="")["commune"] == ""  # the one commune of the data


def test_relative_paths_resolve_against_the_project_root(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # as JupyterLab runs a notebook
    monkeypatch.delenv("NTM_PROJECT_ROOT", raising=False)
    assert validate_parameters(raw_dir="data/raw")["raw_dir"] == tmp_path / "data" / "raw"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": 1999}, "year must be between 2010 and 2100; got 1999"),
        ({"year": "hai nghìn"}, "year must be a whole number; got 'hai nghìn'"),
        ({"year": True}, "year must be a whole number"),
        ({"lang": "fr"}, "lang must be one of vi, en; got 'fr'"),
        ({"raw_dir": "no/such/folder"}, "raw_dir 'no/such/folder' is not a folder"),
        ({"paths": ["missing.xlsx"]}, "paths: workbook 'missing.xlsx' does not exist"),
        ({"hamlet": "  "}, "hamlet must not be empty"),
        ({"income_per_capita": "nhiều"}, "income_per_capita must be a number"),
        ({"income_per_capita": -3}, "income_per_capita must be positive"),
        ({"advanced_ntm_recognised": "maybe"}, "must be yes, no, unknown or auto; got 'maybe'"),
        ({"top": -1}, "top must be a whole number"),
        ({"yaer": 2024}, "unknown parameter(s) yaer; known: year, "),
    ],
)
def test_bad_values_are_named(params: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        validate_parameters(**params)
    assert message in str(info.value)


def test_paths_make_raw_dir_optional(tmp_path: Path) -> None:
    book = tmp_path / "b.xlsx"
    book.write_bytes(b"")
    p = validate_parameters(raw_dir="no/such/folder", paths=[str(book)])
    assert p["paths"] == [book]


def test_no_output_folder_inside_a_folder_of_workbooks(tmp_path: Path) -> None:
    # a notebook run in JupyterLab with out_dir set by hand, as `ntm run` refuses it
    raw = tmp_path / "raw"
    raw.mkdir()
    for given in ({"raw_dir": str(raw), "out_dir": str(raw / "2024")},
                  {"raw_dir": str(raw), "processed_dir": str(raw)}):
        with pytest.raises(ParameterError, match=r"is inside .*, which workbooks are read from"):
            validate_parameters(**given)
    p = validate_parameters(raw_dir=str(raw), out_dir=str(tmp_path / "outputs"),
                            processed_dir=str(tmp_path / "processed"))
    assert p["out_dir"] == tmp_path / "outputs"


def test_require_unit_lists_the_hamlets_of_the_year() -> None:
    att = pd.DataFrame({
        "unit": ["Xóm Ao Sen", "Xóm Bản Lác", "Xóm Cũ", "Kim Phượng"],
        "level": ["hamlet", "hamlet", "hamlet", "commune"],
        "year": [2024, 2024, 2023, 2024],
    })
    assert require_unit(att, "XOM BAN LAC", year=2024) == "Xóm Bản Lác"
    assert require_unit(att, "Bản Lác", year=2024) == "Xóm Bản Lác"
    with pytest.raises(ParameterError) as info:
        require_unit(att, "Xóm Cũ", year=2024)
    assert str(info.value) == ("Hamlet 'Xóm Cũ' is not in the 2024 data; "
                               "known hamlets: Xóm Ao Sen, Xóm Bản Lác")
    with pytest.raises(ParameterError, match="Không có xóm 'Kim Phượng'"):
        require_unit(att, "Kim Phượng", year=2024, lang="vi")
    # a misspelt name gets the nearest one (accents, case and "Xóm" aside)
    with pytest.raises(ParameterError) as info:
        require_unit(att, "ban lacc", year=2024, lang="vi")
    assert str(info.value) == ("Không có xóm 'ban lacc' trong số liệu năm 2024 (có phải "
                               "'Xóm Bản Lác'?); các xóm có: Xóm Ao Sen, Xóm Bản Lác")
