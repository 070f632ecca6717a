"""The process a batch worker's kernel manager starts in place of a kernel: it asks the fork server.

Run as ``python -I -S .../forkclient.py SOCKET -f CONNECTION_FILE [kernel options]`` (by path, so
the package and its imports are not loaded: it uses the standard library only). It sends the
fork server (:mod:`ntm_analysis.forkserver`) its kernel arguments, working directory,
environment and standard streams, and then stands for the kernel towards ``jupyter_client``:

* SIGINT, SIGTERM, SIGHUP and SIGQUIT it receives are forwarded to the kernel (an interrupt
  request of ``jupyter_client`` is a SIGINT to this process's group);
* it exits with the kernel's exit status when the server reports that the kernel ended
  (128 + the signal number when a signal ended it);
* if it is killed itself (``shutdown_kernel(now=True)`` sends SIGKILL), the server sees its
  connection close and kills the kernel;
* it leaves when the process that started it (the worker's kernel manager) dies, and with it
  the kernel (the server sees the connection close): a server shared by a batch's workers
  outlives any one of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys

#: Exit status when the fork server refused the request or went away without a word.
EXIT_NO_KERNEL = 70
#: Exit status when the process that started this one died first.
EXIT_ORPHANED = 71
#: Seconds between looks at the parent process where no pidfd can watch it.
_PARENT_POLL = 1.0


class _Orphaned(Exception):
    """The process that started the launcher is gone."""


class _ParentWatch:
    """Tells when this process's parent has died: by a pidfd where Linux has them, else by
    looking at the parent process id from time to time."""

    def __init__(self) -> None:
        self.ppid = os.getppid()
        self.fd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.fd = os.pidfd_open(self.ppid)
        if self.gone():  # died before the pidfd was opened: the pidfd is not its
            raise _Orphaned

    def gone(self) -> bool:
        return os.getppid() != self.ppid

    def wait_readable(self, conn: socket.socket) -> None:
        """Return when ``conn`` has data (or closed); raise :class:`_Orphaned` when the
        parent died first."""
        watched: list[socket.socket | int] = [conn] if self.fd is None else [conn, self.fd]
        while True:
            ready, _, _ = select.select(watched, [], [],
                                        _PARENT_POLL if self.fd is None else None)
            if conn in ready:
                return
            if self.fd in ready or self.gone():
                raise _Orphaned


def _read_line(conn: socket.socket, buffer: bytearray,
               parent: _ParentWatch | None = None) -> bytes | None:
    while b"\n" not in buffer:
        if parent is not None:
            parent.wait_readable(conn)
        chunk = conn.recv(4096)
        if not chunk:
            return None
        buffer.extend(chunk)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


def main(argv: list[str]) -> int:
    """Have the server at ``argv[0]`` fork a kernel with the options ``argv[1:]``; wait for it."""
    if len(argv) < 2:
        print("usage: forkclient.py SOCKET -f CONNECTION_FILE [kernel options]", file=sys.stderr)
        return 2
    try:
        parent = _ParentWatch()
    except _Orphaned:
        return EXIT_ORPHANED
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(argv[0])
        request = {"argv": argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(conn, [json.dumps(request).encode("utf-8") + b"\n"], [0, 1, 2])
        buffer = bytearray()
        line = _read_line(conn, buffer, parent)
    except _Orphaned:
        return EXIT_ORPHANED  # the connection closes: the server kills a kernel it forked
    except OSError as error:
        print(f"ntm fork client: no kernel from the fork server at {argv[0]}: {error}",
              file=sys.stderr)
        return EXIT_NO_KERNEL
    reply = json.loads(line) if line else {}
    pid = reply.get("pid")
    if not isinstance(pid, int):
        print(f"ntm fork client: the fork server refused: {reply.get('error', 'no reply')}",
              file=sys.stderr)
        return EXIT_NO_KERNEL

    def forward(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, forward)
    try:
        line = _read_line(conn, buffer, parent)
    except _Orphaned:
        return EXIT_ORPHANED  # the connection closes: the server kills the kernel
    except OSError:
        line = None
    if not line:  # the server went away: it took its kernels with it
        return EXIT_NO_KERNEL
    code = int(json.loads(line).get("exit", EXIT_NO_KERNEL))
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
