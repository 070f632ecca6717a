"""Kernels forked from the warm template, with the real fork server, kernels and notebooks:
fresh processes with no state from the run before, the same outputs as plain kernels, and no
process left behind after a batch, a killed launcher, a killed worker or a failed run."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import papermill as pm
import psutil
import pytest
from notebook_fixtures import (
    CHART_TABLE,
    code_notebook,
    hamlet_project,
    make_project,
    merge_streams,
)

from ntm_analysis import forkserver
from ntm_analysis.engine import register_engine
from ntm_analysis.errors import RunError
from ntm_analysis.forkserver import ForkServer, fork_kernel_manager
from ntm_analysis.kernels import KernelPool
from ntm_analysis.run import run_notebook

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="forked kernels are only used on Linux")

PROBE = ("import gc, os, sys\n"
         "print(os.getpid(), 'pandas' in sys.modules, 'ntm_analysis.report_data' in sys.modules,\n"
         "      sys.modules.get('debugpy') is not None, gc.isenabled(),\n"
         "      gc.get_freeze_count() > 0)\n"
         "print(os.environ.get('NTM_TEST_VALUE'), os.getcwd())\n"
         "print('leaked' if 'left_behind' in globals() else 'fresh')\n"
         "left_behind = 1")


def _running(pid: int) -> bool:
    """True when ``pid`` is a live process (a process that ends while asked is not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if _running(p.pid)}


def _assert_none_left(before: set[int]) -> None:
    """Assert that no process started since ``before`` is still there (waiting a little for
    processes on their way out); name each one left: its state, parent and command line."""
    left = _wait_gone(_descendants() - before)
    described = []
    for pid in sorted(left):
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            described.append(f"{pid} ({process.status()}, parent {process.ppid()}): "
                             f"{' '.join(process.cmdline())[:200]}")
    assert not left, described


def _wait_gone(pids: set[int], seconds: float = 15.0) -> set[int]:
    deadline = time.monotonic() + seconds
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {p for p in alive if _running(p)}
        time.sleep(0.05)
    return alive


def _same_paths(outputs: list) -> list:
    """Outputs without what differs between any two runs: the kernel's process id in warning
    paths (/tmp/ipykernel_<pid>/...), the random id of a pandas Styler table (#T_<uuid>) and
    object addresses in reprs (at 0x7f...)."""
    def clean(text: str) -> str:
        text = re.sub(r"ipykernel_\d+/\d+", "ipykernel_N/N", text)
        text = re.sub(r" at 0x[0-9a-f]+", " at 0x", text)
        return re.sub(r"T_[0-9a-f]{5}", "T_x", text)

    # stdout and stderr are flushed on timers of their own: a warning may come before or
    # after a print of the same cell, and a stream in one piece or in several, depending only
    # on how long the cell took
    ordered = merge_streams(sorted(outputs, key=lambda o: (o["output_type"], o.get("name", ""))))
    return [{**o, "text": clean(o["text"])} if "text" in o else
            {**o, "data": {k: clean(v) if isinstance(v, str) else v
                           for k, v in o.get("data", {}).items()}} for o in ordered]


def _kernel_pid(km) -> int:  # type: ignore[no-untyped-def]
    seen: list[dict] = []
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive("import os; print(os.getpid())", timeout=60,
                                       output_hook=lambda msg: seen.append(msg))
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
    return int(next(m["content"]["text"] for m in seen if m["msg_type"] == "stream"))


def test_two_runs_get_fresh_warm_kernels_of_their_own(tmp_path: Path) -> None:
    nb = code_notebook(tmp_path / "probe.ipynb", PROBE)
    before = _descendants()
    pool = KernelPool()
    outs = []
    try:
        for i, value in enumerate(("one", "two", "three")):
            km = pool.take(kernel_name="python3", cwd=str(tmp_path), env={"NTM_TEST_VALUE": value},
                           fork=True, spare_next=i < 2)
            assert km is not None  # forked on the spot for the first run, then the spare
            pm.execute_notebook(str(nb), str(tmp_path / f"{i}.ipynb"), km=km,
                                engine_name=register_engine(), kernel_name="python3",
                                progress_bar=False, cwd=str(tmp_path))
            assert not km.is_alive()
            cell = nbformat.read(tmp_path / f"{i}.ipynb", as_version=4).cells[0]
            assert cell.execution_count == 1  # the prologue used no count
            outs.append(merge_streams(cell.outputs)[0]["text"].splitlines())
        server = pool._server
        assert server is not None and server.alive()
    finally:
        pool.close()
    pids = [int(o[0].split()[0]) for o in outs]
    assert len(set(pids)) == 3 and os.getpid() not in pids
    for out, value in zip(outs, ("one", "two", "three"), strict=True):
        # warm from the first line (the template's imports; no debugpy, which only a
        # debugger needs), garbage collection on and the template's heap frozen, the run's
        # environment, no state
        assert out[0].split()[1:] == ["True", "True", "False", "True", "True"]
        assert out[1:] == [f"{value} {tmp_path}", "fresh"]
    assert not server.alive() and server.process.returncode == 0
    _assert_none_left(before)  # kernels, launchers and the server all reaped


def test_killed_launcher_takes_its_kernel_along(tmp_path: Path) -> None:
    before = _descendants()
    server = ForkServer()
    try:
        km = fork_kernel_manager("python3", server)
        km.start_kernel(cwd=str(tmp_path))
        kernel = _kernel_pid(km)
        launcher = km.provisioner.process.pid
        assert psutil.Process(kernel).ppid() == server.process.pid
        km.shutdown_kernel(now=True)  # SIGKILL to the launcher, as jupyter_client does
        assert not psutil.pid_exists(launcher)
        assert _wait_gone({kernel}) == set(), "the kernel outlived its launcher"
        assert server.alive()
        # the server goes on forking
        km2 = fork_kernel_manager("python3", server)
        km2.start_kernel(cwd=str(tmp_path))
        second = _kernel_pid(km2)
        assert second != kernel
        # an interrupt (SIGINT to the launcher's process group) reaches the kernel
        kc = km2.client()
        kc.start_channels()
        try:
            msg_id = kc.execute("import time; time.sleep(30)")
            time.sleep(1.0)
            km2.interrupt_kernel()
            reply = kc.get_shell_msg(timeout=20)
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["status"] == "error"
            assert reply["content"]["ename"] == "KeyboardInterrupt"
            assert km2.is_alive()  # interrupted, not killed
        finally:
            kc.stop_channels()
        km2.shutdown_kernel()  # the polite way: shutdown request, launcher exits with it
        assert _wait_gone({second}) == set()
        assert km2.provisioner is None or km2.provisioner.process is None
    finally:
        server.stop()
    _assert_none_left(before)


def test_forked_kernels_talk_over_unix_sockets_in_the_servers_folder(tmp_path: Path) -> None:
    """No TCP port: a port picked free by jupyter_client could be taken before the kernel
    bound it ("Address already in use"); the kernel's sockets live and go with the server's
    folder."""
    before = _descendants()
    server = ForkServer()
    folder = Path(server.socket_path).parent
    try:
        managers = [fork_kernel_manager("python3", server) for _ in range(2)]
        kernels = []
        for km in managers:
            km.start_kernel(cwd=str(tmp_path))
            kernels.append(psutil.Process(_kernel_pid(km)))
        for km, kernel in zip(managers, kernels, strict=True):
            assert km.transport == "ipc"
            # on TCP only ipykernel's in-process IOPub pipe, which zmq binds itself
            assert len(kernel.net_connections("inet")) <= 1, kernel.net_connections("inet")
            paths = {c.laddr for c in kernel.net_connections("unix") if c.laddr}
            assert {Path(p).parent for p in paths} == {folder}, paths
            assert len([p for p in paths if Path(p).name.startswith(
                Path(km.connection_file).stem)]) == 5, paths  # shell, iopub, stdin, control, hb
        managers[0].shutdown_kernel(now=True)  # as a run ends
        managers[1].shutdown_kernel()
        assert sorted(p.name for p in folder.iterdir()) == ["kernels.sock"]
    finally:
        server.stop()
    assert not folder.exists()
    _assert_none_left(before)


def test_a_folder_too_long_for_a_socket_path_keeps_tcp(tmp_path: Path) -> None:
    from ntm_analysis.forkserver import connect_by_files, quick_async_kernel_manager

    short, long = (quick_async_kernel_manager()() for _ in range(2))
    connect_by_files(short, str(tmp_path / "k.json"))
    assert (short.transport, short.ip) == ("ipc", str(tmp_path / "k-ipc"))
    deep = tmp_path / ("d" * 100) / "kernel.json"  # over the 108 bytes of a socket's path
    connect_by_files(long, str(deep))
    assert (long.connection_file, long.transport, long.ip) == (str(deep), "tcp", "127.0.0.1")


def test_a_single_runs_kernel_talks_over_unix_sockets_in_a_folder_it_removes(
        tmp_path: Path) -> None:
    nb = code_notebook(tmp_path / "where.ipynb",
                       "from ipykernel.connect import get_connection_info\n"
                       "info = get_connection_info(unpack=True)\n"
                       "print(info['transport'], info['ip'])")
    result = run_notebook(nb, out_dir=tmp_path / "out")
    assert result.ok, result.error
    cell = nbformat.read(result.notebook_path, as_version=4).cells[0]
    transport, ip = merge_streams(cell.outputs)[0]["text"].split()
    assert transport == "ipc"
    folder = Path(ip).parent
    assert folder.name.startswith("ntm-kernel-") and not folder.exists()


def test_a_killed_kernel_is_waited_for_from_the_first_millisecond(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from jupyter_client.manager import AsyncKernelManager, KernelManager

    # jupyter_client calls _async_wait after the SIGKILL; if it stopped doing so (renamed the
    # method), the overrides below would be dead code and every shutdown would idle again
    assert "_async_wait" in vars(KernelManager)
    managers = [type(fork_kernel_manager("python3", server))
                for server in (None, ForkServer.attach("nowhere/kernels.sock"))]
    single = forkserver.quick_async_kernel_manager()  # single runs: nbclient's own kernels
    assert issubclass(single, AsyncKernelManager)
    for manager in [*managers, single]:
        assert manager._async_wait is not KernelManager._async_wait

    class Dying:
        """Alive for ``checks`` more checks, then gone."""

        def __init__(self, checks: int) -> None:
            self.checks = checks

        async def _async_is_alive(self) -> bool:
            self.checks -= 1
            return self.checks >= 0

    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    asyncio.run(forkserver.wait_gone(Dying(0)))
    assert slept == []  # gone at the first check: no wait at all
    asyncio.run(forkserver.wait_gone(Dying(9), pollinterval=0.1))
    assert slept == [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.1, 0.1]


def test_a_killed_worker_leaves_no_server_and_no_kernel(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import os, sys, time
        from ntm_analysis.forkserver import ForkServer, fork_kernel_manager
        server = ForkServer()
        km = fork_kernel_manager("python3", server)
        km.start_kernel()
        kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
        print(server.process.pid, km.provisioner.process.pid, server.socket_path, flush=True)
        time.sleep(600)
    """)
    temp = tmp_path / "tmp"  # the worker's temporary directory
    temp.mkdir()
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, start_new_session=True,
                              env={**os.environ, "TMPDIR": str(temp)})
    try:
        line = worker.stdout.readline() if worker.stdout else ""
        server_pid, launcher_pid, socket_path = line.split()
        server, launcher = int(server_pid), int(launcher_pid)
        kernels = {p.pid for p in psutil.Process(server).children()}
        assert len(kernels) == 1
        assert Path(socket_path).parent.is_dir()
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its launcher, not the server
        worker.wait(timeout=30)
        assert _wait_gone({server, launcher, *kernels}) == set()
        # the worker never stopped its server nor removed its kernel's connection file: the
        # server removed its socket's folder with the file in it, and nothing else is left
        assert not Path(socket_path).parent.exists()
        assert list(temp.iterdir()) == []
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_forked_kernel_writes_the_same_notebook_as_a_plain_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, book = hamlet_project(tmp_path, monkeypatch)
    before = _descendants()
    outputs = []
    from ntm_analysis.kernels import process_pool

    try:
        for name, fork in (("plain", False), ("forked", True), ("forked2", True)):
            result = run_notebook(CHART_TABLE, parameters={"paths": [str(book)]},
                                  out_dir=root / "outputs" / name, root=root, fork_kernel=fork)
            assert result.ok, result.manifest["error"]
            cells = nbformat.read(result.notebook_path, as_version=4).cells
            outputs.append([(c.execution_count, _same_paths(c.outputs)) for c in cells
                            if c.cell_type == "code"])
            html = result.html_path.read_text(encoding="utf-8") if result.html_path else ""
            assert "data:image/png;base64," in html
    finally:
        process_pool().close()
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for _, outs in outputs[0] for o in outs)  # the chart is shown inline
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]
    _assert_none_left(before)


def test_failed_timed_out_and_dead_kernels_in_forked_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    # (the client's warnings, e.g. nbclient's "Timeout waiting for IOPub output", go into the
    # failure message: once in many runs the "dies" case lost its printed 'a')
    caplog.set_level(logging.WARNING)
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("NTM_PROJECT_ROOT", str(root))
    before = _descendants()
    from ntm_analysis.kernels import process_pool

    # each run has a cell timeout, as a batch's runs do; only the sleeping cell is to reach
    # it. On a loaded machine a forked kernel's first print took 2.3 s and noticing a dead
    # kernel takes over 1 s (nbclient looks once a second): the runs that end by themselves
    # get a limit they never reach, and the sleeping one a limit its print is far within
    cases = {
        "raises": (60, "print('a')", "raise ValueError('boom')"),
        "sleeps": (10, "print('a')", "import time; time.sleep(60)"),
        "dies": (60, "print('a')", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"),
    }
    errors = {}
    try:
        for name, (timeout, *sources) in cases.items():
            nb = code_notebook(root / "notebooks" / f"{name}.ipynb", *sources)
            try:
                run_notebook(nb, out_dir=root / "outputs" / name, root=root, timeout=timeout,
                             fork_kernel=True)
            except RunError as exc:
                errors[name] = str(exc)
            else:
                pytest.fail(f"the run that {name} did not fail")
            kept = nbformat.read(root / "outputs" / name / f"{name}.ipynb", as_version=4)
            first = next(c for c in kept.cells if c.cell_type == "code")
            # the partial notebook is kept (print's text, however the kernel's timer cut it)
            shown = [o.get("text") for o in merge_streams(first.outputs)]
            assert shown[:1] == ["a\n"], (name, errors[name], first.outputs,
                                           caplog.text[-3000:])
        server = process_pool()._server
        assert server is not None and server.alive()  # a dead kernel is not a dead server
    finally:
        process_pool().close()
    assert "cell 1 failed: ValueError: boom" in errors["raises"], errors["raises"]
    # the cell the kernel was running is named, as for an error raised in the cell
    assert "cell 1 failed: CellTimeoutError" in errors["sleeps"], errors["sleeps"]
    assert "after 10 seconds" in errors["sleeps"], errors["sleeps"]
    assert "cell 1 failed: DeadKernelError" in errors["dies"], errors["dies"]
    _assert_none_left(before)


def test_batch_with_forked_kernels_leaves_no_process(tmp_path: Path) -> None:
    from test_batch import NOTEBOOK  # the batch fixture notebook

    from ntm_analysis.batch import plan_from_raw_dir, run_batch
    from ntm_analysis.synth import write_province

    raw = tmp_path / "raw"
    write_province(raw, communes=3, hamlets=(1, 2), year=2024, seed=3)
    plan = plan_from_raw_dir(raw)
    # multiprocessing's helper for the process pool lives as long as this process: not ours
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    before = _descendants()
    result = run_batch(plan, notebook=NOTEBOOK, out_dir=tmp_path / "out", workers=1)
    assert [o.status for o in result.outcomes] == ["ok"] * 3, result.outcomes
    _assert_none_left(before)


def test_a_server_that_cannot_start_means_plain_kernels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    nb = code_notebook(tmp_path / "probe.ipynb", PROBE)
    monkeypatch.setattr(forkserver, "START_TIMEOUT", 0.0)  # never ready in time
    before = _descendants()
    pool = KernelPool()
    try:
        with caplog.at_level("WARNING", logger="ntm_analysis.kernels"):
            km = pool.take(kernel_name="python3", cwd=str(tmp_path), env={}, fork=True,
                           spare_next=False)
        assert km is None  # the run starts its own plain kernel
        assert "fork server did not start" in caplog.text
        pm.execute_notebook(str(nb), str(tmp_path / "1.ipynb"), engine_name=register_engine(),
                            kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
        cell = nbformat.read(tmp_path / "1.ipynb", as_version=4).cells[0]
        out = merge_streams(cell.outputs)[0]["text"]
        # cold: a plain kernel (which imports debugpy for ipykernel's debugger)
        assert out.splitlines()[0].split()[1:] == ["False", "False", "True", "True", "False"]
    finally:
        pool.close()
    _assert_none_left(before)


def test_a_batch_forks_every_kernel_from_one_template(tmp_path: Path) -> None:
    """Two workers, one fork server: the batch's process starts it (as the workers spawn) and
    ends it; nothing is left behind."""
    from ntm_analysis.batch import BatchRun, run_batch

    # the kernel's parent is the template it was forked from
    nb = code_notebook(tmp_path / "who.ipynb",
                       "import os\n"
                       "cmd = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().split(b'\\0')\n"
                       "print(os.getpid(), os.getppid(), cmd[1:3])")
    runs = [BatchRun(f"r{i}", f"R{i}", 2024, {}, ()) for i in range(4)]
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    before = _descendants()
    result = run_batch(runs, notebook=nb, out_dir=tmp_path / "out", workers=2)
    assert [o.status for o in result.outcomes] == ["ok"] * 4, result.outcomes
    printed = []
    for run in runs:
        cell = nbformat.read(tmp_path / "out" / run.run_id / "who.ipynb", as_version=4).cells[0]
        streams = merge_streams(cell.outputs)
        assert streams, (f"{run.run_id}: nothing the cell printed reached the notebook: "
                         f"{cell.outputs!r}; {dict(cell.metadata)!r}")
        printed.append(streams[0]["text"].split(maxsplit=2))
    kernels = {p[0] for p in printed}
    templates = {(p[1], p[2]) for p in printed}
    assert len(kernels) == 4  # a fresh process per run
    assert len(templates) == 1, templates  # one template for both workers
    assert "b'-m', b'ntm_analysis.forkserver'" in next(iter(templates))[1]
    _assert_none_left(before)  # workers, launchers, kernels and the server all gone


def test_a_killed_worker_takes_its_kernel_from_a_shared_server(tmp_path: Path) -> None:
    """A server shared by a batch outlives any one worker: the worker's launcher notices that
    its worker died, and the server then kills the kernel; the server goes on forking."""
    before = _descendants()
    server = ForkServer(wait=False)  # as a batch starts it: the worker asks before it is warm
    script = textwrap.dedent(f"""
        import time
        from ntm_analysis.forkserver import ForkServer, fork_kernel_manager
        km = fork_kernel_manager("python3", ForkServer.attach({server.socket_path!r}))
        km.start_kernel()
        kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
        print(km.provisioner.process.pid, flush=True)
        time.sleep(600)
    """)
    temp = tmp_path / "tmp"  # the worker's temporary directory
    temp.mkdir()
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, start_new_session=True,
                              env={**os.environ, "TMPDIR": str(temp)})
    try:
        launcher = int(worker.stdout.readline() if worker.stdout else "")
        assert server.process is not None
        kernels = {p.pid for p in psutil.Process(server.process.pid).children()}
        assert len(kernels) == 1
        worker.kill()  # the worker only: its launcher is orphaned, not killed
        worker.wait(timeout=30)
        assert _wait_gone({launcher, *kernels}) == set()
        assert server.alive() and ForkServer.attach(server.socket_path).alive()
        km = fork_kernel_manager("python3", ForkServer.attach(server.socket_path))
        km.start_kernel(cwd=str(tmp_path))
        try:
            assert _kernel_pid(km) not in kernels
        finally:
            km.shutdown_kernel(now=True)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        server.stop()
    assert not ForkServer.attach(server.socket_path).alive()  # stopped: nothing listens
    _assert_none_left(before)
    # the killed worker's kernel connection file was in the server's folder, removed with it
    assert list(temp.iterdir()) == []
    assert not Path(server.socket_path).parent.exists()


def test_a_shared_server_that_is_gone_means_plain_kernels(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = ForkServer()
    path = server.socket_path
    server.stop()
    before = _descendants()
    pool = KernelPool()
    try:
        with caplog.at_level("WARNING", logger="ntm_analysis.kernels"):
            km = pool.take(kernel_name="python3", cwd=str(tmp_path), env={}, fork=True,
                           fork_socket=path, spare_next=False)
        assert km is None  # the run starts its own plain kernel
        assert "fork server ended" in caplog.text
    finally:
        pool.close()
    _assert_none_left(before)


def test_a_server_whose_owner_left_during_its_warm_up_leaves_nothing() -> None:
    server = ForkServer(wait=False)  # warming up: the owner has not read READY yet
    assert server.process is not None and server.process.stdout is not None
    folder = Path(server.socket_path).parent
    assert folder.is_dir()
    # the owner goes away (as a batch that crashed at its start): both pipes close
    server.process.stdout.close()
    assert server.process.stdin is not None
    server.process.stdin.close()
    assert server.process.wait(timeout=120) == 0
    assert not folder.exists()  # its socket and folder removed, READY never read


def test_frozen_warm_up_freezes_the_heap_as_it_is_and_collects_again_after() -> None:
    # in a new interpreter: freezing the test process's own heap would outlive the test
    code = textwrap.dedent("""
        import gc, weakref
        from ntm_analysis.forkserver import frozen_warm_up

        class Node:
            pass

        before = gc.get_freeze_count()
        try:
            with frozen_warm_up():
                assert not gc.isenabled()  # no scans of the growing heap meanwhile
                kept = [Node() for _ in range(1000)]
                cycle = Node()
                cycle.me = cycle  # garbage made during the warm-up: frozen, not collected
                gone = weakref.ref(cycle)
                del cycle
                raise RuntimeError("a warm-up step failed")
        except RuntimeError:
            pass
        assert gc.isenabled()  # on again, whatever happened
        assert gc.get_freeze_count() - before >= 1000
        gc.collect()
        assert gone() is not None  # the frozen generation is never collected
        after = Node()
        after.me = after
        made = weakref.ref(after)
        del after
        gc.collect()
        assert made() is None  # what the children make is collected as usual
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
