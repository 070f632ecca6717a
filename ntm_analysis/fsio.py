"""Crash safety on disk: content hashes of raw files and a lock for batch runs.

Writing files atomically (temporary name, then rename) is done by
:func:`ntm_analysis.outputs.atomic_path`, re-exported here so that callers find every file
safety helper in one place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from ntm_analysis.errors import NtmError
from ntm_analysis.outputs import atomic_path

log = logging.getLogger(__name__)

__all__ = ["LockError", "RunLock", "atomic_path", "file_sha256", "pid_alive",
           "remove_temporaries"]

CHUNK = 1 << 20
#: Names of files that only exist while a write is in progress.
TEMPORARY_PATTERNS = (".*.tmp", ".*.partial.ipynb")


class LockError(NtmError):
    """Another live run holds the lock on the same outputs."""

    exit_code = 7


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file, read in 1 MiB chunks.

    A digest is remembered for the process while the file stays as it was (the same device,
    inode, size, modification and change times, whatever path names it), so a batch that
    hashes a commune's workbook to find it in the Parquet cache and again for its run's
    fingerprint, or a worker that hashes its notebook for every run, reads it once. A file
    that changed just before is not remembered (:func:`settled_key`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    with open(path, "rb") as fh:
        key = settled_key(os.fstat(fh.fileno()))  # the file read, even if renamed over meanwhile
        found = _DIGESTS.get(key) if key is not None else None
        if found is not None:
            return found
        digest = hashlib.sha256()
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    hexdigest = digest.hexdigest()
    if key is not None:
        if len(_DIGESTS) >= MAX_REMEMBERED:
            _DIGESTS.clear()  # a new batch's files, most likely; rare and cheap to refill
        _DIGESTS[key] = hexdigest
    return hexdigest


def settled_key(st: os.stat_result) -> tuple[int, int, int, int, int] | None:
    """A key for what is known of a file with stat ``st`` (its digest, its parsed content),
    valid while the key stays the same: device, inode, size, modification and change times.

    None when the file changed within :data:`SETTLED_NS`, since a second change within the
    same tick of the file system's clock would leave its times as they were (Git's "racy"
    files), or when the file system has no inode numbers (two files of one size and time could
    not be told apart): such a file is read again each time.
    """
    if not st.st_ino or time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) <= SETTLED_NS:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


#: How long ago a file must have last changed for :func:`settled_key` to give it a key.
SETTLED_NS = 2_000_000_000
#: At most this many digests are remembered (a country's workbooks, notebooks and outputs).
MAX_REMEMBERED = 65_536
_DIGESTS: dict[tuple[int, int, int, int, int], str] = {}


def pid_alive(pid: int) -> bool:
    """Return True when a process with ``pid`` runs on this machine.

    A zombie (a process that has ended but that no one has reaped yet: a killed batch's worker,
    whose parent died with it, until init collects it) does not count: it can write nothing.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return not _ended(pid)


def _ended(pid: int) -> bool:
    """True when ``/proc`` says ``pid`` is a zombie or dead (False where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat_line = fh.read()
    except OSError:
        return False
    # "pid (command) state ...": the command may hold spaces and parentheses
    state = stat_line[stat_line.rfind(b")") + 2:][:1]
    return state in (b"Z", b"X")


def remove_temporaries(folder: str | os.PathLike[str], *, since: float | None = None,
                       own_runs_only: bool = False) -> list[Path]:
    """Delete the temporary files that interrupted atomic writes left under ``folder``.

    ``atomic_path`` names them ``.NAME.RANDOM.tmp``; papermill's notebook in progress is
    ``.NAME.partial.ipynb`` (renamed into place when the run ends). Call this while holding the
    :class:`RunLock` of the outputs, so no live writer's file is removed; or, for one run's
    folder without a lock, with ``since`` (only files modified since that time) and
    ``own_runs_only`` (none in a folder of another run inside it: one with a manifest of its
    own). Returns what was removed, sorted.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    nested = [m.parent for m in root.glob("*/**/manifest.json")] if own_runs_only else []
    removed = sorted(p for pattern in TEMPORARY_PATTERNS for p in root.rglob(pattern)
                     if p.is_file() and (since is None or p.stat().st_mtime >= since)
                     and not any(p.is_relative_to(run) for run in nested))
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted run", len(removed))
    return removed


class RunLock:
    """Hold an exclusive lock file while a batch, or a single run, writes its outputs.

    The lock file is created atomically (``O_CREAT | O_EXCL``) and holds the holder's pid, host
    and start time. When another live process holds it, entering raises :class:`LockError`
    naming that process; a lock left by a process that no longer runs (on this host) is stale
    and taken over.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> lock_path = pathlib.Path(tempfile.mkdtemp()) / ".ntm.lock"
    >>> with RunLock(lock_path):
    ...     lock_path.exists()
    True
    >>> lock_path.exists()
    False
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def _payload(self) -> bytes:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        return json.dumps(info).encode("utf-8")

    def read_holder(self) -> dict[str, object] | None:
        """Return what the lock file says about its holder, or None when there is none."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            info = json.loads(text)
        except ValueError:
            return {}
        return info if isinstance(info, dict) else {}

    def acquire(self) -> None:
        """Take the lock or raise ``LockError`` when a live process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.read_holder()
                if holder is None:
                    continue  # released meanwhile; try again
                if self._is_stale(holder):
                    log.warning("%s: taking over a stale lock left by pid %s",
                                self.path, holder.get("pid"))
                    self._remove_stale(holder)
                    continue
                raise LockError(self._busy_message(holder)) from None
            with os.fdopen(fd, "wb") as fh:
                fh.write(self._payload())
                fh.flush()
                os.fsync(fh.fileno())
            self._held = True
            return
        raise LockError(f"{self.path}: could not take the lock (it keeps changing hands);"
                        " try again")

    def _is_stale(self, holder: dict[str, object]) -> bool:
        pid = holder.get("pid")
        if not isinstance(pid, int):
            # Empty or unreadable: a holder died while writing it, or is writing it now.
            try:
                age = dt.datetime.now().timestamp() - self.path.stat().st_mtime
            except FileNotFoundError:
                return False
            return age > 10
        if holder.get("host") not in (None, socket.gethostname()):
            return False  # cannot check a process on another machine
        return not pid_alive(pid)

    def _remove_stale(self, holder: dict[str, object]) -> None:
        # Rename first, so two processes taking over the same stale lock cannot both win.
        grave = self.path.with_name(f"{self.path.name}.stale.{os.getpid()}")
        try:
            os.rename(self.path, grave)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            return
        moved = RunLock(grave).read_holder() or {}
        if moved.get("pid") != holder.get("pid"):
            # Another process took the stale lock over first and we moved its fresh lock:
            # put it back (link fails if someone holds the path already) and let the loop retry.
            with contextlib.suppress(FileExistsError):
                os.link(grave, self.path)
        with contextlib.suppress(FileNotFoundError):
            grave.unlink()

    def _busy_message(self, holder: dict[str, object]) -> str:
        who = f"process {holder.get('pid', '?')}"
        if holder.get("host"):
            who += f" on {holder['host']}"
        if holder.get("started"):
            who += f", started {holder['started']}"
        return (f"{self.path}: another run is using these outputs ({who}); wait for it to"
                f" finish, or delete the lock file if that process is gone")

    def release(self) -> None:
        """Remove the lock file if this object holds it."""
        if not self._held:
            return
        holder = self.read_holder()
        if holder and holder.get("pid") not in (None, os.getpid()):
            log.warning("%s: the lock is now held by pid %s; leaving it", self.path,
                        holder.get("pid"))
        else:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._held = False
