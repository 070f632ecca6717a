"""Tests for notebooks/30_funding.ipynb and notebooks/40_income_trends.ipynb."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import openpyxl
import papermill as pm
import pytest

from ntm_analysis.errors import ParameterError
from ntm_analysis.funding import check_parameters
from ntm_analysis.sample_money import write_budget_sample, write_income_sample

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [ROOT / "notebooks" / "30_funding.ipynb", ROOT / "notebooks" / "40_income_trends.ipynb"]
PARAM_LINE = re.compile(r"^\w+: \w+ = .+  # .+$")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_stripped(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and nb.cells.index(tagged[0]) == 1
    for line in tagged[0].source.splitlines():
        assert PARAM_LINE.match(line), line
        assert line.count("=") == 1, f"papermill cannot parse {line!r}"
    assert "check_parameters" in nb.cells[2].source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            assert not re.search(r"^\s*(def|class|for|while) ", cell.source, re.M)
            assert "read_" not in cell.source.replace("read_attainment", "")


def test_check_parameters(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="lang must be one of"):
        check_parameters(raw_dir=tmp_path, year=2024, lang="fr")
    with pytest.raises(ParameterError, match="year must be"):
        check_parameters(raw_dir=tmp_path, year="2024", lang="vi")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="holds no workbook"):
        check_parameters(raw_dir=tmp_path, year=2024, lang="vi")
    with pytest.raises(ParameterError, match="is not a folder"):
        check_parameters(raw_dir=tmp_path / "none", year=2024, lang="vi")
    # a folder gives its workbooks as the commands' folders do (subfolders, every format, no
    # Excel lock file); explicit paths (a batch's, one commune's) come before it
    budget = write_budget_sample(tmp_path / "2024" / "kinh_phi.xlsx")
    (tmp_path / "2024" / "~$kinh_phi.xlsx").write_bytes(b"lock")
    old = tmp_path / "thu_nhap.xls"
    old.write_bytes(b"")
    assert check_parameters(raw_dir=tmp_path, year=2024, lang="vi") == [budget, old]
    assert check_parameters(raw_dir=tmp_path / "none", year=2024, lang="vi",
                            paths=[str(budget)]) == [budget]
    with pytest.raises(ParameterError, match="paths: no such workbook: gone.xlsx"):
        check_parameters(raw_dir=tmp_path, year=2024, lang="vi", paths=["gone.xlsx"])


def outputs_text(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts.append("".join(data.get("text/markdown", "")))
            parts.append("".join(data.get("text/plain", "")))
            parts.append("".join(out.get("text", "")))
    return "\n".join(parts)


def tables_html(path: Path) -> str:
    """The HTML of the tables a notebook displayed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(out.get("data", {}).get("text/html", ""))
                     for cell in nb["cells"] for out in cell.get("outputs", []))


#: Machine words of the money tables a shared report must not show (column names, levels).
MACHINE_WORDS = re.compile(r"\b(?:state_unsplit|non_state|model_hamlet|source_sheet|"
                           r"latest_value|progress_status|moderate_progress|threshold_status|"
                           r"A_fixed_table)\b")


@pytest.mark.slow
def test_funding_notebook_on_the_sample(tmp_path: Path) -> None:
    out = tmp_path / "30.ipynb"
    pm.execute_notebook(str(NOTEBOOKS[0]), str(out), kernel_name="python3", cwd=str(ROOT),
                        parameters={"out_dir": str(tmp_path / "out")}, progress_bar=False)
    text = outputs_text(out)
    assert "Tổng kinh phí 4.122 triệu đồng" in text and "3.792" in text and "330" in text
    assert (tmp_path / "out" / "figures" / "funding_split.png").stat().st_size > 0
    # the tables as people read them (an HTML export goes to the steering committee)
    tables = tables_html(out)
    assert "Xã NTM kiểu mẫu" in tables and "3.432" in tables and "Chưa xác định nguồn" in tables
    assert not MACHINE_WORDS.search(tables), MACHINE_WORDS.search(tables)
    assert str(tmp_path) not in text  # no machine path in what is shown


@pytest.mark.slow
def test_income_notebook_on_fixture_data_in_english(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    rows = [["Thu nhập bình quân xã Tân Dương"], ["Năm", "Thu nhập", "Mục tiêu"],
            [2021, "40,0", None], [2023, "48,4", None], [2025, None, 64]]
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    raw.mkdir()
    wb.save(raw / "tan_duong.xlsx")
    write_budget_sample(raw / "kp.xlsx")  # another kind of table: skipped
    out = tmp_path / "40.ipynb"
    pm.execute_notebook(str(NOTEBOOKS[1]), str(out), kernel_name="python3", cwd=str(ROOT),
                        parameters={"raw_dir": str(raw), "lang": "en", "year": 2025},
                        progress_bar=False)
    text = outputs_text(out)
    required = (64 / 48.4) ** 0.5 - 1
    assert f"needs {required:.1%} a year against 10.0% observed" in text
    tables = tables_html(out)
    assert f"{required:.1%}" in tables and "Tân Dương" in tables
    assert "A (fixed regional table)" in tables and "inferred" in tables
    assert not MACHINE_WORDS.search(tables), MACHINE_WORDS.search(tables)


@pytest.mark.slow
def test_bad_parameter_fails_with_a_clear_message(tmp_path: Path) -> None:
    write_income_sample(tmp_path / "tn.xlsx")
    with pytest.raises(pm.PapermillExecutionError, match="direction must be"):
        pm.execute_notebook(str(NOTEBOOKS[1]), str(tmp_path / "x.ipynb"), kernel_name="python3",
                            cwd=str(ROOT), parameters={"raw_dir": str(tmp_path),
                                                       "direction": "up"},
                            progress_bar=False)


@pytest.mark.slow
def test_a_batch_of_the_money_notebooks_reads_each_communes_tables(tmp_path: Path) -> None:
    """`ntm batch 30_funding --raw …`: each run reads its commune's workbooks (``paths``),
    budget and income ones included, not the project's data/raw."""
    from ntm_analysis.batch import STATUS_OK, plan_from_raw_dir, run_batch
    from ntm_analysis.synth import write_province

    raw = tmp_path / "raw"
    (c,) = write_province(raw, communes=1, hamlets=(2, 2), year=2024, seed=3)
    write_budget_sample(raw / "kinh_phi.xlsx", commune=c.name)
    write_income_sample(raw / "thu_nhap.xlsx", commune=c.name)
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed")
    for notebook, expected in ((NOTEBOOKS[0], "Tổng kinh phí 4.122 triệu đồng"),
                               (NOTEBOOKS[1], "54,03")):
        result = run_batch(plan, notebook=notebook, out_dir=tmp_path / notebook.stem,
                           workers=1)
        assert [o.status for o in result.outcomes] == [STATUS_OK], result.outcomes
        (outcome,) = result.outcomes
        assert expected in Path(outcome.report).read_text(encoding="utf-8")


@pytest.mark.slow
def test_funding_notebook_keeps_the_named_commune(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_budget_sample(raw / "kim_phuong_2024_kinh_phi.xlsx")
    write_budget_sample(raw / "bao_cuong_2024_kinh_phi.xlsx", commune="Bảo Cường")
    with pytest.raises(pm.PapermillExecutionError,
                       match="budget tables of 2 communes: Bảo Cường"):
        pm.execute_notebook(str(NOTEBOOKS[0]), str(tmp_path / "mixed.ipynb"),
                            kernel_name="python3", cwd=str(ROOT),
                            parameters={"raw_dir": str(raw)}, progress_bar=False)
    out = tmp_path / "30.ipynb"
    pm.execute_notebook(str(NOTEBOOKS[0]), str(out), kernel_name="python3", cwd=str(ROOT),
                        parameters={"raw_dir": str(raw), "commune": "bao cuong",
                                    "out_dir": str(tmp_path / "out")}, progress_bar=False)
    assert "Tổng kinh phí 4.122 triệu đồng" in outputs_text(out)  # not 8.244
    lines = openpyxl.load_workbook(tmp_path / "out" / "tables" / "budget_lines.xlsx").active
    header = [c.value for c in next(lines.iter_rows(max_row=1))]
    files = {row[header.index("source_file")] for row in lines.iter_rows(min_row=2,
                                                                         values_only=True)}
    assert files == {"bao_cuong_2024_kinh_phi.xlsx"}
