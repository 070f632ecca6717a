"""Tests of ntm_analysis.run: parameters, inputs, facts, and real papermill runs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from notebook_fixtures import CHART_TABLE, FAILING, HAMLET_ROWS, make_project, write_hamlets

from ntm_analysis import build_id
from ntm_analysis.errors import ParameterError, RunError
from ntm_analysis.forkserver import quick_async_kernel_manager
from ntm_analysis.run import (
    coerce_parameters,
    coerce_value,
    collect_inputs,
    default_run_dir,
    find_notebook,
    notebook_parameters,
    parse_parameters_source,
    prepare_run,
    read_facts,
    record_facts,
    run_notebook,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("NTM_PROJECT_ROOT", str(root))
    return root


# ------------------------------------------------------------------ parameters (fast)


def test_parse_parameters_source_reads_type_default_and_help() -> None:
    source = ('year: int = 2024  # năm báo cáo\n'
              'hamlet: str | None = None  # xóm\n'
              'paths: list[str] = ["a.xlsx"]  # workbooks\n'
              'plain = 3\n')
    params = parse_parameters_source(source)
    assert [(p.name, p.type, p.default, p.help) for p in params] == [
        ("year", "int", 2024, "năm báo cáo"),
        ("hamlet", "str | None", None, "xóm"),
        ("paths", "list[str]", ["a.xlsx"], "workbooks"),
    ]


def test_parse_parameters_source_reports_syntax_errors() -> None:
    with pytest.raises(ParameterError, match="line 2"):
        parse_parameters_source("year: int = 2024\nlang: str = 'vi", where="x.ipynb")


@pytest.mark.parametrize(("value", "type_name", "expected"), [
    ("2024", "int", 2024),
    ("0.5", "float", 0.5),
    (3, "float", 3.0),
    ("yes", "bool", True),
    ("không", "bool", False),
    ("Kim Phượng", "str", "Kim Phượng"),
    ('["a.xlsx", "b.xlsx"]', "list[str]", ["a.xlsx", "b.xlsx"]),
    ("a.xlsx", "list[str]", ["a.xlsx"]),
    (("a", "b"), "list", ["a", "b"]),
    ("null", "str | None", None),
    ("Xóm 1", "str | None", "Xóm 1"),
    ('{"a": 1}', "dict", {"a": 1}),
])
def test_coerce_value_converts_cli_strings(value: object, type_name: str,
                                           expected: object) -> None:
    assert coerce_value(value, type_name, name="p") == expected


@pytest.mark.parametrize(("value", "type_name"), [
    ("hai nghìn", "int"), ("maybe", "bool"), (True, "int"), ("x", "dict"), (None, "str"),
    ("[1,", "list"), (2024, "str"),
])
def test_coerce_value_refuses_wrong_values(value: object, type_name: str) -> None:
    with pytest.raises(ParameterError, match=r"parameter 'p': expected"):
        coerce_value(value, type_name, name="p")


def test_unknown_parameter_names_the_valid_ones() -> None:
    declared = notebook_parameters(CHART_TABLE)
    with pytest.raises(ParameterError) as info:
        coerce_parameters(declared, {"yaer": "2024"}, notebook="chart_table.ipynb")
    message = str(info.value)
    assert "yaer" in message
    for name in ("commune", "lang", "out_dir", "paths", "year"):
        assert name in message


def test_notebook_parameters_from_any_stored_form(tmp_path: Path) -> None:
    """Sources stored as one text or as a list of lines, an nbformat-3 notebook (converted)
    and a file that is not a notebook (named in the error)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    source = 'year: int = 2024  # năm\ncommune: str | None = None  # xã\nx = 1'
    cell = new_code_cell(source, metadata={"tags": ["parameters"]})
    nb = new_notebook(cells=[new_markdown_cell("# Tiêu đề"), cell])
    as_text = tmp_path / "text.ipynb"
    as_text.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    as_lines = tmp_path / "lines.ipynb"
    nbformat.write(nb, as_lines)  # nbformat stores sources as lists of lines
    assert isinstance(json.loads(as_lines.read_text(encoding="utf-8"))["cells"][1]["source"],
                      list)
    old = tmp_path / "v3.ipynb"
    nbformat.write(nbformat.convert(nb, 3), old)
    found = [notebook_parameters(p) for p in (as_text, as_lines, old)]
    assert found[0] == found[1] == found[2]
    assert [(p.name, p.type, p.default, p.help) for p in found[0].values()] == [
        ("year", "int", 2024, "năm"), ("commune", "str | None", None, "xã")]
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(ParameterError, match="broken.ipynb: cannot read the notebook"):
        notebook_parameters(broken)


@pytest.mark.parametrize("settled_ns", [None, -1], ids=["as-edited", "kept-at-once"])
def test_notebook_parameters_follow_every_edit_of_the_notebook(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settled_ns: int | None) -> None:
    """Parsed once per process while the file is unchanged, yet an edit in place, a file
    replaced by one of the same size, and a parameters cell made invalid are all seen; a
    caller changing a list default changes only its own copy. Both with the files parsed
    again as just edited, and kept from the first parse (no settling time)."""
    import os

    from ntm_analysis import fsio

    if settled_ns is not None:
        monkeypatch.setattr(fsio, "SETTLED_NS", settled_ns)

    from nbformat.v4 import new_code_cell, new_notebook

    def write(source: str, path: Path) -> None:
        cell = new_code_cell(source, metadata={"tags": ["parameters"]})
        path.write_text(json.dumps(new_notebook(cells=[cell])), encoding="utf-8")

    path = tmp_path / "report.ipynb"
    write('lang: str = "vi"  # ngôn ngữ\npaths: list = []', path)
    first = notebook_parameters(path)
    first["paths"].default.append("raw/x.xlsx")
    again = notebook_parameters(path)
    assert (again["lang"].default, again["paths"].default) == ("vi", [])
    write('lang: str = "vi"\npaths: list = []\nyear: int = 2024', path)  # edited in place
    assert list(notebook_parameters(path)) == ["lang", "paths", "year"]
    same_size = tmp_path / "new.ipynb"
    write('lang: str = "en"\npaths: list = []\nyear: int = 2024', same_size)
    assert same_size.stat().st_size == path.stat().st_size
    os.replace(same_size, path)  # as an editor saves: a new file of the same size
    assert notebook_parameters(path)["lang"].default == "en"
    write("lang: str = (", path)
    with pytest.raises(ParameterError, match="report.ipynb, parameters cell: cannot parse"):
        notebook_parameters(path)


def test_run_notebook_refuses_unknown_parameter_before_running(project: Path) -> None:
    with pytest.raises(ParameterError, match="valid parameters: divisor, out_dir"):
        run_notebook(FAILING, parameters={"divisr": 1}, out_dir=project / "out")
    assert not (project / "out").exists()


def test_find_notebook_by_bare_name_and_path(project: Path) -> None:
    shutil.copy(CHART_TABLE, project / "notebooks" / "10_readiness.ipynb")
    expected = (project / "notebooks" / "10_readiness.ipynb").resolve()
    assert find_notebook("10_readiness") == expected
    assert find_notebook("notebooks/10_readiness.ipynb") == expected
    assert find_notebook(CHART_TABLE) == CHART_TABLE.resolve()
    with pytest.raises(ParameterError, match="the suite has: 10_readiness"):
        find_notebook("99_missing")


def test_default_run_dir(tmp_path: Path) -> None:
    params = {"year": 2024, "commune": "Kim Phượng"}
    assert default_run_dir("10_readiness.ipynb", params, root=tmp_path) == (
        tmp_path / "outputs" / "2024" / "kim-phuong")
    assert default_run_dir("20_hamlet_gaps.ipynb", {"year": 2024}, root=tmp_path) == (
        tmp_path / "outputs" / "20_hamlet_gaps")


def test_record_facts_merges_and_accumulates_expected(tmp_path: Path) -> None:
    record_facts(tmp_path, rows_read=10, expected=["tables/a.xlsx"])
    record_facts(tmp_path, rows_read=12, issues_found=2, expected=[Path("figures/b.png")])
    assert read_facts(tmp_path) == {
        "rows_read": 12, "issues_found": 2, "expected": ["figures/b.png", "tables/a.xlsx"],
    }


def test_record_facts_uses_run_dir_from_environment(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTM_RUN_DIR", str(tmp_path))
    record_facts(rows_read=1)
    assert read_facts(tmp_path) == {"rows_read": 1}
    monkeypatch.delenv("NTM_RUN_DIR")
    with pytest.raises(ParameterError, match="NTM_RUN_DIR"):
        record_facts(rows_read=1)


def test_collect_inputs_from_paths_and_raw_dir(project: Path) -> None:
    a = write_hamlets(project / "data" / "raw" / "a.xlsx")
    b = write_hamlets(project / "data" / "raw" / "sub" / "b.xlsx")
    (project / "data" / "raw" / "~$a.xlsx").write_bytes(b"lock")
    extra = write_hamlets(project / "other.xlsx")
    found = collect_inputs({"raw_dir": "data/raw", "paths": ["other.xlsx"]}, root=project)
    assert found == sorted([a.resolve(), b.resolve(), extra.resolve()])
    with pytest.raises(ParameterError, match="input file not found: nope.xlsx"):
        collect_inputs({"paths": ["nope.xlsx"]}, root=project)


def test_a_run_folder_inside_a_folder_of_workbooks_is_refused(project: Path) -> None:
    shutil.copy(CHART_TABLE, project / "notebooks" / "chart_table.ipynb")
    shutil.copy(ROOT / "notebooks" / "10_readiness.ipynb", project / "notebooks")
    write_hamlets(project / "data" / "raw" / "a.xlsx")
    elsewhere = write_hamlets(project / "bao-cao" / "hamlets.xlsx")
    refused = "is inside {}, which workbooks are read from; raw data is never written"
    # the notebook's raw folder, even by its default (the next run reads it)
    with pytest.raises(ParameterError, match=refused.format(".*data/raw")):
        prepare_run("10_readiness", out_dir=project / "data" / "raw" / "2024", root=project)
    # a folder given as paths (or as the report's inputs), and the folder itself
    for given in ({"paths": ["bao-cao"]}, {"paths": "bao-cao"}):
        with pytest.raises(ParameterError, match=refused.format(".*/bao-cao")):
            prepare_run("chart_table", parameters=given, out_dir=project / "bao-cao",
                        root=project)
    with pytest.raises(ParameterError, match=refused.format(".*bao-cao")):
        prepare_run("chart_table", inputs=[elsewhere.parent], out_dir=elsewhere.parent / "out",
                    root=project)
    # beside them, and a workbook's own folder when only the workbook is given: allowed
    assert prepare_run("chart_table", parameters={"paths": ["bao-cao/hamlets.xlsx"]},
                       out_dir=project / "bao-cao" / "out", root=project).run_dir == (
        project / "bao-cao" / "out").resolve()
    assert prepare_run("chart_table", out_dir=project / "data" / "raw-report",
                       root=project).run_dir.name == "raw-report"
    assert not (project / "data" / "raw" / "2024").exists()


def test_a_report_language_the_suite_does_not_have_is_refused_before_the_kernel(
        project: Path) -> None:
    shutil.copy(CHART_TABLE, project / "notebooks" / "chart_table.ipynb")
    with pytest.raises(ParameterError) as error:
        run_notebook("chart_table", parameters={"lang": "fr"}, out_dir=project / "out",
                     root=project)
    assert str(error.value) == "chart_table.ipynb: lang must be one of vi, en; got 'fr'"
    assert not (project / "out").exists()  # refused before anything was written
    assert prepare_run("chart_table", parameters={"lang": "en"}, root=project).given[
        "lang"] == "en"


def test_an_interrupted_run_removes_only_its_own_cut_writes(tmp_path: Path) -> None:
    """What an interrupted run removes from its folder: the temporary files made since it
    started; not an older one, nor one in the folder of another run inside it."""
    import os
    import time

    from ntm_analysis.fsio import remove_temporaries

    run_dir = tmp_path / "run"
    (run_dir / "figures").mkdir(parents=True)
    (run_dir / "inner" / "tables").mkdir(parents=True)
    (run_dir / "inner" / "manifest.json").write_text("{}", encoding="utf-8")
    old = run_dir / ".old.abc.tmp"
    old.write_text("x", encoding="utf-8")
    os.utime(old, (time.time() - 60, time.time() - 60))
    since = time.time() - 1.0
    cut = [run_dir / ".report.html.k3j.tmp", run_dir / "figures" / ".chart.png.9zq.tmp"]
    other = run_dir / "inner" / "tables" / ".t.parquet.p0w.tmp"
    for path in [*cut, other, run_dir / "report.html"]:
        path.write_text("x", encoding="utf-8")
    assert remove_temporaries(run_dir, since=since, own_runs_only=True) == sorted(cut)
    assert sorted(p.name for p in run_dir.rglob("*") if p.is_file()) == [
        ".old.abc.tmp", ".t.parquet.p0w.tmp", "manifest.json", "report.html"]


# ------------------------------------------------------------------ real runs (slow)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_run_writes_run_folder_and_manifest(project: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = write_hamlets(project / "data" / "raw" / "hamlets.xlsx")
    out = project / "outputs" / "2024" / "kim-phuong"
    parameters = {"year": "2024", "paths": "data/raw/hamlets.xlsx"}
    # the run's kernel (nbclient's own) is shut down by the quick manager (forkserver.wait_gone)
    manager = quick_async_kernel_manager()
    waited: list[bool] = []
    wait = manager._async_wait

    async def recording_wait(self: Any, pollinterval: float = 0.1) -> None:
        await wait(self, pollinterval)
        waited.append(await self._async_is_alive())

    monkeypatch.setattr(manager, "_async_wait", recording_wait)
    result = run_notebook(CHART_TABLE, parameters=parameters, out_dir=out)
    assert result.ok
    assert waited == [False]  # one kernel, killed and waited for until gone
    assert result.out_dir == out.resolve()
    assert result.notebook_path == out.resolve() / "chart_table.ipynb"
    assert result.html_path == out.resolve() / "chart_table.html"

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == result.manifest | {"files": manifest["files"]}
    assert manifest["status"] == "ok"
    assert manifest["error"] is None and manifest["failed_cell"] is None
    assert manifest["parameters"]["year"] == 2024  # coerced from the string "2024"
    assert manifest["parameters"]["paths"] == ["data/raw/hamlets.xlsx"]
    assert manifest["parameters"]["commune"] == "Kim Phượng"  # the notebook's default
    assert manifest["parameters"]["out_dir"] == str(out.resolve())
    assert manifest["inputs"] == [{"path": "data/raw/hamlets.xlsx",
                                   "bytes": workbook.stat().st_size, "sha256": _sha(workbook)}]
    assert manifest["rows_read"] == len(HAMLET_ROWS)
    assert manifest["issues_found"] == 0
    assert manifest["library_version"] == build_id()
    assert manifest["python_version"].startswith("3.")
    assert manifest["started"] <= manifest["finished"]
    files = {f["path"]: f for f in manifest["files"]}
    for name in ("chart_table.ipynb", "chart_table.html", "figures/hamlets.png",
                 "tables/hamlets.xlsx", "run_facts.json"):
        assert files[name]["sha256"] == _sha(out / name), name
        assert files[name]["bytes"] == (out / name).stat().st_size
    assert manifest["outputs"] == {"notebook": "chart_table.ipynb", "html": "chart_table.html"}

    executed = nbformat.read(out / "chart_table.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert f"Năm 2024: Kim Phượng, {len(HAMLET_ROWS)} xóm" in printed
    assert not list(out.glob(".*"))  # no temporary files left behind


@pytest.mark.slow
def test_failed_run_keeps_partial_notebook_and_names_the_cell(project: Path) -> None:
    out = project / "outputs" / "failing"
    (out).mkdir(parents=True)
    (out / "failing.html").write_text("stale report from an earlier run", encoding="utf-8")
    with pytest.raises(RunError) as info:
        run_notebook(FAILING, parameters={"divisor": "0"}, out_dir=out)
    err = info.value
    assert err.cell == 3
    assert "failing.ipynb" in str(err) and "cell 3" in str(err)
    assert "ZeroDivisionError" in str(err)
    assert err.output_path == str(out.resolve() / "failing.ipynb")

    partial = nbformat.read(out / "failing.ipynb", as_version=4)
    outputs = [o for c in partial.cells if c.cell_type == "code" for o in c.outputs]
    assert any("cell 2 ran" in o.get("text", "") for o in outputs)
    assert any(o.get("ename") == "ZeroDivisionError" for o in outputs)
    assert not (out / "failing.html").exists()  # no report for a failed run, not even a stale one

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["failed_cell"] == 3
    assert manifest["error"] == "ZeroDivisionError: division by zero"
    assert manifest["rows_read"] == 3  # recorded by cell 2 before the failure
    assert manifest["outputs"] == {"notebook": "failing.ipynb", "html": None}


@pytest.mark.slow
def test_run_fails_when_a_declared_output_is_missing(project: Path) -> None:
    out = project / "outputs" / "missing"
    with pytest.raises(RunError, match="tables/never_written.xlsx"):
        run_notebook(FAILING, parameters={"divisor": 1}, out_dir=out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["failed_cell"] is None
    assert manifest["missing"] == ["tables/never_written.xlsx"]


@pytest.mark.slow
@pytest.mark.parametrize("fork", [False, True], ids=["plain", "forked"])
def test_run_kernel_writes_no_ipython_history(project: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              fork: bool) -> None:
    import sys

    from notebook_fixtures import code_notebook, merge_streams

    if fork and not sys.platform.startswith("linux"):
        pytest.skip("forked kernels are only used on Linux")
    ipython_dir = tmp_path / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    nb = code_notebook(project / "notebooks" / "history.ipynb", "x = 6 * 7",
                       "print(len(In), Out.get(1), get_ipython().history_manager.enabled)")
    try:
        result = run_notebook(nb, out_dir=project / "outputs" / "history", fork_kernel=fork)
    finally:
        if fork:
            from ntm_analysis.kernels import process_pool

            process_pool().close()
    assert result.ok
    cells = nbformat.read(result.notebook_path, as_version=4).cells
    # In and Out still work (in memory) while nothing is written to the SQLite history
    assert merge_streams(cells[1].outputs)[0]["text"] == "3 None False\n"
    assert not list(ipython_dir.rglob("history.sqlite*"))


@pytest.mark.slow
def test_a_run_interrupted_while_its_kernel_starts_leaves_no_kernel_nor_file(
        tmp_path: Path) -> None:
    """``run_notebook`` called from a long-lived process (a JupyterLab kernel, a script) and
    interrupted while its kernel starts: the interrupt goes through, the kernel has ended when
    it does (nbclient arms its own cleanup only once the kernel is ready, so the kernel ran on
    until the calling process ended) and its connection file is not left in the temporary
    directory."""
    import os
    import signal
    import tempfile
    import threading
    import time

    import psutil

    batch_fixture = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"
    hold = tmp_path / "hold"
    hold.touch()
    temp = Path(tempfile.gettempdir())
    before = set(temp.iterdir())
    me = psutil.Process()
    children_before = {p.pid for p in me.children()}
    kernels: list[psutil.Process] = []
    armed = threading.Event()
    armed.set()

    def interrupt(signum: int, frame: Any) -> None:  # only while the run is going
        if armed.is_set():
            armed.clear()
            raise KeyboardInterrupt

    def new_kernels() -> list[psutil.Process]:
        found = []
        for child in me.children():
            try:
                if child.pid not in children_before and "ipykernel" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                pass
        return found

    def watch() -> None:  # the interrupt comes as soon as the kernel's process exists
        deadline = time.monotonic() + 120
        while armed.is_set() and time.monotonic() < deadline:
            kernels.extend(new_kernels())
            if kernels:
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.005)

    previous = signal.signal(signal.SIGINT, interrupt)
    watcher = threading.Thread(target=watch)
    try:
        watcher.start()
        with pytest.raises(KeyboardInterrupt):
            run_notebook(batch_fixture, out_dir=tmp_path / "o", parameters={
                "commune": "A", "hold_for": "A", "hold_file": str(hold)})
    finally:
        armed.clear()
        watcher.join()
        signal.signal(signal.SIGINT, previous)
    assert kernels, "no kernel started"
    assert [k for k in kernels if k.is_running()] == []  # gone when the interrupt came out
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["error"]) == ("failed", "interrupted")
    assert set(temp.iterdir()) - before == set()


@pytest.mark.slow
def test_a_run_interrupted_during_its_export_says_so(project: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after the kernel has ended, as the HTML report is written: the interrupt goes
    through, the manifest says ``failed``/``interrupted`` (not ``running``), the executed
    notebook is kept and no HTML nor temporary file is left."""
    import os
    import signal

    from ntm_analysis import export

    write_hamlets(project / "data" / "raw" / "hamlets.xlsx")
    real_export = export.export_html

    def interrupted_export(*args: Any, **kwargs: Any) -> Path:
        os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, taken as the export starts
        return real_export(*args, **kwargs)

    monkeypatch.setattr(export, "export_html", interrupted_export)
    out = project / "outputs" / "x"
    # SIGINT may be ignored in this process (a background job of a shell): default here
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_notebook(CHART_TABLE, out_dir=out,
                         parameters={"year": "2024", "paths": "data/raw/hamlets.xlsx"})
    finally:
        signal.signal(signal.SIGINT, previous)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["error"]) == ("failed", "interrupted")
    assert manifest["outputs"] == {"notebook": "chart_table.ipynb", "html": None}
    assert nbformat.read(out / "chart_table.ipynb", as_version=4).cells
    assert not (out / "chart_table.html").exists()
    assert not list(out.rglob(".*"))
