"""Tests of the ``ntm run`` and ``ntm report`` click commands (the lead's group adds them)."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from notebook_fixtures import CHART_TABLE, HAMLET_ROWS, HELD_WRITE, make_project, write_hamlets

from ntm_analysis.cli_report import COMMANDS, _collect, report_command, run_command
from ntm_analysis.errors import InputError, ParameterError, RunError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("NTM_PROJECT_ROOT", str(root))
    # The readiness notebook is stood in for by the fixture notebook: same parameters
    # (year, commune, paths, lang, out_dir), so the machinery is tested, not the report.
    shutil.copy(CHART_TABLE, root / "notebooks" / "10_readiness.ipynb")
    return root


def test_commands_have_names_and_help_with_examples() -> None:
    assert [c.name for c in COMMANDS] == ["run", "report"]
    for command in COMMANDS:
        result = CliRunner().invoke(command, ["--help"])
        assert result.exit_code == 0, result.output
        assert re.search(r"Examples?:", result.output) and f"ntm {command.name} " in result.output


def test_collect_makes_lists_of_repeated_names() -> None:
    pairs = (("year", "2024"), ("paths", "a.xlsx"), ("paths", "b.xlsx"), ("paths", "c.xlsx"))
    assert _collect(pairs) == {"year": "2024", "paths": ["a.xlsx", "b.xlsx", "c.xlsx"]}


def test_run_refuses_unknown_parameter(project: Path) -> None:
    result = CliRunner().invoke(run_command, ["10_readiness", "-p", "communes", "X"])
    assert isinstance(result.exception, ParameterError)
    assert "communes" in str(result.exception) and "commune" in str(result.exception)


def test_run_refuses_unknown_notebook(project: Path) -> None:
    result = CliRunner().invoke(run_command, ["30_funding"])
    assert isinstance(result.exception, ParameterError)
    assert "the suite has: 10_readiness" in str(result.exception)


def test_report_refuses_a_folder_without_workbooks(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(report_command, [str(empty), "--out", str(tmp_path / "o")])
    # as ntm summary, funding and income say it (exit code 2 in the ntm group)
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == (f"{empty}: no workbook found (looked for .xlsx, .xlsm, "
                                      ".xls, .ods)")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_run_by_bare_name_writes_default_run_folder(project: Path) -> None:
    write_hamlets(project / "data" / "raw" / "hamlets.xlsx")
    result = CliRunner().invoke(run_command, [
        "10_readiness", "-p", "year", "2023", "-p", "commune", "Kim Phượng",
        "-p", "paths", "data/raw/hamlets.xlsx",
    ])
    assert result.exception is None, result.output
    run_dir = project / "outputs" / "2023" / "kim-phuong"
    assert result.output.strip() == str(run_dir / "10_readiness.html")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    assert manifest["parameters"]["year"] == 2023
    assert manifest["notebook"] == "notebooks/10_readiness.ipynb"


@pytest.mark.slow
def test_report_on_a_folder_and_a_file_in_english(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "received"
    first = write_hamlets(folder / "b_hamlets.xlsx")
    second = write_hamlets(folder / "nested" / "a_hamlets.xlsx", HAMLET_ROWS[:2])
    (folder / "notes.txt").write_text("not a workbook", encoding="utf-8")
    out = tmp_path / "report"
    result = CliRunner().invoke(report_command, [str(folder), str(first), "--out", str(out),
                                                 "--year", "2025", "--lang", "en"])
    assert result.exception is None, result.output
    html_path = out / "10_readiness.html"
    assert result.output.strip() == str(html_path.resolve())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    expected_paths = [str(first.resolve()), str(second.resolve())]
    assert manifest["parameters"]["paths"] == expected_paths  # no repeat of `first`
    assert [i["path"] for i in manifest["inputs"]] == sorted(expected_paths)
    assert manifest["parameters"]["year"] == 2025 and manifest["parameters"]["lang"] == "en"
    assert manifest["rows_read"] == len(HAMLET_ROWS)  # the notebook read paths[0] = `first`
    for name in ("figures/hamlets.png", "tables/hamlets.xlsx", "10_readiness.ipynb"):
        assert (out / name).is_file(), name
    assert re.search(r'<html[^>]*\blang="en"', html_path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_report_names_its_commune(project: Path, tmp_path: Path) -> None:
    """--commune reaches the notebook (the workbooks of a district folder hold several
    communes; the readiness report's message for that names the option: test_report_data)."""
    first = write_hamlets(tmp_path / "received" / "hamlets.xlsx")
    out = tmp_path / "report"
    result = CliRunner().invoke(report_command, [str(first), "--out", str(out),
                                                 "--commune", "Kim Phượng"])
    assert result.exception is None, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["commune"] == "Kim Phượng"


@pytest.mark.slow
def test_report_failure_raises_run_error(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a zip file")
    result = CliRunner().invoke(report_command, [str(bad), "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, RunError)
    assert "10_readiness.ipynb: cell 4 failed" in str(result.exception)
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["failed_cell"] == 4


@pytest.mark.slow
def test_report_from_another_folder_writes_where_the_user_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths on the command line are the user's: not the project root's."""
    from ntm_analysis.cli import cli

    root = Path(__file__).resolve().parents[1]
    work = tmp_path / "elsewhere"
    work.mkdir()
    for name in ("kim_phuong_2024_xa_kieu_mau.xlsx", "kim_phuong_2024_xom_thong_minh.xlsx"):
        shutil.copy(root / "data" / "raw" / name, work / name)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(cli, ["report", "kim_phuong_2024_xa_kieu_mau.xlsx",
                                      "kim_phuong_2024_xom_thong_minh.xlsx", "--out", "bao-cao"])
    assert result.exit_code == 0, result.output
    html = work / "bao-cao" / "10_readiness.html"
    assert html.is_file()
    assert result.output.strip().endswith(str(html))
    assert not (root / "bao-cao").exists()


@pytest.mark.slow
def test_run_cell_timeout_fails_the_run_and_names_the_cell(tmp_path: Path) -> None:
    """``ntm run --cell-timeout``: a cell that would run for ever fails the run, naming it."""
    batch_fixture = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"
    hold = tmp_path / "hold"
    hold.touch()  # the fixture's cell 2 waits while this file exists
    out = tmp_path / "o"
    # without the timeout the run would wait for ever: it ends (and passes) after a minute
    release = threading.Timer(60, hold.unlink, kwargs={"missing_ok": True})
    release.start()
    try:
        result = CliRunner().invoke(run_command, [
            str(batch_fixture), "-p", "commune", "Xã A", "-p", "hold_for", "Xã A",
            "-p", "hold_file", str(hold), "--out", str(out), "--cell-timeout", "2"])
    finally:
        release.cancel()
    assert isinstance(result.exception, RunError), result.output
    assert "cell 2 failed: CellTimeoutError" in str(result.exception)
    assert "after 2 seconds" in str(result.exception)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["failed_cell"]) == ("failed", 2)
    refused = CliRunner().invoke(run_command, [str(batch_fixture), "--cell-timeout", "0"])
    assert refused.exit_code == 2 and "--cell-timeout" in refused.output


@pytest.mark.slow
@pytest.mark.parametrize("when", ["in a cell", "while the kernel starts"])
def test_run_stopped_by_ctrl_c_exits_130_and_says_so(tmp_path: Path, when: str) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) during ``ntm run``: the
    run's manifest says ``failed``/``interrupted``, the kernel ends, the exit code is 130 and
    the message one line; nothing is left of what was being written, nor of the kernel (its
    connection file in the temporary directory: nbclient arms its cleanup only once the
    kernel is ready)."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    batch_fixture = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"
    hold = tmp_path / "hold"
    hold.touch()
    out = tmp_path / "o"
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "NTM_PROJECT_ROOT": str(Path(__file__).resolve().parents[1]),
           "TMPDIR": str(temp)}
    run = subprocess.Popen(
        [sys.executable, "-m", "ntm_analysis", "run", str(batch_fixture), "-p", "commune", "A",
         "-p", "hold_for", "A", "-p", "hold_file", str(hold), "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def processes() -> list[psutil.Process]:
        return psutil.Process(run.pid).children(recursive=True)

    def kernel_started() -> bool:
        with contextlib.suppress(psutil.Error):
            return any("ipykernel" in " ".join(p.cmdline()) for p in processes())
        return False

    try:
        deadline = time.monotonic() + 120
        while not kernel_started():
            assert time.monotonic() < deadline and run.poll() is None, "no kernel started"
            time.sleep(0.01)
        # into the held cell: it is midway through writing this file (a fixed sleep here let a
        # slow machine's Ctrl-C come while the kernel still started)
        while when == "in a cell" and not (out / HELD_WRITE).is_file():
            assert time.monotonic() < deadline and run.poll() is None, "no held cell started"
            time.sleep(0.05)
        assert not (out / "held.txt").exists()  # the held cell has not finished
        started = processes()
        os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
    assert run.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in stderr and "Aborted" not in stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["error"]) == ("failed", "interrupted")
    partial = json.loads((out / "batch_fixture.ipynb").read_text(encoding="utf-8"))
    (held,) = [c for c in partial["cells"] if "if commune == hold_for" in "".join(c["source"])]
    # stopped in the held cell, or before any cell
    assert bool(held["metadata"].get("papermill", {}).get("start_time")) == (when == "in a cell")
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    assert sorted(p.name for p in out.iterdir()) == [
        "batch_fixture.ipynb", "figures", "manifest.json", "tables"]  # no .held.txt.cut.tmp
    assert list(temp.iterdir()) == []


@pytest.mark.slow
def test_a_second_run_into_a_folder_in_use_stops_before_writing(tmp_path: Path) -> None:
    """Two runs into one folder (a second terminal, a scheduled job): the second exits 7 naming
    the first's process, before it writes anything; the first ends whole."""
    import os
    import subprocess
    import sys
    import time

    batch_fixture = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"
    hold, out = tmp_path / "hold", tmp_path / "o"
    hold.touch()
    env = {**os.environ, "NTM_PROJECT_ROOT": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "ntm_analysis", "run", str(batch_fixture), "-p", "commune",
               "A", "--out", str(out)]
    first = subprocess.Popen([*command, "-p", "hold_for", "A", "-p", "hold_file", str(hold)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / HELD_WRITE).is_file():  # the first is midway through its cells
            assert time.monotonic() < deadline and first.poll() is None, first.stderr
            time.sleep(0.05)
        before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 7, second.stderr
        assert second.stderr.startswith(f"error: {out / '.ntm-run.lock'}: another run is using "
                                        f"these outputs (process {first.pid} on ")
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing written
        hold.unlink()
        assert first.wait(timeout=120) == 0, first.stderr.read()
    finally:
        hold.unlink(missing_ok=True)  # a failed check still lets the first run end as it would
        try:
            first.wait(timeout=120)
        except subprocess.TimeoutExpired:
            first.kill()
            first.wait(timeout=30)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["parameters"]["hold_for"]) == ("ok", "A")
    assert not (out / ".ntm-run.lock").exists()
    # and once the first has ended, the same command runs
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
