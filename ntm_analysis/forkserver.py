"""Kernels forked from a warm template: each batch run's kernel starts with its imports done.

A fresh ipykernel spends about a CPU second importing IPython, pandas, matplotlib and the library
before a notebook's first line. A batch therefore starts one *fork server*
(``python -m ntm_analysis.forkserver SOCKET FD``): a template process that imports ipykernel's
application module and runs :func:`ntm_analysis.kernels.warm_up` — without starting a thread,
a zmq context or an event loop, and **without ever running notebook code** — and then serves
a Unix socket. The batch's own process starts it, before its workers start, and every local
worker forks its kernels there (:meth:`ForkServer.attach`); a worker of an executor from outside
(Dask) starts a server of its own. The socket listens from the start (its owner binds it and
hands it over), so a request made while the template warms up waits for it instead of failing.
Each request forks the template: the child takes the requester's working directory,
environment, arguments and standard streams, starts a new session and becomes an
ordinary ipykernel (``IPKernelApp``) with the given connection file. So every kernel is still a
process of its own that runs exactly one notebook and ends; no state passes from one run to
the next, since the template that every kernel is a copy of never ran any run's code.

The kernel manager (:func:`fork_kernel_manager`) starts the small launcher
:mod:`ntm_analysis.forkclient` as its "kernel" process; the launcher asks the server to fork,
forwards signals to the kernel and exits with it. Nothing is left behind:

* the server kills a kernel whose launcher's connection closed (the launcher was SIGKILLed by
  ``shutdown_kernel(now=True)``, or died, or left because the process that started it died),
  and reaps every kernel (SIGCHLD), so their CPU time is counted for the server;
* a kernel dies with the server (``PR_SET_PDEATHSIG``), and the server ends when its owner (the
  batch's process, or the worker that started it) closes its standard input or dies (the pipe
  closes), killing and reaping its kernels;
* the owner stops its server when it is done and waits for it (:class:`ForkServer`), so the
  CPU time of the kernels reaches the owner's account (and the batch's);
* the server removes its socket and the temporary directory made for it (where the kernels'
  connection files are written too) when it ends, so an owner or a worker killed before it
  could clean up leaves no file behind either.

Only Linux is supported; elsewhere (or when the server does not start) batch workers start
plain kernels.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The launcher a forking kernel manager starts (run by path: no package imports).
CLIENT = str(Path(__file__).with_name("forkclient.py"))
#: Seconds a worker waits for its fork server to be warm.
START_TIMEOUT = 90.0
#: Line the server writes on its standard output once it serves.
READY = b"ready\n"
_PR_SET_PDEATHSIG = 1
_MAX_REQUEST = 1 << 20
#: Room for a Unix socket's path (``sun_path``, 108 bytes on Linux, with its final NUL).
_UNIX_PATH_MAX = 107
#: Modules an ``IPKernelApp`` imports while it initializes (its kernel and shell classes, the
#: debugger module (without debugpy: see ``serve``), history, magics): imported once in the
#: template, not in every kernel. None of them starts a thread or opens a file when imported;
#: a missing one is skipped.
KERNEL_MODULES = (
    "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "ipykernel.comm",
    "IPython.core.completerlib", "IPython.core.debugger", "IPython.extensions.storemagic",
    "tornado.platform.asyncio", "tornado.queues", "tornado.locks", "psutil", "sqlite3",
    "faulthandler",
)


class ForkServerError(RuntimeError):
    """The fork server did not start or stopped answering."""


# --------------------------------------------------------------------------- worker side


def _check_platform() -> None:
    if not sys.platform.startswith("linux") or not hasattr(socket, "send_fds"):
        # fork without exec is unsafe after macOS system frameworks are loaded, and the
        # kernels' tie to the server (PR_SET_PDEATHSIG) is Linux's
        raise ForkServerError("forked kernels are only used on Linux")


class ForkServer:
    """A fork server: started here, a child of this process (:meth:`stop` ends it and its
    kernels), or one another process started, attached to by its socket (:meth:`attach`).

    ``wait=False`` returns as soon as the server process is started (its socket already
    listens; kernels asked for before it is warm come when it is): the server warms up while
    the caller goes on, e.g. spawns the workers that will use it.
    """

    process: subprocess.Popen[bytes] | None

    def __init__(self, *, timeout: float | None = None, wait: bool = True) -> None:
        _check_platform()
        import shutil

        self._dir: str | None = tempfile.mkdtemp(prefix="ntm-fork-")
        self.socket_path = os.path.join(self._dir, "kernels.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.socket_path)
            listener.listen(64)
            fd = listener.fileno()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ntm_analysis.forkserver", self.socket_path, str(fd),
                 "--own-dir"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
                pass_fds=(fd,))
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        finally:
            # only the server holds the socket now: once it ends, connecting fails at once
            listener.close()
        if wait:
            try:
                self.wait_ready(START_TIMEOUT if timeout is None else timeout)
            except BaseException:
                self.stop()
                raise

    @classmethod
    def attach(cls, socket_path: str) -> ForkServer:
        """Return a handle on the server listening at ``socket_path``, started by another
        process (a batch's, for its workers); :meth:`stop` leaves it running."""
        _check_platform()
        server = cls.__new__(cls)
        server._dir = None
        server.socket_path = socket_path
        server.process = None
        return server

    def wait_ready(self, timeout: float) -> None:
        """Wait until the template is warm and serves (a server started here only)."""
        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise ForkServerError(f"fork server not ready after {timeout:.0f} s")
        line = self.process.stdout.readline()
        if line != READY:
            raise ForkServerError(f"fork server did not start (exit status "
                                  f"{self.process.poll()}, said {line[:200]!r})")

    def alive(self) -> bool:
        """True while the server runs (an attached one: while its socket takes connections;
        the server drops a connection that closes without a request)."""
        if self.process is not None:
            return self.process.poll() is None
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(self.socket_path)
        except OSError:
            return False
        finally:
            probe.close()
        return True

    def kernel_command(self, cmd: Sequence[str]) -> list[str]:
        """Return ``cmd`` (an ipykernel command) as a command that forks the kernel here.

        A command that is not ``<this python> -m ipykernel_launcher ...`` is returned as it is.
        """
        return fork_command(cmd, self.socket_path)

    def stop(self, timeout: float = 10.0) -> None:
        """End the server (it kills and reaps its kernels) and wait for it; an attached
        server is left to the process that started it."""
        import shutil

        if self.process is None:
            return
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def fork_command(cmd: Sequence[str], socket_path: str) -> list[str]:
    """Return the launcher command that has the server at ``socket_path`` fork kernel ``cmd``.

    Examples
    --------
    >>> import sys
    >>> fork_command([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"], "s")[-3:]
    ['s', '-f', 'k.json']
    >>> fork_command(["R", "--slave", "-f", "k.json"], "s")
    ['R', '--slave', '-f', 'k.json']
    """
    cmd = list(cmd)
    if (len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]
            and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)):
        return [sys.executable, "-I", "-S", CLIENT, socket_path, *cmd[3:]]
    return cmd


async def wait_gone(km: Any, pollinterval: float = 0.1) -> None:
    """Wait until the kernel of ``km`` (a ``jupyter_client`` kernel manager) is gone.

    ``jupyter_client`` waits for a killed kernel by checking every ``pollinterval`` (0.1 s):
    its first check comes before the SIGKILL has taken effect, so every shutdown waited 0.1 s,
    an idle tenth of a second at the end of each run (about 8 % of a batch report). A killed
    process is gone within milliseconds: the checks start 1 ms apart and double up to
    ``pollinterval``.
    """
    import asyncio

    delay = 0.001
    while await km._async_is_alive():
        await asyncio.sleep(delay)
        delay = min(delay * 2, pollinterval)


class _WaitGone:
    """Mixin for ``jupyter_client`` kernel managers: :func:`wait_gone` as the wait for a
    killed kernel (``jupyter_client`` calls ``_async_wait`` after the SIGKILL)."""

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await wait_gone(self, pollinterval)


@functools.cache
def quick_async_kernel_manager() -> type:
    """Return ``jupyter_client``'s ``AsyncKernelManager`` with :func:`wait_gone` as its wait for
    a killed kernel: the kernel manager of single runs (``ntm report``), whose kernels nbclient
    starts and shuts down itself."""
    from jupyter_client.manager import AsyncKernelManager

    class QuickAsyncKernelManager(_WaitGone, AsyncKernelManager):
        pass

    return QuickAsyncKernelManager


@contextlib.contextmanager
def single_run_kernels() -> Iterator[type]:
    """Yield the kernel manager class for nbclient to start one run's kernel with; when the run
    is left by an exception (an interrupt), end that kernel if it still runs; either way,
    remove its connection file.

    nbclient arms its own cleanup only once the kernel is ready: Ctrl-C while the kernel
    started left the kernel running (until this process ended) and its connection file in the
    temporary directory. The class is :func:`quick_async_kernel_manager`'s with the connection
    file (and the kernel's sockets: :func:`connect_by_files`) in a folder of its own; the
    kernel is found by that file's path on its command line (the interrupt may come before
    ``jupyter_client`` has recorded the process, and a half-started kernel manager cannot
    shut down), killed and waited for.
    """
    folders: list[str] = []  # made when nbclient makes its kernel manager (not for a run
    # given a kernel by the batch's pool: a worker killed then would leave it)

    class SingleRunKernelManager(quick_async_kernel_manager()):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            folders.append(tempfile.mkdtemp(prefix="ntm-kernel-"))
            connect_by_files(self, os.path.join(folders[-1], "kernel.json"))

    try:
        yield SingleRunKernelManager
    except BaseException:
        for folder in folders:
            _kill_children_naming(folder + os.sep)
        raise
    finally:
        import shutil

        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _kill_children_naming(text: str) -> None:
    """Kill the child processes of this process whose command line contains ``text``, and wait
    for them (they are reaped)."""
    import psutil

    def naming(child: psutil.Process) -> bool:
        with contextlib.suppress(psutil.Error):
            return any(text in part for part in child.cmdline())
        return False

    with contextlib.suppress(psutil.Error):
        kernels = [child for child in psutil.Process().children() if naming(child)]
        for kernel in kernels:
            with contextlib.suppress(psutil.Error):
                kernel.kill()
        psutil.wait_procs(kernels, timeout=10)


@functools.cache
def _fork_manager_class() -> type:
    from jupyter_client.manager import KernelManager

    class ForkKernelManager(_WaitGone, KernelManager):
        """A kernel manager that starts :mod:`ntm_analysis.forkclient` for its kernel (with a
        ``fork_server``) and waits for a killed kernel without idling."""

        fork_server: ForkServer | None = None

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            cmd = super().format_kernel_cmd(extra_arguments)
            server = self.fork_server
            return server.kernel_command(cmd) if server is not None else list(cmd)

    return ForkKernelManager


def fork_kernel_manager(kernel_name: str, server: ForkServer | None) -> Any:
    """Return a ``jupyter_client`` kernel manager whose kernels ``server`` forks.

    With ``server`` None it starts its kernels as ``jupyter_client`` does; either way its
    ``shutdown_kernel(now=True)`` returns as soon as the kernel is gone (:func:`wait_gone`).
    A forked kernel's connection file is written next to the server's socket, in the folder
    the server removes when it ends: a worker killed before it could remove the file leaves
    nothing in the temporary directory (``jupyter_client`` would write it there). Its
    channels are Unix sockets in that folder too (:func:`connect_by_files`).
    """
    import uuid

    km = _fork_manager_class()(kernel_name=kernel_name)
    km.fork_server = server
    if server is not None:
        connect_by_files(km, os.path.join(os.path.dirname(server.socket_path),
                                          f"kernel-{uuid.uuid4().hex}.json"))
    return km


def connect_by_files(km: Any, connection_file: str) -> None:
    """Have kernel manager ``km`` write its connection file at ``connection_file`` and its
    kernel listen on Unix sockets beside it (zmq's ``ipc`` transport) instead of TCP ports.

    ``jupyter_client`` picks a free TCP port by binding and closing it; between that and the
    kernel's own bind another process may take the port (kernels starting side by side, or
    any client's outgoing connection), and the kernel dies with "Address already in use".
    A socket path in a folder of the caller's has no such race. Where the folder's path is
    too long for a socket's (108 bytes on Linux), the kernel keeps TCP.
    """
    km.connection_file = connection_file
    base = os.path.splitext(connection_file)[0] + "-ipc"
    if len(os.fsencode(base)) + len("-99") < _UNIX_PATH_MAX:
        km.transport = "ipc"
        km.ip = base


# --------------------------------------------------------------------------- the template


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    conn.settimeout(10.0)
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    buffer = bytearray(data)
    while b"\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk or len(buffer) > _MAX_REQUEST:
            for fd in fds:
                os.close(fd)
            raise ValueError("incomplete request")
        buffer.extend(chunk)
    conn.settimeout(None)
    request = json.loads(bytes(buffer).partition(b"\n")[0])
    if len(fds) != 3 or not isinstance(request.get("argv"), list):
        for fd in fds:
            os.close(fd)
        raise ValueError("a request needs argv, cwd, env and three standard streams")
    return request, list(fds)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the kernel leads its session: its subprocesses too
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # killed before it made its session


def _run_kernel(request: dict[str, Any], fds: list[int], server_pid: int,
                close: list[int]) -> None:
    """In the forked child: become the requested kernel; never returns."""
    code = 1
    try:
        os.setsid()
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if os.getppid() != server_pid:  # the server died while forking
            os._exit(1)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request.get("cwd") or "/")
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in (request.get("env") or {}).items()})
        argv = [str(a) for a in request["argv"]]
        sys.argv = ["ipykernel_launcher", *argv]
        from ipykernel.kernelapp import IPKernelApp

        # a trait default read from the environment when the template imported the module
        parent = os.environ.get("JPY_PARENT_PID") or "0"
        app = IPKernelApp.instance(parent_handle=int(parent) if parent.isdigit() else 0)
        app.initialize(argv)
        _enable_inline_figures()
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr, then exit
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


@contextlib.contextmanager
def frozen_warm_up() -> Iterator[None]:
    """Run the warm-up of a process that children are forked from, then freeze its heap.

    The warm-up (imports, caches) creates about a million objects and frees few, so Python's
    cyclic garbage collector is off meanwhile: its repeated scans of the growing heap would
    find almost nothing. At the end, whatever happens, the heap is frozen as it is
    (``gc.freeze``: the children's collections skip what they inherit, and touch fewer of its
    pages) and the collector turned on again, so the children collect what they make as usual.
    The heap is not collected first, as the ``gc`` module's documentation advises for a parent
    of forked children: a collection frees a few objects all over the heap, holes that the
    children's allocations then fill (copying those pages), and it cost the kernel template
    about 0.08 CPU s (12,000 unreachable objects, about 2 MB, now kept) on every batch's
    critical path. Used by the kernel template (:func:`serve`) and the batch workers' fork
    server (:mod:`ntm_analysis.worker_warm`).
    """
    import gc

    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _enable_inline_figures() -> None:
    """Give the new shell the inline-figure hooks a kernel gets when matplotlib_inline is first
    imported in it (the template imported it before any shell existed)."""
    module = sys.modules.get("matplotlib_inline.backend_inline")
    if module is not None:
        module._enable_matplotlib_integration()


def serve(socket_path: str, listen_fd: int | None = None, *, own_dir: bool = False) -> int:
    """Warm this process up, then fork a kernel for every request on ``socket_path`` (the
    listening socket ``listen_fd`` its owner bound there, or a socket bound here).

    When the server ends it removes the socket, and with ``own_dir`` also the directory it is
    in (made for this server alone by :class:`ForkServer`, where its kernels' connection files
    are written too): an owner that was killed before it could :meth:`~ForkServer.stop`
    leaves nothing in the temporary directory.
    """
    # as ipykernel_launcher does: the working directory is not on sys.path while importing
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    # the backend a kernel selects for matplotlib (ipykernel.kernelapp.init_gui_pylab)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # the kernels run notebooks unattended, where nobody attaches a debugger: ipykernel's
    # debugger is left out (its module then finds debugpy "not installed", as ipykernel
    # allows), which spares the template importing debugpy (about 0.1 s of its start, on
    # every batch's critical path) and each kernel setting a debugger up
    sys.modules.setdefault("debugpy", None)  # type: ignore[arg-type]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the batch
    # standard output is the worker's pipe, read once (READY) and then never: whatever the
    # imports print, and anything printed later, goes to standard error instead
    ready_fd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    with frozen_warm_up():  # the collector's scans cost the template about 0.13 of 1.5 CPU s
        import ctypes  # noqa: F401 - imported once here, used by every kernel
        import importlib

        import ipykernel.kernelapp  # noqa: F401 - what every kernel imports first

        from ntm_analysis.kernels import warm_up

        failed = warm_up()
        for name in KERNEL_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the kernel imports it itself (or does without)
                failed.append(name)
    if failed:
        print(f"ntm fork server: warm-up steps failed: {failed}", file=sys.stderr)

    if listen_fd is None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(socket_path)
        listener.listen(64)
    else:
        listener = socket.socket(fileno=listen_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

    def terminate(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    kernels: dict[int, socket.socket | None] = {}
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(0, selectors.EVENT_READ, "parent")
    sel.register(wake_r, selectors.EVENT_READ, "child")
    me = os.getpid()

    def reap() -> None:
        while kernels:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = kernels.pop(pid, None)
            if conn is not None:
                sel.unregister(conn)
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps(
                        {"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
                conn.close()

    try:
        try:
            os.write(ready_fd, READY)
        except BrokenPipeError:
            return 0  # the owner went away while the template warmed up
        finally:
            os.close(ready_fd)
        while True:
            for key, _ in sel.select():
                if key.data == "parent":
                    if not os.read(0, 4096):
                        return 0  # the worker closed the pipe or died
                elif key.data == "child":
                    try:
                        while os.read(wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                    reap()
                elif key.data == "accept":
                    conn, _ = listener.accept()
                    try:
                        request, fds = _read_request(conn)
                    except (OSError, ValueError) as exc:
                        with contextlib.suppress(OSError):
                            conn.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
                        conn.close()
                        continue
                    sys.stdout.flush()
                    sys.stderr.flush()
                    close = [listener.fileno(), wake_r, wake_w, conn.fileno(),
                             *(c.fileno() for c in kernels.values() if c is not None)]
                    try:
                        pid = os.fork()
                    except OSError as exc:  # no memory or too many processes: refuse
                        for fd in fds:
                            os.close(fd)
                        with contextlib.suppress(OSError):
                            conn.sendall(json.dumps({"error": f"fork: {exc}"}).encode() + b"\n")
                        conn.close()
                        continue
                    if pid == 0:
                        sel.close()
                        _run_kernel(request, fds, me, close)
                    for fd in fds:
                        os.close(fd)
                    kernels[pid] = conn
                    try:
                        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                    except OSError:
                        _kill_group(pid)
                    sel.register(conn, selectors.EVENT_READ, pid)
                else:  # a launcher's connection: closed means its kernel must go
                    launcher = key.fileobj
                    assert isinstance(launcher, socket.socket)
                    try:
                        data = launcher.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        sel.unregister(launcher)
                        launcher.close()
                        pid = key.data
                        if kernels.get(pid) is launcher:
                            kernels[pid] = None
                            _kill_group(pid)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for pid in list(kernels):
            _kill_group(pid)
        deadline = time.monotonic() + 10
        for pid in list(kernels):
            while True:
                try:
                    done, _status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if done or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        with contextlib.suppress(OSError):
            os.unlink(socket_path)
        if own_dir:  # with the connection files of kernels whose worker was killed
            import shutil

            shutil.rmtree(os.path.dirname(socket_path), ignore_errors=True)


if __name__ == "__main__":
    _args = sys.argv[1:]
    _own = "--own-dir" in _args
    _args = [a for a in _args if a != "--own-dir"]
    if len(_args) not in (1, 2) or not all(a.isdigit() for a in _args[1:]):
        print("usage: python -m ntm_analysis.forkserver SOCKET [LISTENING_FD] [--own-dir]",
              file=sys.stderr)
        sys.exit(2)
    _code = serve(_args[0], int(_args[1]) if len(_args) == 2 else None, own_dir=_own)
    # the template holds no file or state to save: it leaves without the interpreter's
    # teardown of the thousands of modules it imported (about 0.05 s that every batch waits
    # for at its end)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_code)
