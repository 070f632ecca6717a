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
  connection close and kills the kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

#: Exit status when the fork server refused the request or went away without a word.
EXIT_NO_KERNEL = 70


def _read_line(conn: socket.socket, buffer: bytearray) -> bytes | None:
    while b"\n" not in buffer:
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
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(argv[0])
        request = {"argv": argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(conn, [json.dumps(request).encode("utf-8") + b"\n"], [0, 1, 2])
        buffer = bytearray()
        line = _read_line(conn, buffer)
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
        line = _read_line(conn, buffer)
    except OSError:
        line = None
    if not line:  # the server went away: it took its kernels with it
        return EXIT_NO_KERNEL
    code = int(json.loads(line).get("exit", EXIT_NO_KERNEL))
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
