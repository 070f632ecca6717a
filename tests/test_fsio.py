"""Tests of ntm_analysis.fsio: hashes, the run lock (with real processes), atomic replace."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ntm_analysis.errors import NtmError
from ntm_analysis.fsio import (
    LockError,
    RunLock,
    atomic_path,
    file_sha256,
    pid_alive,
    remove_temporaries,
)

HOLD_LOCK = """
import sys, time
from ntm_analysis.fsio import RunLock
with RunLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
"""


def _holding(lock_path: Path) -> subprocess.Popen[str]:
    """Start a process that takes the lock at ``lock_path`` and holds it for 30 s; return it
    once it holds the lock."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_path), "30"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # more than one chunk
    path = tmp_path / "raw.xlsx"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_a_remembered_digest_follows_every_change_of_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Digests are remembered by the file's stat; any write changes its change time (which no
    one can set back), so a rewrite of the same size with its old modification time put back
    is still hashed again. A file changed just now is not remembered at all."""
    from ntm_analysis import fsio

    path = tmp_path / "xa.xlsx"

    def remembered() -> bool:
        st = path.stat()
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) in fsio._DIGESTS

    path.write_bytes(b"Kim Phuong 2023")
    assert file_sha256(path) == hashlib.sha256(b"Kim Phuong 2023").hexdigest()
    assert fsio.settled_key(path.stat()) is None
    assert not remembered()  # changed too recently to be remembered

    monkeypatch.setattr(fsio, "SETTLED_NS", -1)  # remember even what changed just now
    assert file_sha256(path) == hashlib.sha256(b"Kim Phuong 2023").hexdigest()
    assert remembered()
    assert file_sha256(path) == hashlib.sha256(b"Kim Phuong 2023").hexdigest()
    before = path.stat()
    path.write_bytes(b"Kim Phuong 2024")  # in place: the same inode and size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)
    assert file_sha256(path) == hashlib.sha256(b"Kim Phuong 2024").hexdigest()
    path.unlink()
    with pytest.raises(FileNotFoundError):
        file_sha256(path)


def test_lock_file_records_holder_and_is_removed(tmp_path: Path) -> None:
    lock_path = tmp_path / "outputs" / ".ntm.lock"
    with RunLock(lock_path) as lock:
        holder = json.loads(lock_path.read_text())
        assert holder["pid"] == os.getpid()
        assert lock.read_holder() == holder
        assert {"host", "started"} <= set(holder)
    assert not lock_path.exists()


def test_second_process_is_refused_while_first_holds_lock(tmp_path: Path) -> None:
    lock_path = tmp_path / ".ntm.lock"
    holder = _holding(lock_path)
    try:
        with pytest.raises(LockError) as info:
            RunLock(lock_path).acquire()
        message = str(info.value)
        assert message.startswith(f"{lock_path}: another run is using these outputs (process"
                                  f" {holder.pid} on ")
        assert "wait for it to finish" in message
        assert isinstance(info.value, NtmError)
        # the refused attempt did not break the holder's lock
        assert json.loads(lock_path.read_text())["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_lock_is_free_after_the_holder_finishes(tmp_path: Path) -> None:
    lock_path = tmp_path / ".ntm.lock"
    out = subprocess.run([sys.executable, "-c", HOLD_LOCK, str(lock_path), "0"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["locked", "released"]
    with RunLock(lock_path):
        pass


def test_stale_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    lock_path = tmp_path / ".ntm.lock"
    holder = _holding(lock_path)
    holder.kill()  # dies without releasing
    holder.wait(timeout=30)
    assert lock_path.exists() and not pid_alive(holder.pid)
    with RunLock(lock_path):
        assert json.loads(lock_path.read_text())["pid"] == os.getpid()
    assert not lock_path.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_killed_holder_not_yet_reaped_leaves_a_stale_lock(tmp_path: Path) -> None:
    # a killed batch's worker is a zombie until init reaps it (its parent died with it): the
    # next batch, started at once, must not take the zombie for a live run
    lock_path = tmp_path / ".ntm-run.lock"
    holder = _holding(lock_path)
    try:
        holder.kill()
        deadline = time.monotonic() + 30
        while Path(f"/proc/{holder.pid}/stat").read_bytes().split(b") ")[-1][:1] != b"Z":
            assert time.monotonic() < deadline, "the killed holder did not become a zombie"
            time.sleep(0.01)
        os.kill(holder.pid, 0)  # the zombie is still there for the system ...
        assert not pid_alive(holder.pid)  # ... but runs no more
        with RunLock(lock_path):
            assert json.loads(lock_path.read_text())["pid"] == os.getpid()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert not pid_alive(holder.pid)


def test_unreadable_old_lock_is_stale_but_fresh_one_is_not(tmp_path: Path) -> None:
    lock_path = tmp_path / ".ntm.lock"
    lock_path.write_text("")  # a holder died while writing it ... or is writing it now
    with pytest.raises(LockError):
        RunLock(lock_path).acquire()
    old = time.time() - 60
    os.utime(lock_path, (old, old))
    with RunLock(lock_path):
        pass


def test_atomic_path_keeps_old_content_on_exception(tmp_path: Path) -> None:
    target = tmp_path / "processed" / "indicators.parquet"
    target.parent.mkdir()
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half-writ")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["indicators.parquet"]
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"


@pytest.fixture
def umask():
    """Set the process's umask for a test (``umask(0o027)``), restored afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_permissions_a_plain_write_gives(tmp_path: Path, umask,
                                                              mask: int) -> None:
    umask(mask)
    plain = tmp_path / "plain.html"
    plain.write_text("report")  # what any other program would leave
    target = tmp_path / "run" / "10_readiness.html"
    with atomic_path(target) as tmp:
        tmp.write_text("report")
    assert oct(target.stat().st_mode & 0o777) == oct(plain.stat().st_mode & 0o777) \
        == oct(0o666 & ~mask)


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path, umask) -> None:
    umask(0o077)
    target = tmp_path / "10_readiness.html"
    target.write_text("old")
    target.chmod(0o640)  # made readable by the steering committee's group
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert (target.read_text(), oct(target.stat().st_mode & 0o777)) == ("new", oct(0o640))
    target.chmod(0o444)  # read-only: the owner may still replace it, as before
    with atomic_path(target) as tmp:
        tmp.write_text("newer")
    assert (target.read_text(), oct(target.stat().st_mode & 0o777)) == ("newer", oct(0o644))


def test_killed_writer_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old report")
    code = (
        "import sys, time\n"
        "from ntm_analysis.fsio import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half a rep')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(30)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                              text=True)
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "writing"
    writer.kill()
    writer.wait(timeout=30)
    assert target.read_text() == "old report"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "report.html"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".report.html.")
    # the next run, holding the lock, clears what the interrupted one left
    with RunLock(tmp_path / ".ntm.lock"):
        assert remove_temporaries(tmp_path) == leftovers
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert target.read_text() == "old report"
