"""Crash safety of batch runs, with real processes: a lock against a second batch on the same
outputs, a batch killed with SIGKILL mid-run leaving no torn file, and the next batch repairing
the rest. Raw workbooks are never written."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from notebook_fixtures import HELD_WRITE

from ntm_analysis.batch import (
    INDEX,
    INTERRUPTED,
    LOCK,
    MANIFEST,
    STATUS_INTERRUPTED,
    SUMMARY,
    BatchInterrupted,
    plan_from_yaml,
    run_batch,
)
from ntm_analysis.fsio import RunLock, file_sha256, remove_temporaries
from ntm_analysis.synth import write_province
from ntm_analysis.text import slug

NOTEBOOK = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"
ROOT = Path(__file__).resolve().parents[1]


def _batch_command(listing: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "ntm_analysis", "batch", str(NOTEBOOK), "--list", str(listing),
            "--out", str(out), "-j", "1", "-p", "fail_for=nobody"]


def _env() -> dict[str, str]:
    return {**os.environ, "NTM_PROJECT_ROOT": str(ROOT), "PYTHONWARNINGS": "ignore"}


def _wait_for(condition, *, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _manifests(out: Path) -> dict[str, dict]:
    found = {}
    for path in out.glob(f"*/{MANIFEST}"):
        found[path.parent.name] = json.loads(path.read_text(encoding="utf-8"))  # never torn
    return found


def _ok_runs(out: Path) -> set[str]:
    try:
        return {k for k, m in _manifests(out).items() if m.get("status") == "ok"}
    except (ValueError, OSError):  # a manifest being renamed into place this instant
        return set()


def _raw_hashes(raw: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(raw.iterdir()) if p.is_file()}


SHM = Path("/dev/shm")


def _named_semaphores() -> set[Path]:
    """The POSIX named semaphores of Python's ``multiprocessing`` (Linux keeps them in
    ``/dev/shm``)."""
    return set(SHM.glob("sem.mp-*")) if SHM.is_dir() else set()


def _listed_province(tmp_path: Path, *, communes: int, seed: int,
                     parameters: Callable[[list], str] = lambda made: "") -> tuple[list, Path]:
    """A province under ``tmp_path/raw`` (2024, 1–2 hamlets a commune) and a YAML list of its
    communes, with ``parameters(communes)`` (a YAML line) for every run."""
    made = write_province(tmp_path / "raw", communes=communes, hamlets=(1, 2), year=2024,
                          seed=seed)
    listing = tmp_path / "units.yaml"
    listing.write_text(parameters(made) + "runs:\n" + "".join(
        f"  - unit: {c.name}\n    year: 2024\n    inputs: [{c.path}]\n" for c in made),
        encoding="utf-8")
    return made, listing


@pytest.mark.slow
def test_lock_kill_and_repair_with_real_processes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    communes, listing = _listed_province(tmp_path, communes=5, seed=7)
    raw_before = _raw_hashes(raw)
    out = tmp_path / "out"
    command = _batch_command(listing, out)

    semaphores = _named_semaphores()
    # the killed batch cannot remove its temporary folders (multiprocessing's, the kernel
    # template's): they go in a folder of their own, removed below (short: socket paths)
    temp = tempfile.mkdtemp(prefix="ntm-t-")
    first = subprocess.Popen(command, env={**_env(), "TMPDIR": temp}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_for(lambda: (out / LOCK).is_file() or first.poll() is not None, seconds=60,
                  what="the first batch to take the lock")
        assert first.poll() is None, first.communicate()[1].decode()
        # a second batch on the same outputs refuses, naming the first; it writes nothing
        second = subprocess.run(command, env=_env(), capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 7, second.stderr
        assert "another run is using these outputs" in second.stderr
        assert f"process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None, "the first batch ended before it could be killed"
        # kill the first batch (its worker too) with SIGKILL once a run has finished
        _wait_for(lambda: bool(_ok_runs(out)), seconds=120, what="a first finished run")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        # SIGKILL to the whole group also kills multiprocessing's resource tracker, which
        # would have removed the named semaphores of the batch's worker pool: they are the
        # killed batch's (the second batch removed its own), removed so that runs of the
        # suite do not pile them up
        for left in _named_semaphores() - semaphores:
            left.unlink(missing_ok=True)
        shutil.rmtree(temp, ignore_errors=True)
    assert first.returncode == -signal.SIGKILL

    # what the killed batch left: whole files only (temporaries aside), never a torn one
    done_before = _ok_runs(out)
    assert done_before and len(done_before) < len(communes)
    manifests = _manifests(out)
    assert {m["status"] for m in manifests.values()} <= {"ok", "running"}
    for path in out.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".html":
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
        elif path.suffix in {".ipynb", ".json"}:
            json.loads(path.read_text(encoding="utf-8"))
    for run_id in done_before:
        assert (out / run_id / "batch_fixture.html").is_file()
    started = {k: manifests[k]["started"] for k in done_before}
    assert (out / LOCK).is_file()  # left behind by the killed batch

    # the next batch takes over the stale lock, keeps finished runs and completes the rest
    third = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert f"{len(communes)} run(s)" in third.stdout
    assert f"{len(done_before)} skipped" in third.stdout
    after = _manifests(out)
    assert len(after) == len(communes)
    assert {m["status"] for m in after.values()} == {"ok"}
    assert {k: after[k]["started"] for k in done_before} == started  # not run again
    for run_id in after:
        html = (out / run_id / "batch_fixture.html").read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>")
    assert (out / INDEX).read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert not list(out.rglob(".*.tmp")) and not list(out.rglob(".*.partial.ipynb"))
    assert not (out / LOCK).exists()
    assert _raw_hashes(raw) == raw_before  # raw workbooks are read, never written


def test_second_batch_refuses_while_a_live_process_holds_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from ntm_analysis.fsio import RunLock\n"
         f"with RunLock({str(out / LOCK)!r}):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(60)\n"],
        env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        from ntm_analysis.fsio import LockError

        with pytest.raises(LockError, match=f"process {holder.pid}"):
            run_batch([], notebook=NOTEBOOK, out_dir=out)
        assert not (out / INDEX).exists()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # the holder is gone: its lock is stale, and the batch runs
    result = run_batch([], notebook=NOTEBOOK, out_dir=out)
    assert result.index_path is not None and result.index_path.is_file()
    assert not (out / LOCK).exists()


def test_remove_temporaries_cleans_interrupted_writes(tmp_path: Path) -> None:
    run = tmp_path / "kim-phuong_2024"
    (run / "figures").mkdir(parents=True)
    leftovers = [run / ".manifest.json.a1b2.tmp", run / "figures" / ".x.png.c3.tmp",
                 run / ".10_readiness.partial.ipynb"]
    for path in leftovers:
        path.write_text("{", encoding="utf-8")
    kept = run / "manifest.json"
    kept.write_text("{}", encoding="utf-8")
    with RunLock(tmp_path / LOCK):
        assert remove_temporaries(tmp_path) == sorted(leftovers)
    assert kept.is_file() and not any(p.exists() for p in leftovers)


def _held_province(tmp_path: Path) -> tuple[list, Path, Path, str]:
    """A province of four communes, a YAML list of them and a hold file: the first commune's
    run waits while the file exists (the fixture's ``hold_for``), as a long report would."""
    hold = tmp_path / "hold"
    hold.touch()
    communes, listing = _listed_province(
        tmp_path, communes=4, seed=11,
        parameters=lambda made: f"parameters: {{hold_for: {made[0].name}, hold_file: {hold}}}\n")
    return communes, listing, hold, f"{slug(communes[0].name)}_2024"


def _held_and_one_done(out: Path, held: str) -> bool:
    try:
        manifests = _manifests(out)
    except (ValueError, OSError):  # a manifest being renamed into place this instant
        return False
    return (manifests.get(held, {}).get("status") == "running"
            and any(m.get("status") == "ok" for m in manifests.values())
            # the held run is midway through writing a file (the fixture's cut write)
            and (out / held / HELD_WRITE).is_file())


def _check_interrupted(out: Path, held: str, runs: int) -> set[str]:
    """Check what an interrupted batch left; return its runs that ended."""
    manifests = _manifests(out)
    assert manifests[held]["status"] == "failed"
    assert manifests[held]["error"] == INTERRUPTED and manifests[held]["finished"]
    # every manifest tells how its run ended: none is left "running"
    assert {(m["status"], m["error"]) for m in manifests.values()} <= {
        ("ok", None), ("failed", INTERRUPTED)}
    ended = {k for k, m in manifests.items() if m["status"] == "ok"}
    assert ended
    summary = pd.read_csv(out / f"{SUMMARY}.csv")
    status = summary.drop_duplicates("run_id").set_index("run_id")["status"].to_dict()
    assert len(status) == runs
    assert {k for k, v in status.items() if v == "ok"} == ended
    assert set(status.values()) == {"ok", STATUS_INTERRUPTED}
    index = (out / INDEX).read_text(encoding="utf-8")
    assert f"{runs} lượt chạy" in index and "bị gián đoạn" in index
    assert not (out / LOCK).exists()
    assert not list(out.rglob(".*.tmp"))
    return ended


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "group", "code"), [(signal.SIGINT, True, 130),
                                                    (signal.SIGTERM, False, 143)],
                         ids=["ctrl-c", "sigterm"])
def test_an_interrupted_batch_stops_its_runs_says_what_is_done_and_goes_on(
        tmp_path: Path, sig: int, group: bool, code: int) -> None:
    """Ctrl-C in a terminal (SIGINT to the whole process group) or SIGTERM to the batch's
    process stops a batch whose run would never end by itself: its workers and kernels end,
    the held run is recorded as interrupted, the summary and index tell what is done, and the
    same command goes on where it stopped."""
    import psutil

    communes, listing, hold, held = _held_province(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ntm_analysis", "batch", str(NOTEBOOK), "--list",
               str(listing), "--out", str(out), "-j", "2"]
    # a shell's background job ignores SIGINT, and so would the batch: default, as a
    # terminal's foreground job has it
    batch = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(lambda: _held_and_one_done(out, held) or batch.poll() is not None,
                  seconds=120, what="the held run to start and another to end")
        assert batch.poll() is None, batch.communicate()[1]
        processes = psutil.Process(batch.pid).children(recursive=True)
        assert len(processes) >= 4  # workers, kernels, the kernel template
        if group:
            os.killpg(batch.pid, sig)
            # impatient Ctrl-Cs while the batch stops: they only ask to wait
            for _ in range(10):
                time.sleep(0.05)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(batch.pid, sig)
        else:
            os.kill(batch.pid, sig)
        stdout, stderr = batch.communicate(timeout=60)
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
            batch.wait(timeout=30)
    assert batch.returncode == code, stderr
    assert "error: batch interrupted:" in stderr and str(out / INDEX) in stderr
    assert "Traceback" not in stderr and "Exception" not in stderr
    gone, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, [p.cmdline() for p in alive]
    ended = _check_interrupted(out, held, len(communes))
    started = {k: m["started"] for k, m in _manifests(out).items() if k in ended}

    hold.unlink()  # the same command again: the runs that ended are skipped
    again = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{len(communes)} run(s)" in again.stdout and f"{len(ended)} skipped" in again.stdout
    after = _manifests(out)
    assert {m["status"] for m in after.values()} == {"ok"} and len(after) == len(communes)
    assert {k: after[k]["started"] for k in ended} == started


@pytest.mark.slow
def test_an_interrupt_of_the_batch_process_alone_stops_its_workers(tmp_path: Path) -> None:
    """As a notebook's "interrupt kernel" does, SIGINT reaches the process that called
    ``run_batch`` and not its workers: the batch stops them itself and raises
    ``BatchInterrupted`` (a ``KeyboardInterrupt``) with what is done."""
    import psutil

    communes, listing, hold, held = _held_province(tmp_path)
    plan = plan_from_yaml(listing)
    out = tmp_path / "out"
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    sent: list[bool] = []

    def interrupt_once_held() -> None:
        try:
            _wait_for(lambda: _held_and_one_done(out, held), seconds=120,
                      what="the held run to start and another to end")
        except AssertionError:
            hold.unlink()  # let the batch end: the test fails below, rather than hang
            return
        sent.append(True)
        os.kill(os.getpid(), signal.SIGINT)

    # SIGINT may be ignored in this process (a background job of a shell): default here
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=interrupt_once_held, daemon=True)
    try:
        interrupter.start()
        with pytest.raises(BatchInterrupted) as caught:
            run_batch(plan, notebook=NOTEBOOK, out_dir=out, workers=2)
    finally:
        interrupter.join(timeout=130)
        signal.signal(signal.SIGINT, previous)
    assert sent
    result = caught.value.result
    assert isinstance(caught.value, KeyboardInterrupt)
    status = {o.run_id: o.status for o in result.outcomes}
    assert status[held] == STATUS_INTERRUPTED
    assert result.interrupted and not result.failed
    assert str(result.index_path) in str(caught.value)
    ended = _check_interrupted(out, held, len(communes))
    assert ended == {k for k, v in status.items() if v == "ok"}
    left = [p.cmdline() for p in psutil.Process().children(recursive=True)
            if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())]
    assert not left

    hold.unlink()
    again = run_batch(plan, notebook=NOTEBOOK, out_dir=out, workers=2)
    assert {o.run_id: o.status for o in again.outcomes} == {
        k: "skipped" if k in ended else "ok" for k in status}


@pytest.mark.slow
def test_workers_and_kernels_end_with_a_killed_batch_process(tmp_path: Path) -> None:
    """The batch's process killed alone (SIGKILL: the out-of-memory killer, ``kill -9``):
    its workers and their kernels end with it rather than run the rest of the batch unseen,
    and the next batch goes on."""
    import psutil

    communes, listing, hold, held = _held_province(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ntm_analysis", "batch", str(NOTEBOOK), "--list",
               str(listing), "--out", str(out), "-j", "2"]
    semaphores = _named_semaphores()
    temp = tempfile.mkdtemp(prefix="ntm-t-")  # what the killed process cannot remove
    batch = subprocess.Popen(command, env={**_env(), "TMPDIR": temp}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_for(lambda: _held_and_one_done(out, held) or batch.poll() is not None,
                  seconds=120, what="the held run to start and another to end")
        assert batch.poll() is None, batch.communicate()[1].decode()
        processes = psutil.Process(batch.pid).children(recursive=True)
        batch.kill()
        batch.wait(timeout=30)
        gone, alive = psutil.wait_procs(processes, timeout=15)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if batch.poll() is None:
            batch.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(batch.pid, signal.SIGKILL)  # whatever the test found alive
        batch.communicate(timeout=30)
        for left in _named_semaphores() - semaphores:
            left.unlink(missing_ok=True)
        shutil.rmtree(temp, ignore_errors=True)
    assert _manifests(out)[held]["status"] == "running"  # nobody was left to tell
    hold.unlink()
    again = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert {m["status"] for m in _manifests(out).values()} == {"ok"}


@pytest.mark.slow
def test_a_cell_timeout_fails_the_run_alone(tmp_path: Path) -> None:
    """``ntm batch --cell-timeout``: a report that would never end fails by itself, naming its
    cell, and the others are done."""
    communes, listing, hold, held = _held_province(tmp_path)
    out = tmp_path / "out"
    # without the timeout the held report would wait for ever: it ends after a minute
    release = threading.Timer(60, hold.unlink, kwargs={"missing_ok": True})
    release.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ntm_analysis", "batch", str(NOTEBOOK), "--list",
             str(listing), "--out", str(out), "-j", "2", "--cell-timeout", "2"],
            env=_env(), capture_output=True, text=True, timeout=300)
    finally:
        release.cancel()
    assert done.returncode == 1, done.stderr
    assert f"failed: {held}: notebook batch_fixture.ipynb: cell 2 failed: CellTimeoutError" \
        in done.stderr
    assert f"{len(communes)} run(s): 1 failed, {len(communes) - 1} ok" in done.stdout
    manifests = _manifests(out)
    assert (manifests[held]["status"], manifests[held]["failed_cell"]) == ("failed", 2)
    assert {k for k, m in manifests.items() if m["status"] == "ok"} == set(manifests) - {held}


@pytest.mark.slow
def test_dry_run_says_what_would_run_and_why_and_writes_nothing(tmp_path: Path) -> None:
    """``ntm batch --dry-run``: which runs would run, with the reason, and how many are
    unchanged, without running, locking or writing anything."""
    import openpyxl

    from ntm_analysis.batch import plan_from_yaml

    communes, listing = _listed_province(tmp_path, communes=3, seed=5)
    ids = {run.unit: run.run_id for run in plan_from_yaml(listing).runs}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ntm_analysis", "batch", str(NOTEBOOK), "--list",
               str(listing), "--out", str(out), "-j", "2"]

    def dry(*extra: str) -> tuple[dict[str, str], str]:
        """The runs that would run, with their reasons, and the count line."""
        done = subprocess.run(command + ["--dry-run", *extra], env=_env(), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        *lines, count = done.stdout.splitlines()
        reasons = {}
        for line in lines:
            prefix, run_id, reason = line.split(maxsplit=3)[1:]
            assert prefix == "run" and line.startswith("would run  ")
            reasons[run_id] = reason
        return reasons, count

    unchanged = "{} run(s): {} would run, {} unchanged (dry run: nothing was run or written)"
    assert dry() == ({i: "not run yet" for i in ids.values()}, unchanged.format(3, 3, 0))
    assert not out.exists()
    first = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert dry() == ({}, unchanged.format(3, 0, 3))

    book = openpyxl.load_workbook(communes[1].path)  # a commune office corrects its workbook
    book.active["Z90"] = "sửa lại"
    book.save(communes[1].path)
    (out / ids[communes[2].name] / "batch_fixture.html").unlink()  # a report deleted by hand
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    reasons, count = dry()
    assert count == unchanged.format(3, 2, 1)
    assert reasons[ids[communes[1].name]].startswith("inputs changed: ")
    assert reasons[ids[communes[1].name]].endswith(communes[1].path.name)
    assert reasons[ids[communes[2].name]] == "output changed or missing: batch_fixture.html"
    reasons, count = dry("-p", "fail_for=nobody")
    assert reasons[ids[communes[0].name]] == "parameters changed: fail_for"
    assert count == unchanged.format(3, 3, 0)
    reasons, count = dry("--no-resume")
    assert set(reasons.values()) == {"run again on request (no resume)"}
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing written
    assert not (out / LOCK).exists()
