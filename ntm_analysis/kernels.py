"""Pre-started kernels for batch workers: the next run's kernel starts while this run executes.

A papermill run spends about a second starting its kernel and importing pandas, matplotlib and the
library in it before the notebook's first line does any work. A batch worker keeps one *spare*
kernel: started in the background, with those imports already sent to it (``WARM_IMPORTS``),
while the current run executes. Each kernel runs exactly one notebook and is then shut down, so
no state passes from one run to the next; only modules are already imported, as they would be
after the notebook's own import cell.

When a run takes the spare, its run-specific settings (environment variables such as
``$NTM_RUN_DIR`` and the working directory) are applied in the kernel before the notebook runs,
silently (no execution count is used). A spare that died, or whose warm-up failed, is shut down
and the run starts a kernel of its own as usual: the pool only ever saves time.

With ``fork=True`` (batch workers, by default) the pool's kernels are forked from a fork server
(:mod:`ntm_analysis.forkserver`): a template process that imported and warmed everything once
but never runs notebook code, so each kernel is still a fresh process for one run, and it is
warm from its first instant (no warm-up code is sent to it). The server is the batch's, shared
by its workers (``fork_socket``), or else the worker's own, started with its first such run;
when it cannot start or has gone, the pool logs why and starts plain kernels.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ntm_analysis.forkserver import ForkServer

logger = logging.getLogger(__name__)

#: Modules a spare kernel imports ahead of its run (those of the readiness report).
WARM_IMPORTS: tuple[str, ...] = (
    "pandas", "matplotlib.pyplot", "IPython.display", "ntm_analysis.report_data",
    "ntm_analysis.charts", "ntm_analysis.report_money", "ntm_analysis.readiness",
    "ntm_analysis.report_params", "ntm_analysis.excel", "xlsxwriter",
)
#: Seconds a run waits for its spare kernel to finish the warm-up imports.
WARM_TIMEOUT = 60.0


def warm_code(modules: Sequence[str] = WARM_IMPORTS) -> str:
    """Return the code a spare kernel runs first: :func:`warm_up` of ``modules``.

    Examples
    --------
    >>> print(warm_code(["json"]))
    from ntm_analysis.kernels import warm_up as _w
    _w(['json'])
    del _w
    """
    return f"from ntm_analysis.kernels import warm_up as _w\n_w({list(modules)!r})\ndel _w"


def warm_up(modules: Sequence[str] = WARM_IMPORTS) -> list[str]:
    """Import ``modules`` and fill caches that depend on no run's input; return what failed.

    Run in a spare kernel before its notebook. Besides imports it reads the package's own
    tables (criteria catalogue, header words, issue texts, thresholds), draws and saves a
    miniature of each readiness chart (fonts of every size and weight, bars, legends, cell mesh,
    PNG encoder; inside ``rc_context``, so no setting stays changed) and writes a small workbook
    in memory: what every report's first chart, table and Excel file would otherwise pay.
    Nothing of a run's input is read; a failing step is skipped (the notebook then pays for it
    itself, as without a spare).
    """
    import importlib

    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the notebook will report its own import errors
            failed.append(name)
    for step in (_warm_package_tables, _warm_matplotlib, _warm_excel):
        if step.__name__.removeprefix("_warm_") in failed:
            continue
        try:
            step()
        except Exception:  # noqa: BLE001 - a cache left cold only costs time
            failed.append(step.__name__)
    return failed


def _warm_package_tables() -> None:
    from ntm_analysis import budget, build_id, catalogue, i18n, load, readiness

    build_id()  # the cache keys of the workbooks a report reads
    catalogue.criteria_sets()
    catalogue.load_catalogue()
    load.header_roles()
    budget.header_roles("budget")  # the budget and income tables' header words
    budget.header_roles("income")
    i18n._issue_texts()
    readiness._package_thresholds()
    readiness._package_recognitions()


def _warm_matplotlib() -> None:
    """Draw and save a miniature of each readiness chart (house style, inside ``rc_context``).

    The report's charts then find the fonts of every size and weight they use looked up, the
    code paths of bars, labels, legends, the cell mesh and the PNG encoder run once: the first
    chart of a forked kernel costs what the others do. The frames are made up here; no run's
    input is read.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.figure import Figure

    from ntm_analysis import charts, report_money
    from ntm_analysis.outputs import render_png

    units = ["Xóm Ao Sen", "Xóm Đồng Bòng"]
    summary = pd.DataFrame({
        "unit": units, "criteria_met": [2, 1], "criteria_total": [2, 2],
        "indicators_met": [4, 3], "indicators_total": [4, 5]})
    criteria = pd.DataFrame({
        "unit": [u for u in units for _ in range(3)], "criteria_set": "TN_XOM",
        "criterion_no": ["1", "2", "10"] * 2,
        "criterion_name": ["Quy hoạch", "Hệ thống chính trị và an ninh trật tự", "Thu nhập"] * 2,
        "met": [True, False, False, True, True, None],
        "indicators_met": [2, 1, 1, 2, 4, 0], "indicators_total": [2, 4, 2, 2, 4, 1],
        "indicators_unknown": [0, 0, 1, 0, 0, 1]})
    no_income = report_money.income_report(report_money.MoneyData(files_read=1),
                                           commune=units[0], year=2024)
    with mpl.rc_context():
        for draw in (lambda: charts.plot_unit_attainment(summary),
                     lambda: charts.plot_unit_attainment(summary.head(1), lang="en"),
                     lambda: charts.plot_criteria_heatmap(criteria),
                     lambda: report_money.plot_income(no_income)):
            figure = draw().figure
            assert isinstance(figure, Figure)  # each chart made a figure of its own
            try:
                render_png(figure)  # the way reports save their charts (outputs.save_figure)
            finally:
                plt.close(figure)


def _warm_excel() -> None:
    from ntm_analysis import excel

    excel.warm_up()


async def wait_ready(client: Any, timeout: float | None = None) -> None:
    """Wait until the kernel of ``client`` answers and its IOPub messages reach ``client``.

    jupyter_client's ``wait_for_ready`` does the same and then waits for 0.2 s of silence on
    IOPub, twice per run (the spare's check and nbclient's): about 0.4 s per report in which
    neither the worker nor its kernel does anything. Here IOPub is drained of what has
    arrived, without waiting: a status message of the ``kernel_info`` request that comes later
    is one nbclient ignores, as it reads only messages answering its own requests.

    Raises
    ------
    RuntimeError
        The kernel died, or did not answer within ``timeout`` seconds (as jupyter_client).
    """
    from queue import Empty

    from jupyter_core.utils import ensure_async

    deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
    while True:
        client.kernel_info()
        try:
            msg = await ensure_async(client.shell_channel.get_msg(timeout=1))
        except Empty:
            pass
        else:
            if msg["msg_type"] == "kernel_info_reply":
                try:  # a message on IOPub: it is connected (else ask again)
                    await ensure_async(client.iopub_channel.get_msg(timeout=0.2))
                except Empty:
                    pass
                else:
                    client._handle_kernel_info_reply(msg)
                    break
        if not await client._async_is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
    while True:
        try:
            await ensure_async(client.iopub_channel.get_msg(timeout=0))
        except Empty:
            break


@functools.cache
def ready_client_classes() -> tuple[type, type]:
    """Return jupyter_client's blocking and asynchronous kernel clients with :func:`wait_ready`
    as their ``wait_for_ready``: the clients of the kernels the pool hands to runs.

    Neither starts a heartbeat channel (see ``start_channels`` below). Each such client also
    sends under a session id of its own. jupyter_client gives every client of a kernel
    manager a clone of the manager's session, which numbers its messages from 0 under the
    same id: the run's client sent its first cell with the message id of the spare's prologue,
    whose late "idle" then ended that cell before its output arrived.
    """
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_client.session import new_id
    from jupyter_core.utils import run_sync

    class OwnSession:
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.session.session = new_id()  # type: ignore[attr-defined]

        def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = True,
                           hb: bool = False, control: bool = True) -> None:
            # no heartbeat: the kernel's life is watched through its manager; and the heartbeat
            # thread can block for ever in its REQ socket's send, so that stop_channels, which
            # joins it without a timeout, hung a batch worker for good (seen once in CI)
            super().start_channels(shell, iopub, stdin, hb, control)  # type: ignore[misc]

    class ReadyClient(OwnSession, BlockingKernelClient):
        wait_for_ready = run_sync(wait_ready)

    class AsyncReadyClient(OwnSession, AsyncKernelClient):
        wait_for_ready = wait_ready

    return ReadyClient, AsyncReadyClient


#: Milliseconds between a spare's client's attempts to connect to its kernel (zmq's default: 100).
RECONNECT_MS = 10


@functools.cache
def client_context() -> Any:
    """Return this process's zmq context for the clients that wait for a new kernel to be ready.

    Such a client connects before the kernel listens; zmq refuses the first attempt and tries
    again only after ``RECONNECT_IVL``, 100 ms by default: a forked kernel that listens within
    about 60 ms then answered after about 0.2 s, time the first run of every batch worker waited
    for. Sockets made in this context retry every :data:`RECONNECT_MS`. It is created on first
    use, in the process that uses it (zmq contexts do not survive a fork).
    """
    import zmq

    context = zmq.Context()
    context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
    return context


def prologue_code(env: Mapping[str, str], cwd: str) -> str:
    """Return the code that gives a taken kernel its run's environment and working directory.

    Examples
    --------
    >>> print(prologue_code({"A": "1"}, "/tmp"))
    import os as _o
    _o.environ.update({"A": "1"})
    _o.chdir("/tmp")
    del _o
    """
    return ("import os as _o\n"
            f"_o.environ.update({json.dumps(dict(env), ensure_ascii=False)})\n"
            f"_o.chdir({json.dumps(cwd, ensure_ascii=False)})\n"
            "del _o")


class _Spare:
    """A kernel started ahead of its run, with the warm-up imports sent to it."""

    def __init__(self, kernel_name: str, cwd: str, extra_arguments: Sequence[str],
                 modules: Sequence[str], server: ForkServer | None = None) -> None:
        from ntm_analysis.forkserver import fork_kernel_manager

        self.key = (kernel_name, cwd, tuple(extra_arguments),
                    server.socket_path if server is not None else None)
        self.km = fork_kernel_manager(kernel_name, server)  # a plain kernel without server
        self.km.start_kernel(cwd=cwd, extra_arguments=list(extra_arguments))
        self.km.client_factory = ready_client_classes()[0]
        self.kc = self.km.client(context=client_context())  # a session id of its own
        self.kc.start_channels()
        # a forked kernel is a copy of the warm template: nothing to import
        self.warm_id = (None if server is not None else
                        self.kc.execute(warm_code(modules), silent=True, store_history=False))

    def _wait(self, msg_id: str, timeout: float) -> bool:
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return bool(reply["content"].get("status") == "ok")

    def ready(self, env: Mapping[str, str], cwd: str, timeout: float) -> bool:
        """Wait for the warm-up, then apply the run's environment; True when all went well."""
        if not self.km.is_alive():
            return False
        if self.warm_id is None:
            self.kc.wait_for_ready(timeout=timeout)
        elif not self._wait(self.warm_id, timeout):
            return False
        msg_id = self.kc.execute(prologue_code(env, cwd), silent=True, store_history=False)
        return self._wait(msg_id, timeout) and bool(self.km.is_alive())

    def release_client(self) -> None:
        self.kc.stop_channels()

    def shutdown(self) -> None:
        try:
            self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)


class KernelPool:
    """One spare kernel per process, started in the background while the current run executes.

    :meth:`take` returns a started kernel manager (warm, with the run's environment applied) or
    ``None`` when no usable spare was there; either way it starts the next spare. The caller
    owns the returned kernel and shuts it down after its one run. :meth:`close` shuts the spare
    down (also registered for process exit, including ``multiprocessing`` workers).
    """

    def __init__(self, *, modules: Sequence[str] = WARM_IMPORTS,
                 timeout: float = WARM_TIMEOUT) -> None:
        self.modules = tuple(modules)
        self.timeout = timeout
        self._server: ForkServer | None = None
        self._server_failed: set[str | None] = set()  # socket paths (None: an own server)
        self._server_lock = threading.Lock()
        self._spare: _Spare | None = None
        self._starting: threading.Thread | None = None
        self._lock = threading.Lock()
        self._taking = threading.Lock()  # runs in threads of one process take one at a time

    def fork_server(self, socket_path: str | None = None) -> ForkServer | None:
        """Return the fork server listening at ``socket_path`` (started by another process),
        or this pool's own, started on first use; None if it cannot start or has gone."""
        with self._server_lock:
            server = self._server
            if server is not None and server.socket_path != socket_path and (
                    socket_path is not None or server.process is None):
                self._server = None  # another batch's server, or an own one is wanted
                server.stop()
            if self._server is None and socket_path not in self._server_failed:
                from ntm_analysis.forkserver import ForkServer

                try:
                    self._server = (ForkServer() if socket_path is None
                                    else ForkServer.attach(socket_path))
                except Exception as exc:  # noqa: BLE001 - plain kernels do the same work
                    self._server_failed.add(socket_path)
                    logger.warning("kernel fork server did not start (%s); starting plain "
                                   "kernels", exc)
            server = self._server
            if server is not None and not server.alive():
                how = (f"at {socket_path} does not answer" if server.process is None
                       else f"(status {server.process.returncode})")
                logger.warning("kernel fork server ended %s; starting plain kernels", how)
                server.stop()
                self._server = None
                self._server_failed.add(socket_path)
            return self._server

    def _start_spare(self, kernel_name: str, cwd: str, extra_arguments: Sequence[str],
                     fork: bool = False, fork_socket: str | None = None) -> None:
        def start() -> None:
            try:
                server = self.fork_server(fork_socket) if fork else None
                spare = _Spare(kernel_name, cwd, extra_arguments, self.modules, server)
            except Exception as exc:  # noqa: BLE001 - no spare: the next run starts its own
                logger.debug("spare kernel did not start: %s", exc)
                return
            with self._lock:
                self._spare = spare

        self._starting = threading.Thread(target=start, name="ntm-spare-kernel", daemon=True)
        self._starting.start()

    def _pop(self) -> _Spare | None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        with self._lock:
            spare, self._spare = self._spare, None
        return spare

    def take(self, *, kernel_name: str, cwd: str, env: Mapping[str, str],
             extra_arguments: Sequence[str] = (), spare_next: bool = True,
             fork: bool = False, fork_socket: str | None = None) -> Any | None:
        """Return a warm kernel manager for one run (or None), and start the next spare
        (unless ``spare_next`` is false: no run is known to follow).

        With ``fork`` the kernels are forked from the fork server at ``fork_socket`` (a
        batch's, shared by its workers), or else from this pool's own; when no spare is
        ready, one is forked for this run on the spot (None only if that fails).
        """
        with self._taking:
            return self._take(kernel_name, cwd, env, extra_arguments, spare_next, fork,
                              fork_socket)

    def _use(self, spare: _Spare, key: tuple[Any, ...], env: Mapping[str, str],
             cwd: str) -> Any | None:
        try:
            if spare.key == key and spare.ready(env, cwd, self.timeout):
                spare.release_client()
                return spare.km
        except Exception as exc:  # noqa: BLE001 - a broken spare is dropped
            logger.debug("spare kernel not usable: %s", exc)
        spare.shutdown()
        return None

    def _take(self, kernel_name: str, cwd: str, env: Mapping[str, str],
              extra_arguments: Sequence[str], spare_next: bool, fork: bool,
              fork_socket: str | None = None) -> Any | None:
        spare = self._pop()
        server = self.fork_server(fork_socket) if fork else None
        key = (kernel_name, cwd, tuple(extra_arguments),
               server.socket_path if server is not None else None)
        km = self._use(spare, key, env, cwd) if spare is not None else None
        if km is None and server is not None:
            try:
                forked = _Spare(kernel_name, cwd, extra_arguments, self.modules, server)
            except Exception as exc:  # noqa: BLE001 - the run starts a plain kernel
                logger.warning("no forked kernel: %s", exc)
            else:
                km = self._use(forked, key, env, cwd)
        if spare_next:
            self._start_spare(kernel_name, cwd, extra_arguments, fork, fork_socket)
        return km

    def close(self) -> None:
        """Shut the spare kernel down, if there is one, then the fork server (and wait)."""
        spare = self._pop()
        if spare is not None:
            spare.shutdown()
        with self._server_lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()


_POOL: KernelPool | None = None


def process_pool() -> KernelPool:
    """Return this process's kernel pool, created on first use and closed at exit."""
    global _POOL
    if _POOL is None:
        import atexit
        from multiprocessing import util

        _POOL = KernelPool()
        atexit.register(_POOL.close)
        # worker processes of multiprocessing leave through os._exit: no atexit there
        util.Finalize(_POOL, _POOL.close, exitpriority=10)
        logger.debug("kernel pool in process %d", os.getpid())
    return _POOL
