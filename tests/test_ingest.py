"""Ingest (issue 5): the process pool gives the same tables as a serial parse."""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ntm_analysis import ingest
from ntm_analysis.ingest import find_workbooks, load_raw_dir
from ntm_analysis.schema import Ind, Iss
from ntm_analysis.synth import write_province

DUPLICATES = Path(__file__).parent / "data" / "with-problems" / "duplicate-indicator-numbers.xlsx"
#: A workbook whose title, sheet name and file name name no year (the defect corpus's).
NO_YEAR_WORKBOOK = DUPLICATES.with_name("no-year-found.xlsx")


def test_pool_and_serial_ingest_give_the_same_tables(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    write_province(raw, communes=4, hamlets=(2, 3), seed=5)
    (raw / "broken.xlsx").write_bytes(b"not a workbook")  # an error row, in its place
    shutil.copy(DUPLICATES, raw)  # the loader's rare path (its duplicate check) in the pool too
    serial = load_raw_dir(raw, workers=1)
    monkeypatch.setattr(ingest, "POOL_MIN_FILES", 2)
    spool = tmp_path / "spool"  # where the pool's spool folder is made
    spool.mkdir()
    monkeypatch.setattr(ingest, "SPOOL_PARENTS", (str(spool),))
    pooled = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=2)
    assert list(spool.iterdir()) == []  # the spool folder is gone, with its files
    pd.testing.assert_frame_equal(pooled.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(pooled.result.issues, serial.result.issues)
    assert pooled.parsed == serial.parsed == sorted(p.name for p in raw.glob("*.xlsx"))
    assert serial.result.indicators["source_file"].nunique() == 5  # 4 communes, duplicates
    assert "broken.xlsx" in set(serial.result.issues["source_file"])
    # without a processed folder the workers send their tables back instead (no cache file)
    unsaved = load_raw_dir(raw, workers=2)
    pd.testing.assert_frame_equal(unsaved.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(unsaved.result.issues, serial.result.issues)
    assert unsaved.parsed == serial.parsed and unsaved.written == []
    # the combined files are what writing the frames gives, and read back as the frames
    for name, frame in (("indicators.parquet", pooled.result.indicators),
                        ("issues.parquet", pooled.result.issues)):
        ingest._write_parquet(frame, tmp_path / name)
        assert (tmp_path / "processed" / name).read_bytes() == (tmp_path / name).read_bytes()
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "processed" / name), frame)
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == [
        "cache", "indicators.parquet", "ingest.json", "issues.parquet"]  # no temporary left
    # the cache then serves every file, with the same tables
    again = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=2)
    assert again.parsed == [] and len(again.cached) == 6
    pd.testing.assert_frame_equal(again.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(again.result.issues, serial.result.issues)


def test_pool_started_before_the_lookups_still_serves_what_the_cache_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With fewer cache files than workbooks, the pool starts while the workbooks are still
    being hashed; those the cache holds are served from it, the others parsed, in order."""
    raw = tmp_path / "raw"
    write_province(raw, communes=6, hamlets=(1, 2), seed=11)
    serial = load_raw_dir(raw, workers=1)
    processed = tmp_path / "processed"
    load_raw_dir(raw, processed_dir=processed, workers=1)
    kept = sorted((processed / "cache").iterdir())
    assert len(kept) == 6  # a serial parse: a pack of one per workbook
    for f in kept[:4]:
        f.unlink()
    monkeypatch.setattr(ingest, "POOL_MIN_FILES", 3)  # 6 workbooks, 2 in the cache: a pool
    mixed = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert len(mixed.cached) == 2 and len(mixed.parsed) == 4
    names = sorted(p.name for p in raw.glob("*.xlsx"))
    assert mixed.parsed == [n for n in names if n in mixed.parsed]  # in folder order
    assert mixed.cached == [n for n in names if n in mixed.cached]
    assert sorted(mixed.parsed + mixed.cached) == names
    pd.testing.assert_frame_equal(mixed.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(mixed.result.issues, serial.result.issues)
    # the pool's tasks (single workbooks, so few) are small: their 4 workbooks are in one
    # pack, written by the parent, beside the two served packs of one
    assert ingest._PackCache(processed / "cache").size() == 6
    assert sorted(len(keys) for keys in _held(processed / "cache").values()) == [1, 1, 4]
    again = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert again.parsed == [] and again.cached == names
    pd.testing.assert_frame_equal(again.result.indicators, serial.result.indicators)


def test_combined_indicators_follow_a_duplicate_check_that_changes_the_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The indicator file is written from the Arrow table only while the checked frame is the
    table's; were the check to drop rows, the file holds the frame it returned."""
    from ntm_analysis import load

    raw = tmp_path / "raw"
    write_province(raw, communes=2, hamlets=(2, 2), seed=3)
    check = load._check_duplicates
    monkeypatch.setattr(load, "_check_duplicates",
                        lambda frame: (frame.iloc[::2].reset_index(drop=True), check(frame)[1]))
    report = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=1)
    written = pd.read_parquet(tmp_path / "processed" / "indicators.parquet")
    assert len(written) == len(report.result.indicators) > 0
    pd.testing.assert_frame_equal(written, report.result.indicators)


def test_failed_ingest_leaves_no_combined_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from ntm_analysis import load

    raw = tmp_path / "raw"
    write_province(raw, communes=2, hamlets=(2, 2), seed=3)

    def fail(frame: pd.DataFrame) -> None:
        raise RuntimeError("check failed")

    monkeypatch.setattr(load, "_check_duplicates", fail)
    with pytest.raises(RuntimeError, match="check failed"):
        load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=1)
    # the indicator file being written in a thread is finished, then removed with the rest
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["cache"]


DEFECTS = Path(__file__).parent / "data" / "with-problems"


@pytest.mark.parametrize("path", sorted(DEFECTS.glob("*.xls*")), ids=lambda p: p.name)
def test_arrow_tables_are_load_workbooks_frames(path: Path) -> None:
    """The workers' Arrow path gives exactly ``load_workbook``'s frames (or the same error)."""
    from ntm_analysis.errors import InputError
    from ntm_analysis.load import _load_records, load_workbook, load_workbook_tables
    from ntm_analysis.schema import Ind, Iss, frame_from_records, frame_from_table

    try:
        expected = load_workbook(path)
    except InputError as error:
        with pytest.raises(InputError) as caught:
            load_workbook_tables(path)
        assert str(caught.value) == str(error)
        return
    ind, iss = load_workbook_tables(path)
    pd.testing.assert_frame_equal(frame_from_table(ind, Ind), expected.indicators)
    pd.testing.assert_frame_equal(frame_from_table(iss, Iss), expected.issues)
    # the row tuples through Arrow give the frame the row-dict builder gives
    rows, _ = _load_records(path)
    dicts = [dict(zip(Ind.dtypes, row, strict=True)) for row in rows]
    pd.testing.assert_frame_equal(frame_from_records(dicts, Ind), expected.indicators)


def test_cache_serves_renamed_copies_and_ignores_damaged_files(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_province(raw, communes=2, hamlets=(2, 2), seed=7)
    first = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=1)
    assert len(first.parsed) == 2
    name = first.parsed[0]
    (raw / name).rename(raw / f"renamed_{name}")
    cache = sorted((tmp_path / "processed" / "cache").glob("*.parquet"))
    assert len(cache) == 2  # a serial parse: a pack of one per workbook
    again = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=1)
    assert again.parsed == [] and len(again.cached) == 2
    rows = again.result.indicators
    assert set(rows["source_file"]) == {f"renamed_{name}", first.parsed[1]}
    assert len(rows) == len(first.result.indicators)
    for f in cache:
        f.write_bytes(b"PAR1 damaged")  # a damaged cache file is parsed again, not trusted
    third = load_raw_dir(raw, processed_dir=tmp_path / "processed", workers=1)
    assert sorted(third.parsed) == sorted(again.cached)
    pd.testing.assert_frame_equal(third.result.indicators, again.result.indicators)


def test_cache_file_write_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    """A cache file is written whole under its name (a buffer or bytes), or not at all."""
    import pyarrow as pa

    target = tmp_path / "key.parquet"
    ingest._write_atomically(target, pa.py_buffer(b"PAR1 first"))
    ingest._write_atomically(target, b"PAR1 second, longer")  # replaced whole
    assert target.read_bytes() == b"PAR1 second, longer"
    with pytest.raises(TypeError):
        ingest._write_atomically(tmp_path / "other.parquet", 42)  # fails before any byte
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.parquet"]


def test_a_pool_task_sends_back_each_workbooks_tables(tmp_path: Path) -> None:
    """One task's tables (indicators in one stream, sliced per workbook) are the workbooks'
    own, an unreadable file's error row included; the collector is back on afterwards."""
    import gc

    raw = tmp_path / "raw"
    write_province(raw, communes=3, seed=7)
    (raw / "broken.xlsx").write_bytes(b"%PDF-1.7 not a workbook")
    shutil.copy(DUPLICATES, raw)  # its tables come from the loader's duplicate-check path
    paths = sorted(raw.glob("*.xlsx"))
    cache = tmp_path / "cache"
    cache.mkdir()
    jobs: list[ingest.Job] = [(p, f"key-{i}") for i, p in enumerate(paths)]
    sent = list(ingest._chunk_tables(ingest._parse_chunk(jobs, None, cache)))
    assert gc.isenabled()
    assert len(sent) == len(paths)
    packs = sorted(cache.iterdir())  # one pack for the task, holding every workbook
    assert [p.name for p in packs] == [ingest._pack_name([key for _, key in jobs])]
    assert ingest._PackCache(cache).size() == len(paths)
    served = ingest._PackCache(cache)
    for (path, key), (ind, iss) in zip(jobs, sent, strict=True):
        want_ind, want_iss = ingest._parse_tables(path, None)
        assert ind.equals(want_ind) and ind.schema.equals(want_ind.schema, check_metadata=True)
        assert iss.equals(want_iss) and iss.schema.equals(want_iss.schema, check_metadata=True)
        assert key is not None
        cached = served.get(key)
        assert cached is not None and cached[0].equals(want_ind) and cached[1].equals(want_iss)
        assert cached[0].schema.equals(want_ind.schema, check_metadata=True)
    assert served.get("key-unknown") is None
    assert [ind.num_rows > 0 for ind, _ in sent] == [p.name != "broken.xlsx" for p in paths]
    duplicates = sent[paths.index(raw / DUPLICATES.name)][1]
    assert "duplicate_indicator" in duplicates.column("code").to_pylist()
    assert sent[paths.index(raw / "broken.xlsx")][1].num_rows == 1  # the error row


def test_a_pool_task_can_send_its_rows_through_a_spool_file(tmp_path: Path) -> None:
    """With a spool folder a task's indicator stream goes to a file there, which the parent
    reads and deletes; a folder that cannot take it sends the same bytes through the pipe."""
    raw = tmp_path / "raw"
    write_province(raw, communes=2, hamlets=(1, 2), seed=9)
    (raw / "broken.xlsx").write_bytes(b"not a workbook")  # no rows, one issue
    jobs: list[ingest.Job] = [(p, None) for p in sorted(raw.glob("*.xlsx"))]
    spool = tmp_path / "spool"
    spool.mkdir()
    piped = ingest._parse_chunk(jobs, None)
    spooled = ingest._parse_chunk(jobs, None, None, str(spool))
    assert isinstance(piped[0], bytes) and isinstance(spooled[0], str)
    assert [p.name for p in spool.iterdir()] == [Path(spooled[0]).name]
    assert Path(spooled[0]).read_bytes() == piped[0]
    got, want = list(ingest._chunk_tables(spooled)), list(ingest._chunk_tables(piped))
    assert len(got) == len(jobs)
    assert [t[0].num_rows > 0 for t in got] == [p.name != "broken.xlsx" for p, _ in jobs]
    for (ind, iss), (want_ind, want_iss) in zip(got, want, strict=True):
        assert ind.equals(want_ind) and iss.equals(want_iss)
    assert list(spool.iterdir()) == []  # read, then deleted
    # a folder that is gone: the stream comes through the pipe, and no file is left anywhere
    fallback = ingest._parse_chunk(jobs, None, None, str(tmp_path / "gone"))
    assert fallback[0] == piped[0] and not (tmp_path / "gone").exists()


def test_the_spool_folder_is_made_where_it_can_be_and_removed_with_its_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    parent, system = tmp_path / "shm", tmp_path / "tmp"
    parent.mkdir()
    system.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))  # the system's temporary folder
    monkeypatch.setattr(ingest, "SPOOL_PARENTS", (str(tmp_path / "missing"), str(parent)))
    with contextlib.ExitStack() as stack:
        folder = ingest._spool_folder(stack)
        assert folder is not None and Path(folder).parent == parent  # the first that can
        (Path(folder) / "123-4.arrow").write_bytes(b"a task's file the parent never took")
    assert list(parent.iterdir()) == []  # removed with what was left in it
    # one a killed ingest left an hour ago goes; a younger one (an ingest running) stays
    stale, running = parent / f"{ingest.SPOOL_PREFIX}killed", parent / f"{ingest.SPOOL_PREFIX}now"
    for folder_left in (stale, running):
        folder_left.mkdir()
        (folder_left / "9-0.arrow").write_bytes(b"rows")
    (parent / "ntm-other").mkdir()  # not a spool folder, however old
    hour_ago = time.time() - ingest.TMP_MAX_AGE - 60
    for old in (stale, parent / "ntm-other"):
        os.utime(old, (hour_ago, hour_ago))
    with contextlib.ExitStack() as stack:
        folder = ingest._spool_folder(stack)
        assert sorted(p.name for p in parent.iterdir()) == sorted(
            [Path(folder or "").name, running.name, "ntm-other"])
    assert sorted(p.name for p in parent.iterdir()) == [running.name, "ntm-other"]
    monkeypatch.setattr(ingest, "SPOOL_PARENTS", (str(tmp_path / "missing"),))
    with contextlib.ExitStack() as stack:
        folder = ingest._spool_folder(stack)
        assert folder is not None and Path(folder).parent == system
    assert list(system.iterdir()) == []
    # no folder can be made at all: None (the pool's tasks then send their rows through the
    # pipe, as ``_parse_chunk`` does without a spool folder)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with contextlib.ExitStack() as stack:
        assert ingest._spool_folder(stack) is None


def _pooled_in_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pool even a few workbooks, in tasks of 3 and 2 workbooks first (then single ones), as
    the planner does for many workbooks (``_task_sizes(7, 2)`` would be single ones only),
    each task writing its own pack (as tasks of ``POOL_OWN_PACK`` workbooks do)."""
    monkeypatch.setattr(ingest, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(ingest, "_task_sizes", lambda n, workers: [3, 2])
    monkeypatch.setattr(ingest, "POOL_OWN_PACK", 1)


def _province_with_errors(raw: Path) -> None:
    write_province(raw, communes=5, hamlets=(1, 2), seed=13)
    (raw / "broken.xlsx").write_bytes(b"not a workbook")  # a pack row count of 0, one issue
    shutil.copy(DUPLICATES, raw)


def _no_compaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the cache's compaction off (for tests of the pruning alone)."""
    monkeypatch.setattr(ingest, "COMPACT_MIN_PACKS", 1 << 30)
    monkeypatch.setattr(ingest, "COMPACT_DEAD_SHARE", 1.0)


def _packed_province(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     ) -> tuple[Path, list[str], ingest.IngestReport, Path]:
    """A province with errors in ``tmp_path/raw``, its workbook names, its serial uncached
    load and the processed folder to use, with pool tasks of several workbooks each."""
    raw = tmp_path / "raw"
    _province_with_errors(raw)
    names = sorted(p.name for p in raw.glob("*.xlsx"))
    serial = load_raw_dir(raw, workers=1)
    _pooled_in_packs(monkeypatch)
    return raw, names, serial, tmp_path / "processed"


def test_the_small_tasks_workbooks_are_packed_together_by_the_parent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task of ``POOL_OWN_PACK`` workbooks writes its pack; the workbooks of the smaller
    tasks are in one pack, named after their sorted keys, written before the combined files
    replace the old ones: if it cannot be written, the ingest fails and leaves them as they
    were."""
    raw = tmp_path / "raw"
    write_province(raw, communes=7, hamlets=(1, 2), seed=21)
    monkeypatch.setattr(ingest, "POOL_MIN_FILES", 2)
    monkeypatch.setattr(ingest, "_task_sizes", lambda n, workers: [3, 2])  # then single ones
    monkeypatch.setattr(ingest, "POOL_OWN_PACK", 3)
    keys = _keys(raw)
    order = sorted(find_workbooks(raw), key=ingest._size, reverse=True)  # the pool's order
    own, small = [keys[p.name] for p in order[:3]], sorted(keys[p.name] for p in order[3:])
    processed = tmp_path / "processed"
    report = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert _held(processed / "cache") == {ingest._pack_name(own): own,
                                          ingest._pack_name(small): small}
    _assert_same_as_cold(report, raw, processed, tmp_path / "cold")
    again = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert again.parsed == [] and again.pruned == again.compacted == []
    # the parent's pack cannot be written (a folder where it goes): the ingest fails, and the
    # combined files of the run before are left as they were
    before = {name: (processed / name).read_bytes()
              for name in ("indicators.parquet", "issues.parquet", "ingest.json")}
    shutil.rmtree(processed / "cache")
    _revise(raw / order[-1].name, seed=77)  # so that the combined files would change
    keys = _keys(raw)
    order = sorted(find_workbooks(raw), key=ingest._size, reverse=True)
    small = sorted(keys[p.name] for p in order[3:])
    (processed / "cache" / ingest._pack_name(small)).mkdir(parents=True)
    with pytest.raises(OSError):
        load_raw_dir(raw, processed_dir=processed, workers=2)
    assert {name: (processed / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in processed.iterdir()) == sorted([*before, "cache"])


def test_warm_run_after_a_pooled_cold_run_is_served_from_the_packs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pooled cold run writes one pack per task; a warm run (pooled or serial) reads every
    workbook from them, and a changed workbook alone is parsed again."""
    raw, names, serial, processed = _packed_province(tmp_path, monkeypatch)
    cold = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert cold.parsed == names and cold.cached == []
    packs = sorted((processed / "cache").iterdir())
    assert len(packs) == 4  # one per task: 3, 2, 1 and 1 workbooks
    assert ingest._PackCache(processed / "cache").size() == len(names)
    files = {name: (processed / name).read_bytes() for name in ("indicators.parquet",
                                                                "issues.parquet")}
    for workers in (2, 1):
        warm = load_raw_dir(raw, processed_dir=processed, workers=workers)
        assert warm.parsed == [] and warm.cached == names
        pd.testing.assert_frame_equal(warm.result.indicators, serial.result.indicators)
        pd.testing.assert_frame_equal(warm.result.issues, serial.result.issues)
        assert {name: (processed / name).read_bytes() for name in files} == files
    assert sorted((processed / "cache").iterdir()) == packs  # nothing written when all hit
    # a mixed run: three workbooks change; one now holds another's content (a renamed copy)
    communes = sorted(p.name for p in raw.glob("*_2024.xlsx"))
    copied, edited, emptied = communes[:3]
    (raw / copied).write_bytes((raw / communes[-1]).read_bytes())
    write_province(tmp_path / "other", communes=1, hamlets=(1, 1), seed=99)
    (raw / edited).write_bytes(next((tmp_path / "other").glob("*.xlsx")).read_bytes())
    (raw / emptied).write_bytes(b"no longer a workbook")
    expected = load_raw_dir(raw, workers=1)
    mixed = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert mixed.parsed == sorted([edited, emptied])  # the copy is served, under its name
    assert mixed.cached == [n for n in names if n not in (edited, emptied)]
    assert set(mixed.result.indicators["source_file"]) >= {copied, communes[-1], edited}
    pd.testing.assert_frame_equal(mixed.result.indicators, expected.result.indicators)
    pd.testing.assert_frame_equal(mixed.result.issues, expected.result.issues)
    assert sorted((processed / "cache").iterdir()) != packs  # the parsed one was packed


def test_a_damaged_or_vanished_pack_means_its_workbooks_are_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, names, serial, processed = _packed_province(tmp_path, monkeypatch)
    load_raw_dir(raw, processed_dir=processed, workers=2)
    cache = processed / "cache"
    packs = sorted(cache.iterdir())
    held = {}
    for pack in packs:
        found = ingest._read_index(pack)
        assert found is not None
        held[pack] = [key for key, _ in found[1]]
    assert sum(map(len, held.values())) == len(names)
    damaged, gone = sorted(held, key=lambda p: (-len(held[p]), p.name))[:2]
    assert len(held[damaged]) > 1
    # a damaged pack: its footer is read, but its rows are not what the footer says
    data = damaged.read_bytes()
    damaged.write_bytes(data[:4] + bytes(len(data) // 2) + data[4 + len(data) // 2:])
    report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert len(report.parsed) == len(held[damaged])
    pd.testing.assert_frame_equal(report.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(report.result.issues, serial.result.issues)
    # it can serve nothing again (its workbooks are in new packs now): the run removed it
    assert not damaged.exists() and report.pruned == [damaged.name]
    # a pack that vanishes between the listing and the reading of its rows serves nothing
    served = ingest._PackCache(cache)
    key = held[gone][0]
    served._index()
    gone.unlink()
    assert served.get(key) is None
    # nor does one that is replaced by another pack under its name meanwhile
    other = ingest._PackCache(cache)
    other._index()
    fresh = sorted(set(cache.iterdir()) - set(packs))[0]  # written by the run just now
    fresh_index = ingest._read_index(fresh)
    assert fresh_index is not None
    intact = next(p for p in packs if p not in (damaged, gone))
    fresh.write_bytes(intact.read_bytes())
    assert other.get(fresh_index[1][0][0]) is None
    # a file of another schema under a pack's name is not read as a pack
    ingest._write_parquet(pd.DataFrame({"x": [1]}), cache / ingest._pack_name(["a"]))
    assert ingest._read_index(cache / ingest._pack_name(["a"])) is None
    again = load_raw_dir(raw, processed_dir=processed, workers=1)
    pd.testing.assert_frame_equal(again.result.indicators, serial.result.indicators)
    pd.testing.assert_frame_equal(again.result.issues, serial.result.issues)


@contextlib.contextmanager
def _no_file_can_be_opened() -> Iterator[None]:
    """A real failure of the system: this process may open no more files (EMFILE) inside."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
    fillers = []  # the free descriptor numbers below the limit, taken
    try:
        while True:
            try:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
            except OSError as error:
                assert error.errno == errno.EMFILE, error
                break
        yield
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_a_pack_the_system_fails_to_read_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An I/O failure (here: too many open files) is not a damaged pack: it serves nothing,
    but is neither marked damaged nor pruned, and the next run is served by it."""
    from ntm_analysis.fsio import file_sha256

    raw, names, serial, processed = _packed_province(tmp_path, monkeypatch)
    load_raw_dir(raw, processed_dir=processed, workers=2)
    cache = processed / "cache"
    packs = sorted(cache.iterdir())
    assert len(packs) > 1
    digests = {p: file_sha256(p) for p in sorted(raw.glob("*.xlsx"))}
    # the footers cannot be read: nothing is indexed, nothing is taken for damaged
    footers = ingest._PackCache(cache, slices=True)
    assert footers.names  # listed before the failure
    with _no_file_can_be_opened():
        assert footers._index() == {}
    assert footers._damaged == set() and footers.prune(digests) == []
    # the footers were read, the rows cannot be: the same (whole pack, or its rows alone)
    for slices in (False, True):
        rows = ingest._PackCache(cache, slices=slices)
        key = next(iter(rows._index()))
        with _no_file_can_be_opened():
            assert rows.get(key) is None
        assert rows._damaged == set() and rows.prune(digests) == []
    assert sorted(cache.iterdir()) == packs
    again = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert again.parsed == [] and sorted(again.cached) == names
    pd.testing.assert_frame_equal(again.result.indicators, serial.result.indicators)
    # whereas a damaged footer, which pyarrow raises as an OSError too (without an errno),
    # is a damaged pack: pruned
    data = bytearray(packs[0].read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    data[-8 - footer:-8 - footer + 8] = b"\xff" * 8
    packs[0].write_bytes(bytes(data))
    with pytest.raises(OSError, match="thrift") as raised:
        pq.read_metadata(packs[0])
    assert raised.value.errno is None
    damaged = ingest._PackCache(cache)
    damaged._index()
    assert damaged._damaged == {packs[0]}
    assert damaged.prune(digests) == [packs[0].name]


# --- pruning: what the cache holds beyond the raw folder's current workbooks goes ---------


def _keys(raw: Path, year: int | None = None) -> dict[str, str]:
    """Each workbook's cache key (with ``year``), by file name."""
    from ntm_analysis.fsio import file_sha256

    return {p.name: ingest._workbook_key(file_sha256(p), year, p.name)
            for p in sorted(raw.glob("*.xls*"))}


def _held(cache: Path) -> dict[str, list[str]]:
    """The keys each pack in ``cache`` holds (by pack name), read from its footer."""
    held = {}
    for pack, _ in ingest._packs(cache):
        found = ingest._read_index(pack)
        assert found is not None, pack.name
        held[pack.name] = [key for key, _ in found[1]]
    return held


def _revise(path: Path, seed: int) -> None:
    """Replace the workbook at ``path`` by another commune's (a revised file, new content)."""
    other = path.parent.parent / f"revised-{seed}"
    write_province(other, communes=1, hamlets=(1, 2), seed=seed)
    path.write_bytes(next(other.glob("*.xlsx")).read_bytes())


def _assert_same_as_cold(report: ingest.IngestReport, raw: Path, processed: Path,
                         cold_dir: Path) -> None:
    """``report`` (its frames and combined files) is what a cold ingest of ``raw`` gives."""
    cold = load_raw_dir(raw, processed_dir=cold_dir, workers=1)
    pd.testing.assert_frame_equal(report.result.indicators, cold.result.indicators)
    pd.testing.assert_frame_equal(report.result.issues, cold.result.issues)
    for name in ("indicators.parquet", "issues.parquet", "ingest.json"):
        assert (processed / name).read_bytes() == (cold_dir / name).read_bytes(), name


def test_the_pack_of_a_changed_workbook_is_pruned(tmp_path: Path) -> None:
    """A revised workbook is parsed again and its old pack deleted; the tables are a cold
    ingest's. A run over an empty folder looks nothing up, so it deletes no pack."""
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=3, hamlets=(1, 2), seed=21)
    load_raw_dir(raw, processed_dir=processed, workers=1)
    cache = processed / "cache"
    before = _keys(raw)
    assert sorted(_held(cache).values()) == sorted([key] for key in before.values())
    revised = sorted(before)[1]
    _revise(raw / revised, seed=121)
    report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert report.parsed == [revised]
    assert report.pruned == [ingest._pack_name([before[revised]])]
    assert sorted(_held(cache).values()) == sorted([key] for key in _keys(raw).values())
    _assert_same_as_cold(report, raw, processed, tmp_path / "cold")
    # nothing looked up (an empty raw folder): the packs are left alone
    packs = sorted(cache.iterdir())
    away = tmp_path / "away"
    raw.rename(away)
    raw.mkdir()
    empty = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert empty.pruned == [] and sorted(cache.iterdir()) == packs
    raw.rmdir()
    away.rename(raw)
    again = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert again.parsed == [] and again.pruned == []


def test_a_pack_is_kept_while_one_of_its_workbooks_is_current(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool task's pack (three workbooks) stays whole while one of its workbooks is still in
    the folder unchanged, and goes with the last of them; the packs never outnumber the
    workbooks. (The pruning's rule alone: the compaction, which would merge such a pack's
    current workbooks into a new one, is off.)"""
    raw, names, _, processed = _packed_province(tmp_path, monkeypatch)
    _no_compaction(monkeypatch)
    load_raw_dir(raw, processed_dir=processed, workers=2)
    cache = processed / "cache"
    held = _held(cache)
    pack = next(name for name, keys in held.items() if len(keys) == 3)
    named = {key: name for name, key in _keys(raw).items()}
    first, *rest = (named[key] for key in held[pack])
    _revise(raw / first, seed=131)
    partly = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert partly.parsed == [first] and partly.pruned == []
    assert (cache / pack).exists() and set(rest) <= set(partly.cached)
    assert len(_held(cache)) <= len(names)
    for seed, name in enumerate(rest, start=132):
        _revise(raw / name, seed=seed)
    report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert report.parsed == sorted(rest)
    # the pack of the first revision (of one workbook) is current: only the old pack goes
    assert report.pruned == [pack] and not (cache / pack).exists()
    assert sorted(k for keys in _held(cache).values() for k in keys) == sorted(
        _keys(raw).values())
    _assert_same_as_cold(report, raw, processed, tmp_path / "cold")


def _fragmented(tmp_path: Path) -> tuple[Path, Path, ingest.IngestReport]:
    """A folder of ``COMPACT_MIN_PACKS`` + 2 workbooks ingested one by one (a pack of one
    each: the packs of a run are never merged by that run), its processed folder and the
    report."""
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=ingest.COMPACT_MIN_PACKS + 2, hamlets=(1, 1), seed=43)
    first = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert first.compacted == first.compacted_into == []
    assert sorted(len(keys) for keys in _held(processed / "cache").values()) == [1] * len(
        first.parsed)
    return raw, processed, first


def test_an_ingest_merges_small_packs_once_there_are_enough(tmp_path: Path) -> None:
    """``COMPACT_MIN_PACKS`` packs of one are merged into one pack by the next ingest; its
    tables are a cold ingest's, the next run reads them from the new pack and compacts
    nothing; a revised workbook (a pack of one, an outdated workbook among many) is below
    both thresholds."""
    raw, processed, first = _fragmented(tmp_path)
    cache = processed / "cache"
    small = sorted(_held(cache))
    second = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert second.parsed == [] and second.cached == first.parsed
    assert second.compacted == small
    held = _held(cache)
    assert list(held) == second.compacted_into and len(held) == 1
    assert sorted(held[second.compacted_into[0]]) == sorted(_keys(raw).values())
    _assert_same_as_cold(second, raw, processed, tmp_path / "cold")
    third = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert third.parsed == [] and third.compacted == [] and _held(cache) == held
    _revise(raw / first.parsed[0], seed=151)
    fourth = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert fourth.parsed == [first.parsed[0]] and fourth.compacted == []
    assert set(held) < set(_held(cache))  # the merged pack kept, with one outdated workbook
    _assert_same_as_cold(fourth, raw, processed, tmp_path / "cold4")


def test_an_ingest_rewrites_packs_of_many_outdated_rows(tmp_path: Path) -> None:
    """Once more than ``COMPACT_DEAD_SHARE`` of the packs' rows are of revised workbooks, the
    current workbooks of those packs are written into a new pack and the old one deleted: no
    outdated key is left, every key once; the tables are a cold ingest's."""
    raw, processed, first = _fragmented(tmp_path)
    load_raw_dir(raw, processed_dir=processed, workers=1)  # merged into one pack
    cache = processed / "cache"
    [merged] = _held(cache)
    rows = first.result.indicators[Ind.source_file].value_counts()
    revised = first.parsed[:8]
    assert rows[revised].sum() > ingest.COMPACT_DEAD_SHARE * rows.sum()
    for seed, name in enumerate(revised, start=161):
        _revise(raw / name, seed=seed)
    report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert report.parsed == revised and report.compacted == [merged]
    held = _held(cache)
    assert merged not in held and set(report.compacted_into) <= set(held)
    keys = [key for pack in held.values() for key in pack]
    assert sorted(keys) == sorted(_keys(raw).values())  # each current key once, nothing else
    assert len(held[report.compacted_into[0]]) == len(first.parsed) - len(revised)
    _assert_same_as_cold(report, raw, processed, tmp_path / "cold")


def test_an_interrupted_or_failed_compaction_loses_nothing(tmp_path: Path) -> None:
    """A compaction that cannot write its pack deletes nothing (the next run compacts); one
    interrupted after writing it (the small packs still there) is completed by the next run,
    which deletes the small packs and keeps the merged one; every run's tables are a cold
    ingest's."""
    raw, processed, first = _fragmented(tmp_path)
    cache = processed / "cache"
    small = {name: (cache / name).read_bytes() for name in _held(cache)}
    target = cache / ingest._pack_name(sorted(_keys(raw).values()))
    target.mkdir()  # where the merged pack would go: its write fails
    failed = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert failed.parsed == [] and failed.compacted == [] == failed.compacted_into
    assert sorted(p.name for p in cache.glob("pack-*") if p.is_file()) == sorted(small)
    _assert_same_as_cold(failed, raw, processed, tmp_path / "cold")
    target.rmdir()
    done = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert done.compacted == sorted(small) and done.compacted_into == [target.name]
    for name, data in small.items():  # as if the run had stopped before deleting them
        (cache / name).write_bytes(data)
    again = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert again.parsed == [] and again.compacted == sorted(small)
    assert again.compacted_into == []  # the merged pack holds them all already: kept as is
    assert list(_held(cache)) == [target.name]
    _assert_same_as_cold(again, raw, processed, tmp_path / "cold2")


def test_a_compaction_failing_after_its_first_pack_reports_it_and_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A compaction into two packs whose second write fails reports the first as written
    (it exists and serves) and deletes no fragment; the next run writes the second, deletes
    the fragments and leaves every current key in exactly one pack."""
    raw, processed, _ = _fragmented(tmp_path)
    cache = processed / "cache"
    small = sorted(_held(cache))
    keys = sorted(_keys(raw).values())
    half = len(keys) // 2  # (COMPACT_MIN_PACKS + 2 workbooks: two packs, both not small)
    assert half >= ingest.COMPACT_SMALL_PACK
    monkeypatch.setattr(ingest, "COMPACT_PACK_WORKBOOKS", half)
    first_pack, second_pack = ingest._pack_name(keys[:half]), ingest._pack_name(keys[half:])
    (cache / second_pack).mkdir()  # where the second pack would go: its write fails
    failed = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert failed.compacted == [] and failed.compacted_into == [first_pack]
    (cache / second_pack).rmdir()
    held = _held(cache)
    assert sorted(held) == sorted([*small, first_pack])  # nothing deleted
    assert held[first_pack] == keys[:half]
    _assert_same_as_cold(failed, raw, processed, tmp_path / "cold")
    done = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert done.parsed == [] and done.compacted == small
    assert done.compacted_into == [second_pack]  # the first pack is no fragment: kept
    held = _held(cache)
    assert sorted(held) == sorted([first_pack, second_pack])
    assert sorted(k for pack in held.values() for k in pack) == keys  # each key once
    _assert_same_as_cold(done, raw, processed, tmp_path / "cold2")


def test_a_run_with_another_year_keeps_the_packs_of_the_same_workbooks(tmp_path: Path) -> None:
    """The year a run is given only matters to a workbook that names no year of its own: the
    others (whose file names name 2024) are served from their packs; the one without is parsed
    again for the year and both its packs are kept; removed from the folder, it takes both
    with it."""
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=3, hamlets=(1, 1), seed=23)
    shutil.copy(NO_YEAR_WORKBOOK, raw / NO_YEAR_WORKBOOK.name)
    first = load_raw_dir(raw, processed_dir=processed, workers=1)
    undated = first.result.indicators[first.result.indicators[Ind.source_file].eq(
        NO_YEAR_WORKBOOK.name)]
    assert len(undated) and undated[Ind.year].isna().all()
    cache = processed / "cache"
    auto = set(cache.iterdir())
    other_year = load_raw_dir(raw, processed_dir=processed, year=2023, workers=1)
    assert other_year.parsed == [NO_YEAR_WORKBOOK.name] and other_year.pruned == []
    ind = other_year.result.indicators
    assert ind[ind[Ind.source_file].eq(NO_YEAR_WORKBOOK.name)][Ind.year].eq(2023).all()
    assert ind[ind[Ind.source_file].ne(NO_YEAR_WORKBOOK.name)][Ind.year].eq(2024).all()
    assert len(set(cache.iterdir()) - auto) == 1
    again = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert again.parsed == [] and again.pruned == []
    keys = (_keys(raw)[NO_YEAR_WORKBOOK.name], _keys(raw, 2023)[NO_YEAR_WORKBOOK.name])
    (raw / NO_YEAR_WORKBOOK.name).unlink()
    report = load_raw_dir(raw, processed_dir=processed, year=2023, workers=1)
    assert report.parsed == [] and report.pruned == sorted(ingest._pack_name([k]) for k in keys)
    assert len(list(cache.iterdir())) == 3  # the three communes' packs


def test_a_renamed_copy_naming_another_year_is_parsed_for_it(tmp_path: Path) -> None:
    """A sheet without a year of its own takes its file name's: the cached rows of
    ``xa_2023.xlsx`` must not serve the same content renamed ``xa_2024.xlsx`` (by the ingest
    or by a report's ``load_workbooks_cached``), while a rename keeping the year is served."""
    from ntm_analysis.load import load_workbooks

    raw, processed = tmp_path / "raw", tmp_path / "processed"
    raw.mkdir()
    shutil.copy(NO_YEAR_WORKBOOK, raw / "xa_2023.xlsx")
    first = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert first.result.indicators[Ind.year].eq(2023).all()
    (raw / "xa_2023.xlsx").rename(raw / "xa_2024.xlsx")
    renamed = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert renamed.parsed == ["xa_2024.xlsx"] and renamed.cached == []
    fresh = load_workbooks([raw / "xa_2024.xlsx"])
    pd.testing.assert_frame_equal(renamed.result.indicators, fresh.indicators)
    assert fresh.indicators[Ind.year].eq(2024).all()
    # the same year under another name: served, provenance naming the new file
    (raw / "xa_2024.xlsx").rename(raw / "ban_2024_xa.xlsx")
    report = ingest.load_workbooks_cached([raw / "ban_2024_xa.xlsx"], processed_dir=processed,
                                          year=2025)
    assert report.cached == ["ban_2024_xa.xlsx"] and report.parsed == []
    pd.testing.assert_frame_equal(report.result.indicators,
                                  load_workbooks([raw / "ban_2024_xa.xlsx"]).indicators)


def test_packs_of_another_version_are_pruned(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """After an upgrade the workbooks are parsed again (the key holds the version) and the
    packs the previous version wrote are deleted, whichever workbooks they hold."""
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=3, hamlets=(1, 1), seed=25)
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "build_id", lambda: "0.9.0.dev1")
        old = load_raw_dir(raw, processed_dir=processed, workers=1)
    cache = processed / "cache"
    previous = sorted(p.name for p in cache.iterdir())
    assert len(previous) == 3 and all(
        key.endswith("-0.9.0.dev1") for keys in _held(cache).values() for key in keys)
    # and a pack mixing another version's key with a workbook no longer in the folder
    path = sorted(raw.glob("*.xlsx"))[0]
    ind, iss = ingest._parse_tables(path, None)
    mixed = ingest._write_pack(cache, [
        (_keys(raw)[path.name].rsplit("-", 1)[0] + "-1.0", ind, ingest._to_ipc(iss)),
        ("0" * 32 + "-auto-" + ingest.build_id(), ind, ingest._to_ipc(iss))])
    report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert report.parsed == old.parsed and report.pruned == sorted([*previous, mixed.name])
    assert sorted(_held(cache).values()) == sorted([key] for key in _keys(raw).values())


def test_old_layout_files_and_stale_temporaries_are_pruned_and_nothing_else(
        tmp_path: Path) -> None:
    """Files of the previous layout (any version) and temporaries older than an hour go; a
    fresh temporary, other files, a folder or a link named like an old file, and anything
    outside the cache folder stay."""
    import os
    import time

    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=2, hamlets=(1, 1), seed=27)
    load_raw_dir(raw, processed_dir=processed, workers=1)
    cache = processed / "cache"
    kept = set(cache.iterdir())
    path = sorted(raw.glob("*.xlsx"))[0]
    layout = ingest._parse_tables(path, None)[0].to_pandas()
    old_current = cache / f"{_keys(raw)[path.name]}.parquet"  # what the old layout wrote
    old_other = cache / f"{'0a' * 16}-2023-0.1.0.parquet"
    for old in (old_current, old_other):
        ingest._write_parquet(layout, old)
    now = time.time()
    stale = cache / f".{ingest._pack_name(['x'])}.4242.tmp"
    fresh = cache / f".{ingest._pack_name(['y'])}.4243.tmp"
    for tmp, age in ((stale, ingest.TMP_MAX_AGE + 60), (fresh, ingest.TMP_MAX_AGE - 60)):
        tmp.write_bytes(b"PAR1 half a pack")
        os.utime(tmp, (now - age, now - age))
    outside = processed / f"{'0b' * 16}-auto-0.1.0.parquet"
    ingest._write_parquet(layout, outside)
    others = [cache / "notes.txt", cache / "pack-notes.parquet", cache / f"{'0c' * 16}.parquet"]
    for other in others:
        other.write_text("kept", encoding="utf-8")
    folder = cache / f"{'0d' * 16}-auto-0.1.0.parquet"
    folder.mkdir()
    link = cache / f"{'0e' * 16}-auto-0.1.0.parquet"
    link.symlink_to(outside)
    report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert report.parsed == []
    assert report.pruned == sorted([old_current.name, old_other.name, stale.name])
    assert set(cache.iterdir()) == kept | {fresh, folder, link, *others}
    assert outside.exists()


def test_damaged_packs_are_pruned_but_not_one_rewritten_in_the_run(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A file under a pack's name that is no pack (damaged, another kind) goes; a damaged pack
    of one whose workbook the run parsed again was rewritten under its name, and stays. A
    deletion that fails is logged, not raised."""
    import logging

    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=2, hamlets=(1, 1), seed=29)
    first = load_raw_dir(raw, processed_dir=processed, workers=1)
    cache = processed / "cache"
    rewritten, intact = sorted(cache.iterdir())
    rewritten.write_bytes(b"PAR1 damaged")
    truncated = cache / ingest._pack_name(["a", "b"])
    truncated.write_bytes(intact.read_bytes()[:-100])
    other_kind = cache / ingest._pack_name(["c"])
    ingest._write_parquet(pd.DataFrame({"x": [1]}), other_kind)
    undeletable = cache / ingest._pack_name(["d"])
    undeletable.mkdir()  # unreadable as a pack; unlinking it fails
    with caplog.at_level(logging.DEBUG, logger=ingest.__name__):
        report = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert len(report.parsed) == 1
    assert report.pruned == sorted([truncated.name, other_kind.name])
    assert set(cache.iterdir()) == {rewritten, intact, undeletable}
    assert ingest._read_index(rewritten) is not None
    assert f"outdated cache file {undeletable.name} not removed" in caplog.text
    again = load_raw_dir(raw, processed_dir=processed, workers=1)
    assert again.parsed == [] and again.cached == first.parsed
    pd.testing.assert_frame_equal(again.result.indicators, first.result.indicators)


def test_a_damaged_pack_a_pool_task_rewrote_is_kept(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing the workbooks of a damaged pack again in one pool task writes the pack anew
    under the same name: the run keeps it and serves it next time."""
    raw, names, serial, processed = _packed_province(tmp_path, monkeypatch)
    load_raw_dir(raw, processed_dir=processed, workers=2)
    cache = processed / "cache"
    pack = next(name for name, keys in _held(cache).items() if len(keys) == 3)
    (cache / pack).write_bytes(b"PAR1 damaged")
    report = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert len(report.parsed) == 3 and report.pruned == []
    assert len(_held(cache)[pack]) == 3
    again = load_raw_dir(raw, processed_dir=processed, workers=2)
    assert again.parsed == [] and again.cached == names
    pd.testing.assert_frame_equal(again.result.indicators, serial.result.indicators)


def _parse_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every workbook ``ingest`` parses (the real parse runs)."""
    parsed: list[str] = []
    real = ingest._parse_tables

    def spy(path: Path, year: int | None):  # type: ignore[no-untyped-def]
        parsed.append(Path(path).name)
        return real(path, year)

    monkeypatch.setattr(ingest, "_parse_tables", spy)
    return parsed


def test_explicit_workbooks_are_read_from_the_ingest_cache(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A report's explicit workbooks (a batch run's commune) come from the packs an ingest
    wrote, each read from its own row groups, with the very frames a fresh parse gives; only
    a workbook that names no year is parsed again (for the report's year), once."""
    from ntm_analysis.fsio import file_sha256
    from ntm_analysis.load import load_workbooks

    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=6, hamlets=(1, 3), seed=31)
    shutil.copy(NO_YEAR_WORKBOOK, raw / NO_YEAR_WORKBOOK.name)
    shutil.copy(DUPLICATES, raw / DUPLICATES.name)
    monkeypatch.setattr(ingest, "POOL_MIN_FILES", 2)  # packs of several workbooks
    monkeypatch.setattr(ingest, "_task_sizes", lambda n, workers: [5, 3])
    monkeypatch.setattr(ingest, "POOL_OWN_PACK", 3)  # each of the two tasks writes its pack
    monkeypatch.setattr(ingest, "PACK_ROW_GROUP", 150)  # workbooks across row-group bounds
    load_raw_dir(raw, processed_dir=processed, workers=2)
    packs = ingest._packs(processed / "cache")
    assert sorted(n for _, n in packs) == [3, 5]
    groups = [pq.ParquetFile(pack).metadata.num_row_groups for pack, _ in packs]
    assert max(groups) > 2
    # every workbook but the first, in another order than the folder's, and two that are not
    paths = [*sorted(find_workbooks(raw), key=lambda p: p.name[::-1])[:-1],
             raw / "missing.xlsx", raw]
    want = load_workbooks(paths, year=2024)
    parsed = _parse_spy(monkeypatch)
    got = ingest.load_workbooks_cached(paths, processed_dir=processed, year=2024)
    pd.testing.assert_frame_equal(got.result.indicators, want.indicators)
    pd.testing.assert_frame_equal(got.result.issues, want.issues)
    errors = want.issues[want.issues[Iss.severity].eq("error")]
    assert {"missing.xlsx", "raw"} <= set(errors[Iss.source_file].astype(str).map(
        lambda f: Path(f).name))
    assert parsed == got.parsed == [NO_YEAR_WORKBOOK.name, "missing.xlsx", "raw"]
    assert got.cached == [p.name for p in paths[:-2] if p.name != NO_YEAR_WORKBOOK.name]
    assert got.digests == {p: file_sha256(p) for p in paths[:-2]}
    parsed.clear()  # the workbook without a year is cached for 2024 now
    again = ingest.load_workbooks_cached(paths, processed_dir=processed, year=2024)
    assert parsed == ["missing.xlsx", "raw"]
    pd.testing.assert_frame_equal(again.result.indicators, want.indicators)
    pd.testing.assert_frame_equal(again.result.issues, want.issues)
    # the ingest keeps that pack (its workbook is in the folder) and serves the year it has
    assert load_raw_dir(raw, processed_dir=processed, year=2024).parsed == []


def test_explicit_workbooks_without_a_cache_to_read_or_write(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             ) -> None:
    """A damaged pack means its workbook is parsed (and cached anew); a cache that cannot be
    written only costs the parse; the frames are a fresh parse's either way."""
    from ntm_analysis.load import load_workbooks

    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_province(raw, communes=3, hamlets=(1, 2), seed=37)
    load_raw_dir(raw, processed_dir=processed, workers=1)  # a pack of one per workbook
    paths = find_workbooks(raw)
    want = load_workbooks(paths, year=2024)
    pack = processed / "cache" / ingest._pack_name(
        [ingest._workbook_key(ingest.file_sha256(paths[1]), None, paths[1].name)])
    pack.write_bytes(pack.read_bytes()[:-100])  # its footer cut off
    parsed = _parse_spy(monkeypatch)
    got = ingest.load_workbooks_cached(paths, processed_dir=processed, year=2024)
    assert parsed == [paths[1].name]
    pd.testing.assert_frame_equal(got.result.indicators, want.indicators)
    parsed.clear()
    ingest.load_workbooks_cached(paths, processed_dir=processed, year=2024)
    assert parsed == []  # cached again, for the report's year
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "cache").write_text("a file where the cache folder would be")
    got = ingest.load_workbooks_cached(paths, processed_dir=blocked, year=2024)
    assert got.parsed == [p.name for p in paths] and got.cached == []
    pd.testing.assert_frame_equal(got.result.indicators, want.indicators)
    pd.testing.assert_frame_equal(got.result.issues, want.issues)
