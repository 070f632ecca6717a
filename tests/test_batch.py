"""Tests of batch runs: real papermill runs of a fixture notebook on synthetic communes."""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from ntm_analysis.batch import (
    INDEX,
    MANIFEST,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    Bat,
    BatchRun,
    check_batch,
    plan_from_raw_dir,
    plan_from_yaml,
    render_index,
    run_batch,
)
from ntm_analysis.errors import InputError, ParameterError
from ntm_analysis.fsio import file_sha256
from ntm_analysis.load import load_workbook
from ntm_analysis.schema import Ind, Level
from ntm_analysis.synth import write_province
from ntm_analysis.text import slug

NOTEBOOK = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    raw = tmp_path_factory.mktemp("raw")
    communes = write_province(raw, communes=3, hamlets=(2, 3), year=2024, seed=21)
    return raw, communes


def test_plan_from_raw_dir_groups_workbooks_by_commune(province, tmp_path) -> None:
    raw, communes = province
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed", parent="Huyện X")
    assert sorted(r.unit for r in plan.runs) == sorted(c.name for c in communes)
    for run in plan.runs:
        (c,) = [c for c in communes if c.name == run.unit]
        assert run.inputs == (str(c.path),)
        assert run.parameters["paths"] == [str(c.path)]
        assert run.year == 2024 and run.parent == "Huyện X"
    # the ingest cache was filled: a second plan reads Parquet
    assert list((tmp_path / "processed" / "cache").glob("*.parquet"))


def test_plan_from_indicators_one_run_per_commune_and_year_with_its_files() -> None:
    """Rows as the loader gives them (typed columns, many rows per sheet, a commune's hamlets
    in other workbooks, a year missing, a row with no file, a row of no commune)."""
    from ntm_analysis.batch import plan_from_indicators

    rows = [("Tân Dương", 2024, "tan-duong.xlsx")] * 3 + [
        ("Kim Phượng", 2024, "kp-xom.xlsx"), ("Kim Phượng", 2024, "kp-xa.xlsx"),
        ("Kim Phượng", 2024, "kp-xom.xlsx"), ("Kim Phượng", 2023, "kp-2023.xlsx"),
        ("Kim Phượng", None, "kp-cu.xlsx"), ("Kim Phượng", 2024, None),
        (None, 2024, "budget.xlsx"), ("Bình Thành", 2023, "bt.xlsx"),
    ]
    ind = pd.DataFrame(rows, columns=[Ind.commune, Ind.year, Ind.source_file]).astype(
        {Ind.commune: Ind.dtypes[Ind.commune], Ind.year: Ind.dtypes[Ind.year],
         Ind.source_file: Ind.dtypes[Ind.source_file]})
    runs = plan_from_indicators(ind, raw_dir="raw", parameters={"lang": "en"}, parent="Định Hóa")
    assert [(r.unit, r.year, r.run_id, r.inputs) for r in runs] == [
        ("Bình Thành", 2023, "binh-thanh_2023", ("raw/bt.xlsx",)),
        ("Kim Phượng", 2023, "kim-phuong_2023", ("raw/kp-2023.xlsx",)),
        ("Kim Phượng", 2024, "kim-phuong_2024", ("raw/kp-xa.xlsx", "raw/kp-xom.xlsx")),
        ("Kim Phượng", None, "kim-phuong_all", ("raw/kp-cu.xlsx",)),
        ("Tân Dương", 2024, "tan-duong_2024", ("raw/tan-duong.xlsx",)),
    ]
    assert runs[2].parameters == {"commune": "Kim Phượng", "year": 2024, "lang": "en",
                                  "paths": ["raw/kp-xa.xlsx", "raw/kp-xom.xlsx"]}
    assert "year" not in runs[3].parameters and {r.parent for r in runs} == {"Định Hóa"}
    only = plan_from_indicators(ind, raw_dir="raw", years=[2023])
    assert [r.run_id for r in only] == ["binh-thanh_2023", "kim-phuong_2023"]


def test_a_year_no_commune_has_is_refused_naming_the_years_held(province, tmp_path) -> None:
    raw, communes = province
    with pytest.raises(ParameterError) as error:
        plan_from_raw_dir(raw, processed_dir=tmp_path / "processed", years=[2204])
    assert str(error.value) == (f"{raw}: no commune has rows for 2204; the workbooks hold "
                                f"2024 ({len(communes)} communes)")
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed", years=[2204, 2024])
    assert len(plan.runs) == len(communes)  # one year found is enough


def test_plan_from_raw_dir_empty_folder(tmp_path) -> None:
    with pytest.raises(InputError, match="no workbooks"):
        plan_from_raw_dir(tmp_path)


def test_a_batch_writes_nothing_into_its_raw_folder(province, tmp_path) -> None:
    raw, _ = province
    before = sorted(p.relative_to(raw) for p in raw.rglob("*"))
    with pytest.raises(ParameterError, match="the processed folder is inside .*raw"):
        plan_from_raw_dir(raw, processed_dir=raw / "processed")
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed")
    assert plan.raw_dir == raw
    with pytest.raises(ParameterError, match="the batch's output folder is inside .*raw"):
        run_batch(plan, notebook=NOTEBOOK, out_dir=raw / "batch", workers=1)
    assert sorted(p.relative_to(raw) for p in raw.rglob("*")) == before


@pytest.mark.slow
def test_batch_runs_fail_alone_resume_and_index(province, tmp_path) -> None:
    raw, communes = province
    failing = communes[1].name
    plan = plan_from_raw_dir(raw, parameters={"fail_for": failing})
    out = tmp_path / "out"
    result = run_batch(plan, notebook=NOTEBOOK, out_dir=out, workers=2)
    status = {o.run_id: o.status for o in result.outcomes}
    failed_id = next(r.run_id for r in plan.runs if r.unit == failing)
    assert status.pop(failed_id) == STATUS_FAILED
    assert set(status.values()) == {STATUS_OK}
    (failed,) = result.failed
    assert "requested failure" in (failed.error or "")
    # every run has its folder and manifest; the executed notebook shows the row count
    for run in plan.runs:
        manifest = json.loads((out / run.run_id / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["parameters"]["commune"] == run.unit
        # one manifest format (the runner's), with the batch's own fields beside it
        assert {i["path"] for i in manifest["inputs"]} == set(run.inputs)
        assert set(manifest["fingerprint"]["inputs"]) == set(run.inputs)
        assert manifest["notebook_sha256"] == file_sha256(NOTEBOOK)
        assert (manifest["run_id"], manifest["unit"], manifest["year"]) == (
            run.run_id, run.unit, 2024)
        assert manifest["status"] == (STATUS_FAILED if run.unit == failing else STATUS_OK)
        if run.unit != failing:
            n = len(load_workbook(run.inputs[0]).indicators)
            executed = (out / run.run_id / NOTEBOOK.name).read_text(encoding="utf-8")
            assert f"{run.unit} 2024: {n} indicator rows" in executed
            assert (out / run.run_id / "batch_fixture.html").is_file()
    # summary: communes ranked together, hamlets ranked within their commune
    summary = pd.read_csv(out / "batch_summary.csv", keep_default_na=False)
    n_units = sum(1 + len(c.hamlets) for c in communes)
    assert len(summary) == n_units == len(result.summary)
    communes_rows = result.summary[result.summary[Bat.level] == Level.commune]
    expected = communes_rows.sort_values(
        [Bat.criteria_met], ascending=False)[Bat.criteria_met].tolist()
    assert communes_rows[Bat.criteria_met].tolist() == expected
    assert communes_rows[Bat.rank].min() == 1
    hamlets = result.summary[result.summary[Bat.level] == Level.hamlet]
    assert set(hamlets[Bat.parent]) == {c.name for c in communes}
    index = (out / INDEX).read_text(encoding="utf-8")
    for run in plan.runs:
        if run.unit != failing:
            assert f'href="{run.run_id}/batch_fixture.html"' in index
    # resume: nothing changed, so every ok run is skipped and the failed one runs again
    again = run_batch(plan, notebook=NOTEBOOK, out_dir=out, workers=2)
    status2 = {o.run_id: o.status for o in again.outcomes}
    assert status2.pop(failed_id) == STATUS_FAILED
    assert set(status2.values()) == {STATUS_SKIPPED}
    # a changed parameter re-runs everything
    plan3 = plan_from_raw_dir(raw, parameters={"fail_for": "nobody"})
    third = run_batch(plan3, notebook=NOTEBOOK, out_dir=out, workers=2)
    assert {o.status for o in third.outcomes} == {STATUS_OK}


@pytest.mark.slow
def test_a_worker_killed_midway_fails_its_run_alone(province, tmp_path, caplog) -> None:
    """A worker process killed while it runs a report (as the out-of-memory killer would) breaks
    the pool and every run in it; the batch runs the others again in new workers and the
    killed one alone, where it kills its worker again and is failed by itself."""
    import psutil

    from ntm_analysis.batch import WORKER_DIED

    raw, communes = province
    victim = communes[1].name
    plan = plan_from_raw_dir(raw, parameters={"kill_worker_for": victim})
    out = tmp_path / "out"
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with caplog.at_level("WARNING", logger="ntm_analysis.batch"):
        result = run_batch(plan, notebook=NOTEBOOK, out_dir=out, workers=2)
    victim_id = next(r.run_id for r in plan.runs if r.unit == victim)
    status = {o.run_id: (o.status, o.error) for o in result.outcomes}
    assert status.pop(victim_id) == (STATUS_FAILED, WORKER_DIED)
    assert set(status.values()) == {(STATUS_OK, None)} and len(status) == len(communes) - 1
    # every manifest tells how its run ended (the victim's is no longer "running")
    for run in plan.runs:
        manifest = json.loads((out / run.run_id / MANIFEST).read_text(encoding="utf-8"))
        if run.unit == victim:
            assert (manifest["status"], manifest["error"]) == (STATUS_FAILED, WORKER_DIED)
            assert manifest["finished"] is not None
        else:
            assert manifest["status"] == STATUS_OK
            assert (out / run.run_id / "batch_fixture.html").is_file()
    assert any("ended abruptly while running" in r.getMessage() and victim_id in r.getMessage()
               for r in caplog.records)
    index = (out / INDEX).read_text(encoding="utf-8")
    assert "ended abruptly, twice" in index
    # no worker, server or kernel outlives the batch (multiprocessing's resource tracker
    # lives as long as this interpreter, by design)
    left = [p.cmdline() for p in psutil.Process().children(recursive=True)
            if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())]
    assert not left
    # the next batch runs the victim again (and only it) and fails it the same way
    again = run_batch(plan, notebook=NOTEBOOK, out_dir=out, workers=2)
    assert {o.run_id: o.status for o in again.outcomes if o.status != STATUS_SKIPPED} == {
        victim_id: STATUS_FAILED}


def test_a_communes_budget_and_income_workbooks_go_to_its_runs(province, tmp_path) -> None:
    """Budget and income workbooks hold no indicator row: each goes to the runs of the commune
    its tables name, so the reports' money sections read it (they said "no budget table");
    one of a commune the folder has no indicators of, or naming no commune beside several,
    is named as read by no run."""
    from ntm_analysis.sample_money import write_budget_sample, write_income_sample

    source, communes = province
    raw = tmp_path / "raw"
    raw.mkdir()
    for c in communes:
        (raw / c.path.name).write_bytes(c.path.read_bytes())
    first = communes[0]
    write_budget_sample(raw / "money" / "kinh_phi_a.xlsx", commune=first.name)
    write_income_sample(raw / "money" / "thu_nhap_a.xlsx", commune=first.name.upper())
    write_budget_sample(raw / "kinh_phi_other.xlsx", commune="Bảo Cường")
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed")
    inputs = {run.unit: [Path(p).name for p in run.inputs] for run in plan.runs}
    assert inputs[first.name] == [first.path.name, "kinh_phi_a.xlsx", "thu_nhap_a.xlsx"]
    for c in communes[1:]:
        assert inputs[c.name] == [c.path.name]
    (run,) = [r for r in plan.runs if r.unit == first.name]
    assert run.parameters["paths"] == list(run.inputs)
    assert [(u.file, u.problem) for u in plan.unread] == [
        ("kinh_phi_other.xlsx", "its budget or income tables are of Bảo Cường, which no "
                                "indicator workbook of the folder names")]


def test_a_hamlets_workbook_naming_no_commune_goes_to_the_one_commune(tmp_path) -> None:
    from workbooks import write_hamlet_without_commune

    raw = tmp_path / "raw"
    (c,) = write_province(raw, communes=1, hamlets=(1, 1), year=2024, seed=5)
    write_hamlet_without_commune(raw / "na_mon.xlsx")
    (run,) = (plan := plan_from_raw_dir(raw)).runs
    assert [Path(p).name for p in run.inputs] == [c.path.name, "na_mon.xlsx"]
    assert plan.unread == []
    write_province(raw, communes=2, hamlets=(1, 1), year=2024, seed=6)  # a second commune
    plan = plan_from_raw_dir(raw)
    assert all("na_mon.xlsx" not in " ".join(r.inputs) for r in plan.runs)
    assert [(u.file, u.problem) for u in plan.unread] == [
        ("na_mon.xlsx", "its indicator rows name no commune (expected 'Xã …' in a title or "
                        "sheet)")]


@pytest.mark.slow
def test_any_executor_and_yaml_list(province, tmp_path) -> None:
    raw, communes = province
    c = communes[0]
    listing = tmp_path / "units.yaml"
    listing.write_text(
        "parameters: {fail_for: ''}\n"
        "runs:\n"
        f"  - unit: {c.name}\n    parent: Huyện Y\n    year: 2024\n"
        f"    inputs: [{c.path}]\n", encoding="utf-8")
    plan = plan_from_yaml(listing)
    (run,) = plan.runs
    assert run.parent == "Huyện Y" and run.inputs == (str(c.path),)
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = run_batch(plan, notebook=NOTEBOOK, out_dir=tmp_path / "o", executor=pool,
                           lang="en")
    assert [o.status for o in result.outcomes] == [STATUS_OK]
    row = result.summary[result.summary[Bat.level] == Level.commune].iloc[0]
    assert row[Bat.parent] == "Huyện Y" and row[Bat.rank] == 1
    loaded = load_workbook(c.path).indicators
    mine = loaded[(loaded[Ind.unit] == c.name)]
    assert row[Bat.indicators_total] == mine[Ind.indicator_no].nunique()


@pytest.mark.slow
def test_a_hamlet_notebook_runs_once_per_hamlet(province, tmp_path) -> None:
    """A notebook with a ``hamlet`` parameter (20_hamlet_gaps) gets a run for every hamlet of
    every commune, each in a folder named after both; the summary links each hamlet's report
    and ranks the communes, which have none. (Every run was its commune's, with the notebook's
    default hamlet: wrong for one commune, failed for all the others.)"""
    raw, communes = province
    notebook = NOTEBOOK.parent / "hamlet_fixture.ipynb"
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed")
    out = tmp_path / "o"
    planned = check_batch(plan, notebook=notebook, out_dir=out)
    expected = {(c.name, h) for c in communes for h in c.hamlets}
    assert {(r.run.unit, r.run.hamlet) for r in planned} == expected
    assert len({r.run.run_id for r in planned}) == len(expected)
    c = communes[0]
    first = next(r.run for r in planned if (r.run.unit, r.run.hamlet) == (c.name, c.hamlets[0]))
    assert first.run_id == f"{slug(c.name + ' ' + c.hamlets[0])}_2024"
    assert first.parameters["hamlet"] == c.hamlets[0]
    result = run_batch(plan, notebook=notebook, out_dir=out, workers=2)
    assert {o.status for o in result.outcomes} == {STATUS_OK}
    manifest = json.loads((out / first.run_id / MANIFEST).read_text(encoding="utf-8"))
    assert (manifest["hamlet"], manifest["unit"]) == (c.hamlets[0], c.name)
    summary = result.summary
    hamlets = summary[summary[Bat.level] == Level.hamlet]
    assert set(zip(hamlets[Bat.commune], hamlets[Bat.unit], strict=True)) == expected
    assert hamlets[Bat.report].notna().all() and (hamlets[Bat.status] == STATUS_OK).all()
    towns = summary[summary[Bat.level] == Level.commune]
    assert sorted(towns[Bat.unit]) == sorted(c.name for c in communes)
    assert towns[Bat.report].isna().all() and towns[Bat.rank].notna().all()
    page = (out / INDEX).read_text(encoding="utf-8")
    assert ">nan<" not in page
    assert page.count('<a href="') == len(expected)


class _SubmissionLog(ThreadPoolExecutor):
    """A real one-thread executor that notes the run of each task submitted to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.submitted: list[str] = []

    def submit(self, fn, /, *args, **kwargs):
        self.submitted.append(args[0].run_id)
        return super().submit(fn, *args, **kwargs)


@pytest.mark.slow
def test_runs_are_handed_out_largest_first(province, tmp_path) -> None:
    """The pool gets the runs of the largest workbooks first; the outcomes keep the plan's
    order."""
    raw, _ = province
    plan = plan_from_raw_dir(raw)
    size = {r.run_id: sum(Path(p).stat().st_size for p in r.inputs) for r in plan.runs}
    assert len(set(size.values())) == len(plan.runs) == 3  # the order is not a tie
    plan.runs.sort(key=lambda r: size[r.run_id])  # smallest first, the worst order
    with _SubmissionLog() as pool:
        result = run_batch(plan, notebook=NOTEBOOK, out_dir=tmp_path / "o", executor=pool)
    assert pool.submitted == sorted(size, key=lambda run_id: -size[run_id])
    assert [o.run_id for o in result.outcomes] == [r.run_id for r in plan.runs]
    assert {o.status for o in result.outcomes} == {STATUS_OK}


def test_yaml_errors_name_the_entry(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("runs:\n  - unit: Kim Phượng\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"bad.yaml, run 1: expected a mapping"):
        plan_from_yaml(bad)
    bad.write_text("units: []\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="'runs'"):
        plan_from_yaml(bad)


def test_a_batch_list_as_people_write_it(province, tmp_path) -> None:
    """A bare list of runs, 'commune' for 'unit', a folder as input; a misspelt key is refused
    with the nearest known one instead of being left out without a word."""
    raw, communes = province
    c = communes[0]
    folder = tmp_path / "received"
    folder.mkdir()
    (folder / c.path.name).write_bytes(c.path.read_bytes())
    listing = tmp_path / "units.yaml"
    listing.write_text(f"- commune: {c.name}\n  year: 2024\n  inputs: received\n"
                       f"  parameters: {{lang: en}}\n", encoding="utf-8")
    (run,) = plan_from_yaml(listing).runs
    assert (run.unit, run.year) == (c.name, 2024)
    assert run.inputs == (str((folder / c.path.name).resolve()),)
    assert run.parameters["lang"] == "en" and run.parameters["commune"] == c.name

    def refused(text: str) -> str:
        listing.write_text(text, encoding="utf-8")
        with pytest.raises((ParameterError, InputError)) as error:
            plan_from_yaml(listing)
        return str(error.value)

    entry = f"runs:\n  - unit: {c.name}\n    inputs: [received]\n"
    assert refused(entry + "    yaer: 2023\n") == (
        f"units.yaml, run 1 ({c.name}): unknown key 'yaer' (did you mean 'year'?); expected "
        "'unit', 'parent', 'year', 'inputs', 'parameters'")
    assert "unknown key 'lang' (a notebook parameter goes under 'parameters')" in refused(
        entry + "    lang: en\n")
    assert refused("paramters: {lang: en}\n" + entry) == (
        "units.yaml: unknown key 'paramters' (did you mean 'parameters'?); expected 'runs', "
        "'parameters'")
    assert "'parameters' must be a mapping of notebook parameters" in refused(
        entry + "    parameters: [lang, en]\n")
    assert "'year' must be a whole number, got True" in refused(entry + "    year: yes\n")
    assert refused(f"- unit: {c.name}\n  inputs: [missing.xlsx]\n").startswith(
        f"units.yaml: run 1 ({c.name}): input missing.xlsx not found (looked for ")
    (tmp_path / "empty").mkdir()
    assert refused(f"- unit: {c.name}\n  inputs: [empty]\n") == (
        f"units.yaml: run 1 ({c.name}): the folder empty holds no workbook")
    # a pattern gives the workbooks it matches (not the lock file Excel leaves beside them)
    (folder / f"~${c.path.name}").write_bytes(b"lock")
    listing.write_text(f"- unit: {c.name}\n  inputs: [received/*.xlsx]\n", encoding="utf-8")
    (run,) = plan_from_yaml(listing).runs
    assert run.inputs == (str((folder / c.path.name).resolve()),)
    assert refused(f"- unit: {c.name}\n  inputs: [received/*.xls]\n") == (
        f"units.yaml: run 1 ({c.name}): the pattern received/*.xls matches no workbook")


def test_a_batch_list_is_read_as_windows_editors_save_it(province, tmp_path) -> None:
    raw, communes = province
    text = f"runs:\n  - unit: {communes[0].name}\n    inputs: [{communes[0].path}]\n"
    listing = tmp_path / "units.yaml"
    for data in (text.encode("utf-8-sig"), text.encode("utf-16")):  # Notepad's choices
        listing.write_bytes(data)
        (run,) = plan_from_yaml(listing).runs
        assert (run.unit, run.inputs) == (communes[0].name, (str(communes[0].path),))
    # a Windows code page is refused saying where; broken YAML names its line and column
    listing.write_bytes("runs:\n  - unit: Xã Tân\n".encode("cp1252"))
    with pytest.raises(ParameterError) as error:
        plan_from_yaml(listing)
    assert str(error.value) == ("units.yaml, byte 18: not utf-8 text (invalid continuation "
                                "byte); save the list as UTF-8")
    listing.write_text("runs:\n  - unit: A\n    inputs: [a.xlsx\n", encoding="utf-8")
    with pytest.raises(ParameterError) as error:
        plan_from_yaml(listing)
    assert str(error.value) == ("units.yaml, line 4, column 1: not valid YAML (expected ',' "
                                "or ']', but got '<stream end>')")


def test_index_escapes_text(tmp_path) -> None:
    run = BatchRun('x"><script>alert(1)</script>', "<script>alert(1)</script>", 2024, {}, ())
    summary = pd.DataFrame([{Bat.parent: "<i>P</i>", Bat.rank: 1, Bat.unit: run.unit,
                             Bat.level: Level.commune, Bat.commune: run.unit, Bat.year: 2024,
                             Bat.criteria_set: None, Bat.criteria_met: 2, Bat.criteria_total: 6,
                             Bat.indicators_met: 10, Bat.indicators_total: 35,
                             Bat.run_id: run.run_id, Bat.status: "failed", Bat.seconds: 1.0,
                             Bat.report: 'a"b.html', Bat.error: "<err>"}])
    page = render_index(summary)
    assert "<script>" not in page and "<i>" not in page and "<err>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="a&quot;b.html"' in page
    assert "Xã — Đơn vị cấp trên: &lt;i&gt;P&lt;/i&gt;" in page


def test_index_has_one_table_per_level_and_parent_in_order_of_appearance() -> None:
    """Each commune's hamlets are ranked in a table of their own, whatever the rows' order;
    a missing parent (None, ``pd.NA``) is shown as none, not as "nan" or an error."""
    def row(unit: str, level: str, parent: object, rank: int) -> dict[str, object]:
        return {Bat.parent: parent, Bat.rank: rank, Bat.unit: unit, Bat.level: level,
                Bat.year: 2024, Bat.criteria_met: 3, Bat.criteria_total: 10,
                Bat.indicators_met: 23, Bat.indicators_total: 31, Bat.run_id: unit,
                Bat.status: "ok", Bat.report: f"{unit}/r.html", Bat.error: None}

    rows = [row("Kim Phượng", Level.commune, "Định Hóa", 1),
            row("Xóm Cạm Phước", Level.hamlet, "Kim Phượng", 1),
            row("Tân Dương", Level.commune, "Định Hóa", 2),
            row("Xóm Nà Mò", Level.hamlet, "Tân Dương", 1),
            row("Xóm Ao Sen", Level.hamlet, "Kim Phượng", 2),
            row("Bảo Linh", Level.commune, None, 1),
            row("Xóm Bản Lác", Level.hamlet, "Kim Phượng", 3)]
    summary = pd.DataFrame(rows).astype({Bat.parent: "string"})
    assert summary[Bat.parent].isna().sum() == 1
    page = render_index(summary, lang="en")
    headings = [h.split("</h2>")[0] for h in page.split("<h2>")[1:]]
    assert headings == ["Commune — Parent unit: Định Hóa", "Hamlet — Parent unit: Kim Phượng",
                        "Hamlet — Parent unit: Tân Dương", "Commune — Parent unit: (none)"]
    tables = [t.split("</table>")[0] for t in page.split("<h2>")[1:]]
    assert [t.count("<tr>") - 1 for t in tables] == [2, 3, 1, 1]
    assert tables[1].index("Cạm Phước") < tables[1].index("Ao Sen") < tables[1].index("Bản Lác")


def test_bad_notebook_and_lang(tmp_path) -> None:
    with pytest.raises(InputError, match="notebook not found"):
        run_batch([], notebook=tmp_path / "none.ipynb", out_dir=tmp_path)
    with pytest.raises(ParameterError, match="lang"):
        run_batch([], notebook=NOTEBOOK, out_dir=tmp_path, lang="fr")


@pytest.mark.slow
def test_cli_batch_command(province, tmp_path) -> None:
    from click.testing import CliRunner

    from ntm_analysis.cli_batch import batch

    raw, communes = province
    c = communes[2]
    listing = tmp_path / "one.yaml"
    listing.write_text(f"runs:\n  - unit: {c.name}\n    year: 2024\n    inputs: [{c.path}]\n",
                       encoding="utf-8")
    out = tmp_path / "cli"
    args = [str(NOTEBOOK), "--list", str(listing), "--out", str(out), "-j", "1",
            "-p", f"fail_for={c.name}"]
    result = CliRunner().invoke(batch, args)
    assert result.exit_code == 1
    assert "requested failure" in result.output
    args[-1] = "fail_for=nobody"
    result = CliRunner().invoke(batch, args)
    assert result.exit_code == 0, result.output
    assert "1 run(s): 1 ok" in result.output
    bad = CliRunner().invoke(batch, [str(NOTEBOOK), "--list", str(listing), "-p", "oops"])
    assert isinstance(bad.exception, ParameterError)


@pytest.mark.slow
def test_dask_local_cluster(province, tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    raw, communes = province
    plan = plan_from_raw_dir(raw, parameters={"fail_for": ""})
    plan.runs = plan.runs[:2]
    import dask

    # Dask's scratch folder (its lock files outlive the cluster) in the test's folder
    with dask.config.set({"temporary-directory": str(tmp_path / "dask")}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0", scheduler_port=0) as cluster, \
            distributed.Client(cluster) as client:
        result = run_batch(plan, notebook=NOTEBOOK, out_dir=tmp_path / "d",
                           executor=client.get_executor())
    assert [o.status for o in result.outcomes] == [STATUS_OK, STATUS_OK]


@pytest.mark.slow
def test_batch_runs_the_readiness_report_by_default(province, tmp_path) -> None:
    import base64

    import nbformat

    raw, communes = province
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed")
    plan.runs = plan.runs[:2]
    out = tmp_path / "readiness"
    result = run_batch(plan, out_dir=out, workers=2)  # no notebook given: 10_readiness
    assert [o.status for o in result.outcomes] == [STATUS_OK, STATUS_OK], result.failed
    for run in plan.runs:
        folder = out / run.run_id
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["notebook"] == "notebooks/10_readiness.ipynb"
        assert manifest["parameters"]["commune"] == run.unit
        assert manifest["parameters"]["processed_dir"] == str((tmp_path / "processed").resolve())
        html = (folder / "10_readiness.html").read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>") and run.unit in html
        # each chart is drawn once: the report shows exactly the saved PNG
        executed = nbformat.read(folder / "10_readiness.ipynb", as_version=4)
        shown = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                 if "image/png" in o.get("data", {})]
        saved = sorted((folder / "figures").glob("*.png"))
        assert len(shown) == len(saved) >= 4  # commune, hamlets, two heat maps, money charts
        assert {base64.b64decode(o["data"]["image/png"]) for o in shown} == {
            p.read_bytes() for p in saved}
    index = (out / INDEX).read_text(encoding="utf-8")
    assert all(f'href="{r.run_id}/10_readiness.html"' in index for r in plan.runs)


def test_batch_without_spare_kernels_starts_each_kernel_for_its_run(
        province, tmp_path, monkeypatch) -> None:
    """The benchmark's strictly serial reference: no run touches the spare-kernel pool."""
    from ntm_analysis import kernels

    def no_pool() -> None:
        raise AssertionError("a spare kernel was asked for")

    monkeypatch.setattr(kernels, "process_pool", no_pool)
    raw, communes = province
    plan = plan_from_raw_dir(raw)
    plan.runs = plan.runs[:2]
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = run_batch(plan, notebook=NOTEBOOK, out_dir=tmp_path / "o", executor=pool,
                           spare_kernels=False)
    assert [o.status for o in result.outcomes] == [STATUS_OK, STATUS_OK], result.outcomes


def _worker_facts(_: int) -> tuple[int, int, bool, int, int]:
    import os
    import sys
    import time

    time.sleep(0.5)  # both workers get a task
    export = sys.modules.get("ntm_analysis.export")
    validator = sys.modules.get("nbformat.validator")
    return (os.getpid(), os.getppid(), "papermill" in sys.modules,
            export._exporter.cache_info().currsize if export else 0,
            len(validator.validators) if validator else 0)


def test_batch_workers_start_warm_and_their_server_ends_with_the_batch() -> None:
    """The batch's own workers are forked from multiprocessing's fork server, which imported
    what a worker runs (papermill is not imported by unpickling a task) and compiled the report
    templates of every language and the notebook validators; the server is stopped and reaped
    when the workers are done."""
    import os
    import sys
    from concurrent.futures import ProcessPoolExecutor

    import psutil

    from ntm_analysis.batch import _worker_context

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are spawned elsewhere")
    with _worker_context() as context, ProcessPoolExecutor(2, mp_context=context) as pool:
        facts = list(pool.map(_worker_facts, range(4)))
    from ntm_analysis.i18n import LANGS

    workers = {pid for pid, *_ in facts}
    parents = {ppid for _, ppid, *_ in facts}
    assert len(workers) == 2 and len(parents) == 1 and os.getpid() not in parents
    assert all(warm for _, _, warm, _, _ in facts)
    # one exporter per language, and the strict and relaxed validators of nbformat 4
    assert {(exporters, validators) for *_, exporters, validators in facts} == {(len(LANGS), 2)}
    server = parents.pop()
    assert not psutil.pid_exists(server) or psutil.Process(server).ppid() != os.getpid()


def test_batch_figures_of_some_runs_equal_those_of_the_whole_province(province, tmp_path) -> None:
    from ntm_analysis.attainment import compute_attainment, summarise_attainment
    from ntm_analysis.batch import batch_figures

    raw, communes = province
    plan = plan_from_raw_dir(raw, processed_dir=tmp_path / "processed")
    some = plan.runs[:2]
    figures = pd.DataFrame(batch_figures(some, plan.indicators))
    # only the units of the two runs' communes, each with the figures the whole province gives
    assert set(figures[Bat.commune]) == {r.unit for r in some}
    whole = summarise_attainment(compute_attainment(plan.indicators))
    whole = whole[whole["commune"].isin({r.unit for r in some})]
    assert len(figures) == len(whole) > 2
    keys = [Bat.unit, Bat.criteria_set]
    got = figures.set_index(keys).sort_index()
    want = whole.set_index(keys).sort_index()
    for col in (Bat.criteria_met, Bat.criteria_total, Bat.indicators_met,
                Bat.indicators_total):
        assert got[col].astype(int).tolist() == want[col].astype(int).tolist()
    run_ids = {r.unit: r.run_id for r in some}
    assert (figures[Bat.run_id] == figures[Bat.commune].map(run_ids)).all()
    assert batch_figures(some, plan.indicators.iloc[0:0]) == []


def test_batch_workers_and_the_command_line_import_no_pandas() -> None:
    """A batch's workers import the runner, the export, the kernel pool and the program that
    started them (``ntm``): none of that imports pandas (0.35 s of CPU at every batch's start,
    and every ``ntm`` command's); the package's own names still resolve on first use."""
    import subprocess
    import sys

    from ntm_analysis.batch_worker import WORKER_MODULES

    modules = [*WORKER_MODULES, "ntm_analysis.cli"]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'pandas' not in sys.modules, name\n"
            "import ntm_analysis\n"
            "assert ntm_analysis.compute_attainment.__module__ == 'ntm_analysis.attainment'\n"
            "missing = [n for n in ntm_analysis.__all__ if not hasattr(ntm_analysis, n)]\n"
            "assert not missing, missing\n"
            "assert 'load_workbooks' in dir(ntm_analysis)\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr[-2000:]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        import ntm_analysis

        _ = ntm_analysis.nothing  # type: ignore[attr-defined]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")
def test_batch_workers_start_with_the_collector_on_and_their_heap_frozen() -> None:
    """The workers' fork server imports with the collector off (faster), then collects, freezes
    the heap and turns the collector on again: workers collect as usual. They hold no numpy,
    pyarrow or pandas."""
    import gc
    from concurrent.futures import ProcessPoolExecutor

    from ntm_analysis.batch import _worker_context

    with _worker_context() as context:
        assert context.get_start_method() == "forkserver"
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            enabled = pool.submit(gc.isenabled).result(timeout=120)
            frozen = pool.submit(gc.get_freeze_count).result(timeout=120)
            heavy = pool.submit(eval, "sorted({m.split('.')[0] for m, module in __import__('sys')"
                                      ".modules.items() if module is not None}"
                                      " & {'numpy', 'pyarrow', 'pandas'})")
            heavy_modules = heavy.result(timeout=120)
    assert enabled is True
    assert frozen > 50_000  # the imports of papermill, nbconvert, the runner...
    assert heavy_modules == []  # papermill's HDFS support (pyarrow.fs) is left out


def test_an_interrupt_counts_runs_whose_outcome_was_on_its_way(tmp_path) -> None:
    """When a batch is interrupted, a run whose worker wrote its manifest but whose outcome had
    not reached the batch is counted as its manifest says, not as interrupted: the summary
    and the run folders agree (seen once in CI: a run done, the summary said interrupted)."""
    import time

    from ntm_analysis.batch import _ended_since
    from ntm_analysis.run import write_manifest

    run = BatchRun("kim-phuong_2024", "Kim Phượng", 2024, {}, ())
    folder = tmp_path / run.run_id
    folder.mkdir()
    since = time.time() - 1.0
    write_manifest({"status": STATUS_OK, "seconds": 1.25,
                    "outputs": {"notebook": "r.ipynb", "html": "r.html"}}, folder)
    ended = _ended_since(run, tmp_path, since)
    assert ended is not None
    assert (ended.status, ended.seconds, ended.report) == (
        STATUS_OK, 1.25, str(folder / "r.html"))
    write_manifest({"status": STATUS_FAILED, "seconds": 0.5, "error": "ValueError: x"}, folder)
    ended = _ended_since(run, tmp_path, since)
    assert ended is not None and (ended.status, ended.error) == (STATUS_FAILED, "ValueError: x")
    write_manifest({"status": "running"}, folder)  # stopped midway: interrupted
    assert _ended_since(run, tmp_path, since) is None
    write_manifest({"status": STATUS_OK, "outputs": {}}, folder)  # from an earlier batch
    assert _ended_since(run, tmp_path, time.time() + 60) is None
    assert _ended_since(BatchRun("x_2024", "X", 2024, {}, ()), tmp_path, since) is None


@pytest.mark.slow
def test_units_whose_names_differ_only_in_tone_marks_get_folders_of_their_own(
        province, tmp_path) -> None:
    """"Bình Thành" and "Bình Thạnh" are two communes with one slug: each run gets a folder
    of its own (before, both reports were written into ``binh-thanh_2024``)."""
    from ntm_analysis.batch import plan_from_indicators

    raw, communes = province
    listing = tmp_path / "units.yaml"
    listing.write_text(
        "runs:\n"
        f"  - {{unit: Bình Thành, year: 2024, inputs: [{communes[0].path}]}}\n"
        f"  - {{unit: Bình Thạnh, year: 2024, inputs: [{communes[1].path}]}}\n"
        f"  - {{unit: Kim Phượng, year: 2024, inputs: [{communes[2].path}]}}\n",
        encoding="utf-8")
    plan = plan_from_yaml(listing)
    ids = {run.unit: run.run_id for run in plan.runs}
    assert ids["Kim Phượng"] == "kim-phuong_2024"
    assert ids["Bình Thành"] != ids["Bình Thạnh"]
    assert all(ids[u].startswith("binh-thanh-") and ids[u].endswith("_2024")
               for u in ("Bình Thành", "Bình Thạnh"))
    assert [r.run_id for r in plan_from_yaml(listing).runs] == [r.run_id for r in plan.runs]
    indicators = pd.DataFrame({"commune": ["Bình Thạnh", "Bình Thành", "Kim Phượng"],
                               "year": [2024] * 3, "source_file": ["b.xlsx", "a.xlsx", "c.xlsx"]})
    assert {r.unit: r.run_id for r in plan_from_indicators(indicators, raw_dir=raw)} == ids

    result = run_batch(plan, notebook=NOTEBOOK, out_dir=tmp_path / "out", workers=2)
    assert [o.status for o in result.outcomes] == [STATUS_OK] * 3
    for unit, run_id in ids.items():
        manifest = json.loads((tmp_path / "out" / run_id / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["parameters"]["commune"] == unit


def test_a_unit_listed_twice_and_runs_sharing_a_folder_are_refused(province, tmp_path) -> None:
    raw, communes = province
    listing = tmp_path / "units.yaml"
    listing.write_text("runs:\n" + 2 * f"  - {{unit: Bình Thành, year: 2024, "
                                       f"inputs: [{communes[0].path}]}}\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="the same unit and year appear twice: Bình Thành "
                                             "2024"):
        plan_from_yaml(listing)
    twins = [BatchRun("x_2024", unit, 2024, {}, ()) for unit in ("X", "X2")]
    with pytest.raises(ParameterError, match="two runs would write into the same folder: x_2024"):
        run_batch(twins, notebook=NOTEBOOK, out_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_stale_reason_says_why_a_run_folder_is_not_up_to_date(tmp_path) -> None:
    from ntm_analysis.run import is_up_to_date, stale_reason, write_manifest

    fingerprint = {"notebook_sha256": "a" * 64, "kernel_name": "python3",
                   "parameters": {"commune": "Kim Phượng", "year": 2024},
                   "inputs": {"raw/a.xlsx": "1" * 64, "raw/b.xlsx": "2" * 64},
                   "library_version": "0.1.0"}
    assert stale_reason(tmp_path, fingerprint) == "not run yet"
    write_manifest({"status": "running"}, tmp_path)
    assert stale_reason(tmp_path, fingerprint) == "its last run did not finish"
    write_manifest({"status": "failed", "error": "ValueError: x"}, tmp_path)
    assert stale_reason(tmp_path, fingerprint) == "its last run failed: ValueError: x"
    report = tmp_path / "r.html"
    report.write_text("<html></html>", encoding="utf-8")
    ok = {"status": "ok", "fingerprint": fingerprint, "outputs": {"html": "r.html"},
          "files": [{"path": "r.html", "bytes": report.stat().st_size,
                     "sha256": file_sha256(report)}]}
    write_manifest(ok, tmp_path)
    assert stale_reason(tmp_path, fingerprint) is None and is_up_to_date(tmp_path, fingerprint)
    changes = [
        ({"notebook_sha256": "b" * 64}, "the notebook changed"),
        ({"inputs": {"raw/a.xlsx": "1" * 64, "raw/c.xlsx": "3" * 64}},
         "inputs changed: raw/b.xlsx, raw/c.xlsx"),
        ({"parameters": {"commune": "Kim Phượng", "year": 2023, "lang": "en"}},
         "parameters changed: lang, year"),
        ({"kernel_name": "python3.12"}, "the kernel changed"),
        ({"library_version": "0.2.0"}, "the library changed (0.1.0 -> 0.2.0)"),
    ]
    for change, reason in changes:
        assert stale_reason(tmp_path, {**fingerprint, **change}) == reason
        assert not is_up_to_date(tmp_path, {**fingerprint, **change})
    report.write_text("<html>edited</html>", encoding="utf-8")
    assert stale_reason(tmp_path, fingerprint) == "output changed or missing: r.html"


def test_an_output_with_the_recorded_size_and_time_is_not_read_again(tmp_path) -> None:
    """A resumed batch judges a run's outputs by the size and modification time its manifest
    recorded (a country's run folders hold 0.9 GB); any other time has the content compared:
    a touched file is unchanged, an edited one changed. A manifest without times (an older
    run) has every output compared."""
    from ntm_analysis.run import _describe_files, stale_reason, write_manifest

    fingerprint = {"notebook_sha256": "a" * 64, "kernel_name": "python3", "parameters": {},
                   "inputs": {}, "library_version": "0.1.0"}
    report = tmp_path / "r.html"
    report.write_text("<html>Kim Phượng</html>", encoding="utf-8")
    files = _describe_files([report], base=tmp_path, times=True)
    assert files[0]["modified_ns"] == report.stat().st_mtime_ns
    write_manifest({"status": "ok", "fingerprint": fingerprint, "files": files}, tmp_path)
    assert stale_reason(tmp_path, fingerprint) is None

    recorded = report.stat()
    report.write_text("<html>Kim Phượnh</html>", encoding="utf-8")  # the same size
    assert stale_reason(tmp_path, fingerprint) == "output changed or missing: r.html"
    os.utime(report, ns=(recorded.st_atime_ns, recorded.st_mtime_ns))  # its time put back
    assert stale_reason(tmp_path, fingerprint) is None  # by size and time: not read
    older = [{k: v for k, v in f.items() if k != "modified_ns"} for f in files]
    write_manifest({"status": "ok", "fingerprint": fingerprint, "files": older}, tmp_path)
    assert stale_reason(tmp_path, fingerprint) == "output changed or missing: r.html"

    report.write_text("<html>Kim Phượng</html>", encoding="utf-8")  # as the run wrote it
    write_manifest({"status": "ok", "fingerprint": fingerprint, "files": files}, tmp_path)
    os.utime(report, ns=(recorded.st_atime_ns, recorded.st_mtime_ns + 10**9))  # touched
    assert stale_reason(tmp_path, fingerprint) is None  # read, and the same
    report.write_text("<html>Kim Phượng!</html>", encoding="utf-8")
    assert stale_reason(tmp_path, fingerprint) == "output changed or missing: r.html"


def test_an_output_folder_that_is_a_file_is_refused_clearly(province, tmp_path) -> None:
    from click.testing import CliRunner

    from ntm_analysis.cli import cli

    taken = tmp_path / "report.html"
    taken.write_text("<html></html>", encoding="utf-8")
    for out in (taken, taken / "batch"):
        with pytest.raises(InputError, match="cannot make the batch's output folder here"):
            run_batch([], notebook=NOTEBOOK, out_dir=out)
    raw, _ = province
    done = CliRunner().invoke(cli, ["batch", str(NOTEBOOK), "--raw", str(raw),
                                    "--processed", str(tmp_path / "p"), "--out", str(taken)])
    assert done.exit_code == InputError.exit_code
    assert f"{taken}: cannot make the batch's output folder here (File exists)" in done.output
    assert "Traceback" not in done.output
    assert taken.read_text(encoding="utf-8") == "<html></html>"


@pytest.mark.slow
def test_a_workbook_no_report_can_read_is_named_and_fails_the_batch(province, tmp_path) -> None:
    """A workbook of the raw folder that cannot be read gives no commune, so no run reads it:
    the batch names it (stderr and index page) and exits 1, while the other reports are made;
    before, it was left out without a word."""
    import shutil

    from click.testing import CliRunner

    from ntm_analysis.batch import UnreadFile
    from ntm_analysis.cli import cli

    raw, communes = province
    folder = tmp_path / "raw"
    shutil.copytree(raw, folder)
    (folder / "xa_hong.xlsx").write_text("bảng chỉ tiêu xã Hồng", encoding="utf-8")
    plan = plan_from_raw_dir(folder, processed_dir=tmp_path / "p")
    problem = "this is a plain text file, not an Excel workbook"
    assert plan.unread == [UnreadFile("xa_hong.xlsx", problem)]
    assert len(plan.runs) == len(communes)
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["batch", str(NOTEBOOK), "--raw", str(folder), "--processed",
                                    str(tmp_path / "p"), "--out", str(out), "-j", "2"])
    assert done.exit_code == 1, done.output
    assert f"error: xa_hong.xlsx: {problem} (no report reads this workbook)" in done.output
    assert f"{len(communes)} run(s): {len(communes)} ok" in done.output
    index = (out / INDEX).read_text(encoding="utf-8")
    assert "Tệp không báo cáo nào đọc được" in index and f"<td>{problem}</td>" in index
    # the budget and income workbooks of the sample data give no indicator row either, but no
    # error: the runs read their tables from the cache, so they are not listed
    sample = Path(__file__).resolve().parents[1] / "data" / "raw"
    assert plan_from_raw_dir(sample, processed_dir=tmp_path / "p2").unread == []


def test_a_workbook_summing_up_the_criteria_is_named_for_what_it_is(tmp_path) -> None:
    """A workbook holding only a criteria summary is read by no report; the batch says it sums
    up the criteria (it said no table was found, as of an unreadable file)."""
    import shutil

    import openpyxl

    from ntm_analysis.batch import UnreadFile

    sample = Path(__file__).resolve().parents[1] / "data" / "raw"
    folder = tmp_path / "raw"
    shutil.copytree(sample, folder)
    wb = openpyxl.Workbook()
    for row in [["BIỂU TỔNG HỢP TIÊU CHÍ XÃ NTM KIỂU MẪU NĂM 2024 - XÃ KIM PHƯỢNG"],
                ["TT", "Tên tiêu chí", "Số chỉ tiêu", "Số chỉ tiêu đạt", "Đánh giá"],
                [1, "Giáo dục", 3, 3, "Đạt"]]:
        wb.active.append(row)
    wb.save(folder / "kim_phuong_2024_tong_hop.xlsx")
    plan = plan_from_raw_dir(folder, processed_dir=tmp_path / "p")
    assert [r.unit for r in plan.runs] == ["Kim Phượng"]
    assert plan.unread == [UnreadFile(
        "kim_phuong_2024_tong_hop.xlsx", "it only sums up the criteria (a 'Số chỉ tiêu đạt' "
        "table): the indicator tables give them")]


def test_unread_workbooks_are_those_with_an_error_or_no_commune_and_no_row_of_one(
        tmp_path) -> None:
    from ntm_analysis.batch import UnreadFile, _unread

    names = ["a.xlsx", "b.xlsx", "c.xlsx", "d.xlsx", "e.xlsx"]
    files = [tmp_path / "raw" / n for n in names]
    indicators = pd.DataFrame({Ind.source_file: ["a.xlsx", "a.xlsx", "b.xlsx", "c.xlsx"],
                               Ind.commune: ["Kim Phượng", None, None, "Tân Dương"]})
    issues = pd.DataFrame({
        "source_file": ["c.xlsx", "d.xlsx", "d.xlsx", "e.xlsx"],
        "problem": ["a warning", "the workbook is empty", "second error", "budget sheet"],
        "severity": ["error", "error", "error", "info"]})
    # a: rows of a commune; b: rows of none; c: an error, but rows of a commune (its run
    # reads it and reports the error); d: errors and no rows; e: a budget workbook
    assert _unread(files, indicators, issues, base=tmp_path / "raw") == [
        UnreadFile("b.xlsx", "its indicator rows name no commune (expected 'Xã …' in a title "
                             "or sheet)"),
        UnreadFile("d.xlsx", "the workbook is empty")]
