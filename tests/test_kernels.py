"""Spare kernels for batch workers: warm, fresh for every run, shut down after it."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from notebook_fixtures import CHART_TABLE, HAMLET_ROWS, hamlet_project, merge_streams

from ntm_analysis.engine import register_engine
from ntm_analysis.kernels import KernelPool, process_pool
from ntm_analysis.run import run_notebook

PROBE = ("import os, sys\n"
         "print(sorted(m for m in ('colorsys', 'wave') if m in sys.modules))\n"
         "print(os.environ.get('NTM_TEST_VALUE'), os.getcwd())\n"
         "print('leaked' if 'left_behind' in globals() else 'fresh')\n"
         "left_behind = 1")


def _notebook(path: Path) -> Path:
    nb = new_notebook(cells=[new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def _run(pool: KernelPool, nb: Path, out: Path, *, value: str, cwd: Path) -> tuple[object, list]:
    km = pool.take(kernel_name="python3", cwd=str(cwd), env={"NTM_TEST_VALUE": value})
    kwargs = {"km": km} if km is not None else {}
    pm.execute_notebook(str(nb), str(out), engine_name=register_engine(), kernel_name="python3",
                        progress_bar=False, cwd=str(cwd), **kwargs)
    cell = nbformat.read(out, as_version=4).cells[0]
    return km, [cell.execution_count, merge_streams(cell.outputs)[0]["text"].splitlines()]


def test_spare_kernel_is_warm_fresh_and_gets_the_runs_environment(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "probe.ipynb")
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    pool = KernelPool(modules=["colorsys", "wave"])
    try:
        km1, out1 = _run(pool, nb, tmp_path / "1.ipynb", value="one", cwd=first)
        assert km1 is None  # nothing was started ahead of the first run
        assert out1[1][0] == "[]"  # papermill's own kernel: nothing imported ahead
        km2, out2 = _run(pool, nb, tmp_path / "2.ipynb", value="two", cwd=first)
        km3, out3 = _run(pool, nb, tmp_path / "3.ipynb", value="three", cwd=first)
        for km, out, value in ((km2, out2, "two"), (km3, out3, "three")):
            assert km is not None and not km.is_alive()  # shut down after its one run
            assert out == [1, ["['colorsys', 'wave']", f"{value} {first}", "fresh"]]
        assert km2 is not km3
        # a spare started for another working directory is not used
        km4, out4 = _run(pool, nb, tmp_path / "4.ipynb", value="four", cwd=second)
        assert km4 is None and out4[1][1] == f"None {second}"
    finally:
        spare = pool._pop()
        assert spare is not None and spare.km.is_alive()
        spare.shutdown()
        assert not spare.km.is_alive()
    pool.close()  # nothing left: a no-op
    assert os.environ.get("NTM_TEST_VALUE") is None  # the test process is untouched


def test_dead_spare_is_replaced_by_a_kernel_of_the_runs_own(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "probe.ipynb")
    pool = KernelPool(modules=["wave"])
    try:
        assert pool.take(kernel_name="python3", cwd=str(tmp_path), env={}) is None
        spare = pool._pop()
        assert spare is not None
        spare.km.shutdown_kernel(now=True)  # the spare died while waiting
        with pool._lock:
            pool._spare = spare
        km, out = _run(pool, nb, tmp_path / "1.ipynb", value="x", cwd=tmp_path)
        # no spare used: the run's own kernel inherits the caller's environment as usual
        assert km is None and out[1][1] == f"None {tmp_path}"
    finally:
        pool.close()


def test_run_notebook_in_warm_kernels_writes_the_same_run_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, book = hamlet_project(tmp_path, monkeypatch)
    pool = process_pool()
    try:
        results = [run_notebook(CHART_TABLE, parameters={"paths": [str(book)]},
                                out_dir=root / "outputs" / name, warm_kernel=True, root=root)
                   for name in ("cold", "warm1", "warm2")]
    finally:
        pool.close()
    texts = []
    for result in results:
        assert result.ok, result.manifest["error"]
        assert result.manifest["rows_read"] == len(HAMLET_ROWS)
        assert (result.out_dir / "figures" / "hamlets.png").is_file()
        cells = nbformat.read(result.notebook_path, as_version=4).cells
        counts = [c.execution_count for c in cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1))  # the warm-up left no count behind
        texts.append([o.get("text") for c in cells if c.cell_type == "code" for o in c.outputs
                      if o.get("name") == "stdout"])
    assert texts[0] == texts[1] == texts[2] == [f"Năm 2024: Kim Phượng, {len(HAMLET_ROWS)} xóm\n"]


def test_warm_up_fills_caches_and_leaves_settings_as_they_were() -> None:
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from ntm_analysis import budget, catalogue
    from ntm_analysis.kernels import warm_up

    budget.header_roles.cache_clear()

    before = dict(mpl.rcParams)
    figures = plt.get_fignums()
    assert warm_up(["json", "ntm_analysis.no_such_module"]) == ["ntm_analysis.no_such_module"]
    assert dict(mpl.rcParams) == before  # the house style is applied by charts, not by warm-up
    assert plt.get_fignums() == figures  # its figure is closed
    assert catalogue.criteria_sets.cache_info().currsize == 1
    assert budget.header_roles.cache_info().currsize == 2  # budget and income header words


def test_no_spare_after_the_last_run(tmp_path: Path) -> None:
    pool = KernelPool(modules=["wave"])
    try:
        assert pool.take(kernel_name="python3", cwd=str(tmp_path), env={}) is None
        km = pool.take(kernel_name="python3", cwd=str(tmp_path), env={}, spare_next=False)
        assert km is not None and km.is_alive()  # the spare, handed over
        assert pool._pop() is None  # and none started after it
        km.shutdown_kernel(now=True)
    finally:
        pool.close()


def test_a_cell_timeout_holds_in_a_kernel_from_the_pool(tmp_path: Path) -> None:
    """A kernel handed to papermill (spare or forked) gets an async client: a cell that runs
    too long fails with the timeout instead of blocking the run until it ends."""
    import time

    from ntm_analysis.errors import RunError
    from ntm_analysis.run import KERNEL_ARGUMENTS

    nb = new_notebook(cells=[new_code_cell("import time; time.sleep(60)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "sleeps.ipynb"
    nbformat.write(nb, path)
    pool = process_pool()
    try:
        # starts the spare the run takes
        pool.take(kernel_name="python3", cwd=str(tmp_path), env={},
                  extra_arguments=KERNEL_ARGUMENTS)
        start = time.monotonic()
        with pytest.raises(RunError, match="CellTimeoutError"):
            run_notebook(path, out_dir=tmp_path / "out", root=tmp_path, cwd=tmp_path,
                         timeout=3, warm_kernel=True, spare_next=False)
        assert time.monotonic() - start < 45
        assert pool._pop() is None  # the spare was used (and none started after it)
    finally:
        pool.close()


def _printed_before_idle(kc, code: str) -> str:  # type: ignore[no-untyped-def]
    """Execute ``code`` with client ``kc``; return what it printed before its "idle" status."""
    msg_id = kc.execute(code)
    texts = []
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            texts.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(texts)


def test_wait_ready_returns_once_iopub_is_connected_and_raises_for_a_dead_kernel() -> None:
    from jupyter_client.manager import KernelManager

    from ntm_analysis.kernels import ready_client_classes

    blocking, _ = ready_client_classes()
    km = KernelManager(kernel_name="python3")
    km.client_factory = blocking
    km.start_kernel()
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        # IOPub is connected: the very first request's output reaches the client
        assert _printed_before_idle(kc, "print('xóm Ao Sen')") == "xóm Ao Sen\n"
        km.shutdown_kernel(now=True)
        with pytest.raises(RuntimeError, match="died"):
            kc.wait_for_ready(timeout=5)
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def test_a_spare_connects_to_its_new_kernel_without_zmqs_100_ms_wait(tmp_path: Path) -> None:
    import zmq

    from ntm_analysis.kernels import RECONNECT_MS, _Spare

    spare = _Spare("python3", str(tmp_path), [], ["wave"])
    try:
        # its client connected before the kernel listened: it tries again every 10 ms
        for channel in (spare.kc.shell_channel, spare.kc.iopub_channel):
            assert channel.socket.getsockopt(zmq.RECONNECT_IVL) == RECONNECT_MS < 100
        assert spare.ready({"NTM_TEST_VALUE": "x"}, str(tmp_path), timeout=60)
    finally:
        spare.shutdown()
    assert not spare.km.is_alive()
    # other sockets of the process keep zmq's default
    other = zmq.Context.instance().socket(zmq.DEALER)
    try:
        assert other.getsockopt(zmq.RECONNECT_IVL) == 100
    finally:
        other.close()


def test_the_runs_client_never_reuses_the_message_ids_of_the_spares_client(
        tmp_path: Path) -> None:
    """Every client of a kernel manager numbers its messages from 0 under the manager's session
    id: the run's first cell would be sent with the id of the spare's prologue, whose late
    "idle" then ended the cell before its output came (a run's printed line went missing)."""
    from ntm_analysis.kernels import _Spare, ready_client_classes

    spare = _Spare("python3", str(tmp_path), [], ["wave"])
    try:
        assert spare.ready({}, str(tmp_path), timeout=60)
        spare.release_client()
        spare_ids = {spare.kc.session.msg_id for _ in range(20)}
        for factory in reversed(ready_client_classes()):  # nbclient's (async), then blocking
            spare.km.client_factory = factory  # as the engine sets it for the run
            run_client = spare.km.client()  # as nbclient makes the run's client
            assert not spare_ids & {run_client.session.msg_id for _ in range(20)}
        # and the run's first cell prints what it prints, before its idle
        run_client.start_channels()
        run_client.wait_for_ready(timeout=60)
        assert _printed_before_idle(run_client, "print('gặp lại')") == "gặp lại\n"
        run_client.stop_channels()
    finally:
        spare.shutdown()


def test_the_pools_clients_start_no_heartbeat_thread(tmp_path: Path) -> None:
    """A client's heartbeat thread can block for ever in its socket's send, and stopping the
    client joins it without a timeout: a batch worker hung for good releasing its spare's
    client (seen in CI). The pool's clients (the spare's and nbclient's) start none; the
    kernel's life is watched through its manager."""
    import asyncio
    import threading

    from ntm_analysis.kernels import _Spare, ready_client_classes

    # only this test's threads count: a heartbeat left by another test is not this one's
    before = {t for t in threading.enumerate() if type(t).__name__ == "HBChannel"}

    def heartbeats() -> list[threading.Thread]:
        return [t for t in threading.enumerate()
                if type(t).__name__ == "HBChannel" and t not in before]

    spare = _Spare("python3", str(tmp_path), [], [])
    try:
        assert spare.ready({}, str(tmp_path), timeout=60)
        assert spare.kc._hb_channel is None and heartbeats() == []
        spare.release_client()
        spare.km.client_factory = ready_client_classes()[1]  # nbclient's, as the engine sets it
        run_client = spare.km.client()
        run_client.start_channels()  # as nbclient starts them
        asyncio.run(run_client.wait_for_ready(timeout=60))
        assert run_client._hb_channel is None and heartbeats() == []
        assert run_client.shell_channel.is_alive() and run_client.iopub_channel.is_alive()
        run_client.stop_channels()
    finally:
        spare.shutdown()
