"""Ingest: load every workbook under ``data/raw/`` into ``data/processed/`` as Parquet.

The processed folder holds a cache keyed by each raw file's content hash (SHA-256): an unchanged
workbook is never parsed twice; a changed one is re-read. Raw files are only ever read.

The cache (``processed/cache/``) is a folder of *packs*: Parquet files of the indicator rows of
one or more workbooks, one after the other, whose footer metadata holds the pack's index (per
workbook its cache key, its number of rows and its issues as an Arrow IPC stream). A pool task
of ``POOL_OWN_PACK`` workbooks or more writes one pack for all the workbooks it parsed, the
parent one for those of the smaller tasks, a serial parse one per workbook; a lookup reads
every pack's footer once, and a pack's rows once when it serves a first workbook (a report on a
few explicit workbooks, ``load_workbooks_cached``, reads only their row groups). The year a
workbook is read with is part of its key, but it only matters to a workbook that names no year
itself: the tables read without a year serve every year when no sheet needed one.

At the end of each run the cache is pruned from what the lookups learnt (no pack is opened
again): a pack none of whose workbooks is in the raw folder any longer (with this build of
the package, ``ntm_analysis.build_id``; any year) is deleted, and so is one that is damaged or
of another kind (not one the system failed to read: an I/O error or a missing permission is
not a damaged pack); files of the previous layout (one per workbook) and temporaries older
than an hour (left by a killed process) go too, and so do the budget and income tables kept
for a workbook (``money_cache``) that is no longer in the raw folder or of another build. A
pack that still holds one current workbook is kept whole by the pruning.

Then the ingest compacts the cache when it has become fragmented (``_PackCache.compact``):
workbooks edited a few at a time leave packs of one (each costs a footer read at every lookup)
and packs whose other workbooks have changed (rows read for nothing). Once there are
``COMPACT_MIN_PACKS`` such packs, or more than ``COMPACT_DEAD_SHARE`` of the rows of the packs
are outdated, their current workbooks are rewritten into packs of up to
``COMPACT_PACK_WORKBOOKS`` and the old packs deleted (only once the new ones are complete).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from ntm_analysis import build_id
from ntm_analysis.errors import InputError
from ntm_analysis.fsio import file_sha256
from ntm_analysis.load import (
    NO_YEAR,
    LoadResult,
    _concat_issues,
    _error_frame,
    load_workbook_tables,
    warm_package_tables,
    year_in,
)
from ntm_analysis.money_cache import MONEY_NAME, entry_name
from ntm_analysis.outputs import atomic_path, temporary_beside
from ntm_analysis.paths import check_outside, find_workbooks
from ntm_analysis.schema import (
    Ind,
    Iss,
    Prov,
    _Schema,
    arrow_schema,
    empty_frame,
    empty_table,
    frame_from_table,
    table_from_records,
)

log = logging.getLogger(__name__)

INDICATORS_FILE = "indicators.parquet"
ISSUES_FILE = "issues.parquet"
CACHE_DIR = "cache"


@dataclass
class IngestReport:
    """What an ingest did: files read, files served from the cache, rows and issues, the
    names of the cache files it deleted as outdated (``pruned``), every workbook of the raw
    folder with its SHA-256 (``digests``, in the folder's order), and the cache's compaction:
    the packs merged into new ones and deleted (``compacted``) and the new ones
    (``compacted_into``)."""

    result: LoadResult
    parsed: list[str]
    cached: list[str]
    written: list[Path]
    pruned: list[str] = field(default_factory=list)
    digests: dict[Path, str] = field(default_factory=dict)
    compacted: list[str] = field(default_factory=list)
    compacted_into: list[str] = field(default_factory=list)


def _cache_key(digest: str, year: int | None) -> str:
    return f"{digest[:32]}-{year or 'auto'}-{build_id()}"


def _workbook_key(digest: str, year: int | None, name: str) -> str:
    """The cache key of the workbook named ``name`` with SHA-256 ``digest``, read with the
    default ``year``: a year in its file name comes before that default (``load.year_in``)."""
    return _cache_key(digest, year_in(name) or year)


#: The shape of a cache key (``_cache_key``): the workbook's digest, the year, the build.
_KEY = re.compile(r"([0-9a-f]{32})-(?:auto|[0-9]+)-(.+)")
#: A cache file of the previous layout (one per workbook, named after its key; any version).
_OLD_LAYOUT = re.compile(_KEY.pattern + r"\.parquet")
#: A temporary of ``_write_atomically`` (``.<name>.<pid>.tmp``), or one of that shape.
_TEMPORARY = re.compile(r"\..*\.tmp")
#: Age (seconds) past which a temporary in the cache is taken for one a killed process left;
#: a younger one may be a pack being written right now.
TMP_MAX_AGE = 3600.0


def _live_digests(workbooks: Mapping[Path, str]) -> set[str]:
    """The digests of ``workbooks`` (path → SHA-256) as cache keys hold them (``_is_live``)."""
    return {digest[:32] for digest in workbooks.values()}


def _is_live(key: str, digests: set[str]) -> bool:
    """Whether cache ``key`` is of a workbook whose digest (first 32 hex digits) is in
    ``digests``, cached by this build of the package (``build_id``; with any year)."""
    match = _KEY.fullmatch(key)
    return match is not None and match[1] in digests and match[2] == build_id()


#: Fewest workbooks to parse before a pool of worker processes pays for itself.
POOL_MIN_FILES = 16


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (without its index) to ``path``, through pyarrow directly.

    The same file ``DataFrame.to_parquet`` writes (pandas metadata included, so dtypes come
    back), without the pandas I/O layer's per-call overhead.
    """
    import pyarrow as pa

    _write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


#: Keys of a pack's footer metadata: its index (JSON: per workbook its cache key, its number
#: of rows and the length of its issues stream) and its workbooks' issues (their Arrow IPC
#: streams, one after the other).
_INDEX_KEY = b"ntm_analysis.pack"
_ISSUES_KEY = b"ntm_analysis.issues"
#: A pack's name: a hash of its workbooks' keys and how many there are (so the number of
#: workbooks the cache holds is known from the listing, before any pack is opened).
_PACK_NAME = re.compile(r"pack-[0-9a-f]{32}-([0-9]+)\.parquet")

#: Rows per row group of a pack: a commune workbook has a few hundred rows, so a report reads
#: it from one or two groups instead of the whole pack (a lookup among a province's 36 packs:
#: 10 ms instead of 14-15 ms, most of it their footers); measured at full size, an ingest
#: writes its packs as fast as with one group per pack, and reads them whole as fast.
PACK_ROW_GROUP = 2048

#: A pack of fewer workbooks than this is small (a serial parse writes packs of one).
COMPACT_SMALL_PACK = 8
#: An ingest compacts the cache once this many packs are small or hold an outdated workbook...
COMPACT_MIN_PACKS = 16
#: ... or once more than this share of the packs' rows are of outdated workbooks.
COMPACT_DEAD_SHARE = 0.25
#: Most workbooks a pack written by the compaction holds.
COMPACT_PACK_WORKBOOKS = 64
#: Fewest workbooks of a pool task that writes its own pack; the workbooks of smaller tasks
#: (the last ones, often single workbooks) are packed together by the parent (``_parse_in_pool``).
POOL_OWN_PACK = COMPACT_SMALL_PACK

#: One workbook of a pack to write: its cache key, its indicator rows, its issues (IPC stream).
PackEntry = tuple[str, "pa.Table", bytes]


def _pack_name(keys: list[str]) -> str:
    """The file name of the pack of the workbooks with these cache keys (in this order)."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
    return f"pack-{digest}-{len(keys)}.parquet"


def _write_pack(cache: Path, entries: list[PackEntry]) -> Path:
    """Write one pack of workbooks' tables (at least one) to ``cache``; return its path.

    The indicator rows of the workbooks, one after the other, are the Parquet table; the
    index and the issues (each workbook's IPC stream, as a worker sends it to the parent) are
    in the file's key-value metadata: one file, one write, whatever the number of workbooks.
    The name depends only on the keys, so writing the same workbooks again replaces the pack
    by an equal one.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = [key for key, _, _ in entries]
    ind = pa.concat_tables([table for _, table, _ in entries])
    index = {"keys": keys, "rows": [table.num_rows for _, table, _ in entries],
             "issues": [len(issues) for _, _, issues in entries]}
    meta = dict(ind.schema.metadata or {})
    meta[_INDEX_KEY] = json.dumps(index, ensure_ascii=False).encode()
    meta[_ISSUES_KEY] = b"".join(issues for _, _, issues in entries)
    out = pa.BufferOutputStream()
    # no statistics (nothing is filtered); dictionary pages keep it small (the texts repeat)
    # without the cost of compression; row groups of PACK_ROW_GROUP rows, so that one
    # workbook's rows are read without the rest of the pack (``_read_pack`` of a slot)
    pq.write_table(ind.replace_schema_metadata(meta), out, compression="none",
                   write_statistics=False, row_group_size=PACK_ROW_GROUP)
    # the file is serialised in memory and written in one call under a name private to this
    # process, then renamed into place: readers never see half a file, and no temporary-name
    # search (mkstemp) runs per pack; the cache folder exists already
    path = cache / _pack_name(keys)
    _write_atomically(path, out.getvalue())  # the Arrow buffer itself, not a copy as bytes
    return path


#: ``os.open`` flags of a cache file's temporary (``O_CLOEXEC``: not inherited by a child).
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_BINARY", 0)


def _write_atomically(path: Path, data: Any) -> None:
    """Write ``data`` (bytes or a buffer) to ``path`` through a temporary renamed into place.

    Plain system calls (open, write, close, rename) on a name private to this process: no
    Python file object and no buffered writer per file, and never half a file under ``path``.
    """
    tmp = f"{path.parent}{os.sep}.{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, _TMP_FLAGS, 0o666)
        try:
            view = memoryview(data)
            while view:  # (a regular file takes it in one write; a short write goes on)
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: Where a workbook's tables are in a pack: the pack, its first row, its number of rows and
#: its issues (IPC stream).
PackSlot = tuple[Path, int, int, bytes]


class _PackUnreadable(Exception):
    """A pack could not be read for a reason of the system, not of its content (no
    permission, an I/O error, too many open files, gone since it was listed): its workbooks
    are parsed again, and the file is not taken for damaged (it is kept)."""


def _is_system_error(error: BaseException) -> bool:
    """Whether ``error`` comes from the operating system (an ``OSError`` with an ``errno``),
    not from a file's content: pyarrow raises a damaged footer as an ``OSError`` without one.

    Examples
    --------
    >>> import errno
    >>> _is_system_error(OSError(errno.EIO, "Input/output error"))
    True
    >>> _is_system_error(OSError("Couldn't deserialize thrift: invalid data"))
    False
    """
    return isinstance(error, OSError) and error.errno is not None


def _unusable(path: Path, error: BaseException) -> None:
    """A pack that cannot be used: raise ``_PackUnreadable`` when the system failed to read
    it (``_is_system_error``), else log that its workbooks are parsed again."""
    if _is_system_error(error):
        raise _PackUnreadable(path) from error
    log.debug("cache file %s unusable (%s); its workbooks are parsed again", path.name, error)


def _read_index(path: Path) -> tuple[bytes, list[tuple[str, PackSlot]]] | None:
    """The index of a pack (its raw bytes, and each workbook's key and slot), read from the
    footer alone; None when the file is not a whole pack (damaged, another kind).

    Raises ``_PackUnreadable`` when the system failed to read it (``_is_system_error``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        raw = (meta.metadata or {})[_INDEX_KEY]
        index = json.loads(raw)
        keys, rows, sizes = index["keys"], index["rows"], index["issues"]
        issues = meta.metadata[_ISSUES_KEY]
        if not (len(keys) == len(rows) == len(sizes)) or sum(rows) != meta.num_rows \
                or sum(sizes) != len(issues):
            raise ValueError("index does not match the pack")
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as error:
        _unusable(path, error)
        return None
    slots, row, at = [], 0, 0
    for key, n, size in zip(keys, rows, sizes, strict=True):
        slots.append((str(key), (path, row, int(n), issues[at:at + size])))
        row, at = row + n, at + size
    return raw, slots


class _PackCache:
    """The packs of a cache folder, read as a lookup needs them (once per ``load_raw_dir``).

    The first lookup lists the folder and reads every pack's footer into a map from cache key
    to slots; a hit reads its pack's rows once (later hits in the same pack slice them). A
    pack that is damaged, holds another schema, or vanishes or changes after its footer was
    read, serves nothing: its workbooks are parsed again. So does one the system fails to read
    (an I/O error, no permission, too many open files: ``_PackUnreadable``), which is not taken
    for damaged: ``prune`` keeps it, and a later run reads it again.

    The folder is listed once per run (``names``): that listing counts the workbooks the packs
    hold (``size``), finds the packs to index and the files ``prune`` looks at. What the lookups
    learnt (each pack's keys, the packs found damaged) is what ``prune`` decides from, without
    reading anything again; the names of the packs this run writes go in ``written``, so that
    none of them is taken for an outdated one.
    """

    def __init__(self, folder: Path | None, *, slices: bool = False) -> None:
        self.folder = folder
        #: read each hit's own rows (its row groups) instead of its whole pack: for a few
        #: workbooks looked up among many (a report's), not for a folder's worth (an ingest)
        self.slices = slices
        self.written: set[str] = set()
        self._slots: dict[str, list[PackSlot]] | None = None
        #: each pack indexed: its workbooks' keys and slots, in the pack's order
        self._entries: dict[Path, list[tuple[str, PackSlot]]] = {}
        self._raw: dict[Path, bytes] = {}
        self._tables: dict[Path, pa.Table | None] = {}
        self._damaged: set[Path] = set()

    @cached_property
    def names(self) -> list[str]:
        """The names in the cache folder, sorted, as listed once (at the run's start)."""
        return _listing(self.folder)

    def size(self) -> int:
        """How many workbooks the packs hold (at most that many can be served from them),
        counted from the packs' names, without opening them."""
        return sum(count for _, count in _packs(self.folder, self.names))

    def _index(self) -> dict[str, list[PackSlot]]:
        if self._slots is None:
            self._slots = {}
            for pack, _ in _packs(self.folder, self.names):
                try:
                    found = _read_index(pack)
                except _PackUnreadable as error:  # not indexed: serves nothing, not pruned
                    log.debug("cache file %s not read (%s); its workbooks are parsed again",
                              pack.name, error.__cause__)
                    continue
                if found is None:
                    self._damaged.add(pack)
                    continue
                self._raw[pack] = found[0]
                self._entries[pack] = found[1]
                for key, slot in found[1]:
                    self._slots.setdefault(key, []).append(slot)
        return self._slots

    def lookup(self, digest: str, year: int | None, name: str,
               ) -> tuple[str, tuple[pa.Table, pa.Table] | None]:
        """The cache key of the workbook with SHA-256 ``digest`` read with ``year``, and its
        ``(indicators, issues)`` tables if the cache has them, their provenance naming the
        file ``name`` (a renamed copy keeps its rows).

        ``year`` is only the loader's default, for a sheet whose title, name and file name
        name no year; so when there are no tables read with ``year``, those read without one
        serve too, unless they have a sheet that needed the default (a ``no_year`` issue):
        a report of 2024 reads what ``ntm ingest`` cached. A year in the file name comes
        before that default (``load.year_in``), so it is the year of the key: the rows of
        ``xa_2023.xlsx`` do not serve a renamed copy ``xa_2024.xlsx``, whose sheets without a
        year of their own are of 2024.
        """
        key, auto = _workbook_key(digest, year, name), _cache_key(digest, None)
        hit = self.get(key)
        if hit is None and key != auto:
            hit = self.get(auto)
            if hit is not None and _needs_default_year(hit[1]):
                hit = None
        if hit is None:
            return key, None
        return key, (_with_source_file(hit[0], name), _with_source_file(hit[1], name))

    def get(self, key: str) -> tuple[pa.Table, pa.Table] | None:
        """The ``(indicators, issues)`` tables of the workbook with ``key``, or None."""
        if self.folder is None:
            return None
        for pack, start, rows, issues in self._index().get(key, ()):
            if self.slices:  # the slot's rows alone
                table = self._read_rows(pack, start, rows)
            else:  # the whole pack, read once, sliced for each of its workbooks
                if pack not in self._tables:
                    self._tables[pack] = self._read_rows(pack)
                whole = self._tables[pack]
                table = whole.slice(start, rows) if whole is not None else None
            if table is None:
                continue
            iss = _read_issues(pack, issues)
            if iss is not None:
                return table, iss
            self._damaged.add(pack)
        return None

    def _read_rows(self, pack: Path, start: int = 0, rows: int | None = None,
                   ) -> pa.Table | None:
        """The indicator rows of ``pack`` (``rows`` of them from ``start``; all by default),
        or None (then marked damaged, unless rewritten)."""
        try:
            table = _read_pack(pack, self._raw[pack], start, rows)
        except _PackRewritten:
            # another run wrote it anew since its footer was read: whole, so not pruned
            log.debug("cache file %s changed since its index was read; its workbooks are "
                      "parsed again", pack.name)
            return None
        except _PackUnreadable as error:  # the system's failure, not the pack's: kept
            log.debug("cache file %s not read (%s); its workbooks are parsed again",
                      pack.name, error.__cause__)
            return None
        if table is None:
            self._damaged.add(pack)
        return table

    def prune(self, workbooks: Mapping[Path, str]) -> list[str]:
        """Delete the cache files this run found outdated; return their names (sorted).

        ``workbooks`` are every workbook of the run (the whole raw folder), each with its
        SHA-256. A
        pack is kept while one of its keys is live (``_is_live``: a workbook of ``digests``
        and this package version, any year), and whole: a partly outdated pack is not
        rewritten, so every pack kept holds a current workbook and there are at most as many
        packs as workbooks. Deleted: the packs indexed in this run that are not live or not
        readable as packs (damaged, another kind; a pack not indexed, as when there was no
        lookup, is left alone), the money tables (``money_cache``) other than those of
        ``workbooks`` with this version (``entry_name`` of each digest and file name: those of
        workbooks gone or changed, of another version, and a renamed workbook's, kept under
        its old name), files of the previous layout and temporaries older
        than ``TMP_MAX_AGE``. Nothing else in the folder is touched, and a pack written by this
        run never. A deletion that fails (the file is gone already, no permission) is logged
        at debug level and skipped.
        """
        if self.folder is None:
            return []
        live = _live_digests(workbooks)
        money = {entry_name(digest, path.name) for path, digest in workbooks.items()}
        doomed = set(self._damaged) | {
            pack for pack, entries in self._entries.items()
            if not any(_is_live(key, live) for key, _ in entries)}
        doomed = {pack for pack in doomed if pack.name not in self.written}
        # a temporary or an old file is found by its name: only those few are looked at closer
        oldest = time.time() - TMP_MAX_AGE
        for name in self.names:
            if MONEY_NAME.fullmatch(name):  # a workbook's budget and income tables
                if name not in money:
                    doomed.add(self.folder / name)
                continue
            temporary = _TEMPORARY.fullmatch(name) is not None
            if not temporary and not _OLD_LAYOUT.fullmatch(name):
                continue
            path = self.folder / name
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and not (temporary and info.st_mtime > oldest):
                doomed.add(path)
        pruned = []
        for path in sorted(doomed):
            try:
                os.unlink(path)
            except OSError as error:
                log.debug("outdated cache file %s not removed (%s)", path.name, error)
                continue
            log.debug("removed outdated cache file %s", path.name)
            pruned.append(path.name)
        return pruned

    def compact(self, workbooks: Mapping[Path, str], pruned: Iterable[str] = (),
                ) -> tuple[list[str], list[str]]:
        """Merge fragments of the cache into new packs, once it holds enough of them; return
        the names of the packs merged (and deleted) and of the packs written, both sorted.

        ``workbooks`` and ``pruned`` are ``prune``'s argument and answer. The packs looked at
        are those this run indexed and kept (not damaged, not pruned, not written by this
        run). Of those, a *fragment* is small (fewer than ``COMPACT_SMALL_PACK`` workbooks) or
        holds an outdated workbook (``_is_live`` is false for its key). Nothing happens until
        there are ``COMPACT_MIN_PACKS`` fragments or more than ``COMPACT_DEAD_SHARE`` of the
        kept packs' rows are outdated; then the current workbooks of every fragment (one copy
        of each key, none that a pack not merged holds) are written, sorted by key, into packs
        of up to ``COMPACT_PACK_WORKBOOKS`` (their names depend only on their keys), and the
        fragments deleted. Rows and issues are copied as the fragments hold them.

        A fragment whose rows cannot be read now is left as it is. The fragments are deleted
        only once every new pack is written: a failed write (logged at debug level) deletes
        nothing, and an interrupted run leaves some workbooks in two packs, which serve equally
        until the next compaction writes the same packs again and deletes the rest.
        """
        if self.folder is None:
            return [], []
        live = _live_digests(workbooks)
        gone = set(pruned)
        kept = {pack: entries for pack, entries in self._entries.items()
                if pack.name not in gone and pack.name not in self.written
                and pack not in self._damaged}
        outdated = {key for entries in kept.values() for key, _ in entries
                    if not _is_live(key, live)}
        fragments = sorted(pack for pack, entries in kept.items()
                           if len(entries) < COMPACT_SMALL_PACK
                           or any(key in outdated for key, _ in entries))
        rows = sum(slot[2] for entries in kept.values() for _, slot in entries)
        dead = sum(slot[2] for entries in kept.values() for key, slot in entries
                   if key in outdated)
        if len(fragments) < COMPACT_MIN_PACKS and dead <= rows * COMPACT_DEAD_SHARE:
            return [], []
        if len(fragments) < 2 and not dead:  # one pack, nothing outdated: left as it is
            return [], []
        merging = set(fragments)
        elsewhere = {key for pack, entries in kept.items() if pack not in merging
                     for key, _ in entries}
        merged: list[Path] = []
        current: dict[str, tuple[pa.Table, bytes]] = {}
        for pack in fragments:
            table = self._tables[pack] if pack in self._tables else self._read_rows(pack)
            if table is None:  # not readable now: left as it is
                continue
            merged.append(pack)
            for key, (_, start, n, issues) in kept[pack]:
                if key not in outdated and key not in current and key not in elsewhere:
                    current[key] = (table.slice(start, n), issues)
        keys = sorted(current)
        written: list[str] = []
        try:
            for at in range(0, len(keys), COMPACT_PACK_WORKBOOKS):
                chunk = keys[at:at + COMPACT_PACK_WORKBOOKS]
                path = _write_pack(self.folder, [(key, *current[key]) for key in chunk])
                written.append(path.name)
                self.written.add(path.name)
        except OSError as error:
            log.debug("cache not compacted (%s); its packs are kept", error)
            return [], sorted(written)
        deleted = []
        for pack in merged:
            if pack.name in written:  # the same workbooks: written anew in place
                continue
            try:
                os.unlink(pack)
            except OSError as error:
                log.debug("compacted cache file %s not removed (%s)", pack.name, error)
                continue
            deleted.append(pack.name)
        log.debug("compacted %d cache packs into %d", len(deleted), len(written))
        return sorted(deleted), sorted(written)


class _PackRewritten(Exception):
    """A pack's footer is no longer the one its index was read from (written anew since)."""


def _read_pack(path: Path, raw_index: bytes, start: int = 0,
               rows: int | None = None) -> pa.Table | None:
    """The indicator rows of a pack whose index is still ``raw_index`` (``rows`` of them from
    ``start``, read from the row groups that hold them; all by default), or None if unusable.

    Raises ``_PackRewritten`` when the file under ``path`` holds another index by now, and
    ``_PackUnreadable`` when the system failed to read it (``_is_system_error``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as file:
            meta = file.metadata
            if (meta.metadata or {}).get(_INDEX_KEY) != raw_index:
                raise _PackRewritten(path)
            if rows is None:
                ind = file.read()
            elif rows == 0:
                ind = file.schema_arrow.empty_table()
            else:
                groups, at = [], 0  # the row groups holding the rows, each with its first row
                for i in range(meta.num_row_groups):
                    n = meta.row_group(i).num_rows
                    if at < start + rows and at + n > start:
                        groups.append((i, at))
                    at += n
                if not groups or at < start + rows:
                    raise ValueError("the index names rows beyond the pack's")
                ind = file.read_row_groups([i for i, _ in groups]).slice(start - groups[0][1],
                                                                         rows)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as error:
        _unusable(path, error)
        return None
    if ind.schema.remove_metadata() != arrow_schema(Ind):
        return None
    return ind.replace_schema_metadata(None)


def _needs_default_year(issues: pa.Table) -> bool:
    """Whether a workbook's issues say a sheet named no year (so the year it was read with
    was used: ``load.NO_YEAR``)."""
    import pyarrow.compute as pc

    return bool(pc.any(pc.equal(issues.column(Iss.code), NO_YEAR)).as_py())


def _read_issues(pack: Path, blob: bytes) -> pa.Table | None:
    """A workbook's issues from its pack's metadata, or None if unusable."""
    import pyarrow as pa

    try:
        iss = _from_ipc(blob)
    except (ValueError, pa.ArrowException) as error:
        log.debug("cache file %s unusable (%s); parsing again", pack.name, error)
        return None
    return iss if iss.schema == arrow_schema(Iss) else None


def _listing(cache: Path | None) -> list[str]:
    """The names in ``cache``, sorted (none when it does not exist)."""
    if cache is None:
        return []
    try:
        return sorted(os.listdir(cache))
    except OSError:
        return []


def _packs(cache: Path | None, names: list[str] | None = None) -> list[tuple[Path, int]]:
    """The packs in ``cache`` (sorted by name; none when it does not exist), each with the
    number of workbooks its name says it holds; ``names``: the folder's listing, if made."""
    if cache is None:
        return []
    return [(cache / name, int(match[1])) for name in (
        _listing(cache) if names is None else names) if (match := _PACK_NAME.fullmatch(name))]


def _parse_tables(path: Path, year: int | None) -> tuple[pa.Table, pa.Table]:
    """Parse one workbook into Arrow tables; a file that cannot be opened is one error row."""
    try:
        return load_workbook_tables(path, year=year)
    except InputError as error:
        return (empty_table(Ind),
                table_from_records(_error_frame(error).to_dict("records"), Iss))


def _parse(path: Path, year: int | None, cache: Path | None = None,
           key: str | None = None, *, best_effort: bool = False) -> tuple[pa.Table, pa.Table]:
    """Parse one workbook into Arrow tables; a file that cannot be opened is one error row.

    With ``cache`` and ``key`` the tables are also written to the cache (as a pack of one), in
    the process that parsed them. With ``best_effort`` the cache folder is created if needed,
    and a cache that cannot be written (read-only, full) only costs the write: the tables are
    returned all the same (logged at debug level); otherwise the ``OSError`` is raised.
    """
    ind, iss = _parse_tables(path, year)
    if cache is not None and key is not None:
        try:
            if best_effort:
                cache.mkdir(parents=True, exist_ok=True)
            _write_pack(cache, [(key, ind, _to_ipc(iss))])
        except OSError as error:
            if not best_effort:
                raise
            log.debug("%s not cached (%s)", path.name, error)
    return ind, iss


def _to_ipc(table: pa.Table) -> bytes:
    """Serialise a table as an Arrow IPC stream (what ``_from_ipc`` reads back, equal)."""
    if table is empty_table(Iss):  # a workbook without issues: the same bytes every time
        return _empty_issues_ipc()
    return _ipc_stream(table)


@cache
def _empty_issues_ipc() -> bytes:
    return _ipc_stream(empty_table(Iss))


def _ipc_stream(table: pa.Table) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(blob: bytes) -> pa.Table:
    import pyarrow as pa

    return pa.ipc.open_stream(blob).read_all()


#: What a pool task sends back: one Arrow IPC stream holding the indicator rows of all its
#: workbooks, one after the other (or the name of the spool file holding it, see
#: ``_parse_chunk``), and per workbook how many of those rows are its own, with the IPC stream
#: of its issues.
ChunkResult = tuple["bytes | str", list[tuple[int, bytes]]]

#: Folders a pool's spool folder (``_spool_folder``) is made in, the first that can be: a
#: memory file system, else the system's temporary folder.
SPOOL_PARENTS: tuple[str, ...] = ("/dev/shm",)
_SPOOLED = itertools.count()  # numbers a worker's spool files (their names hold its pid too)


def _parse_chunk(jobs: list[Job], year: int | None, cache: Path | None = None,
                 spool: str | None = None) -> ChunkResult:
    """Parse several workbooks (writing one pack of them to ``cache``): one task of a pool worker.

    The tables go back to the parent as Arrow IPC streams (measured on 50 workbooks: 5 ms to
    write and 2 ms to read them, against 28 ms to pickle and 10-16 ms to unpickle the tables
    themselves): the indicator tables of the task in one stream (one schema message, one
    writer and one reader per task, not per workbook; the parent slices it without copying),
    the issues each in its own (the pack holds it too, so it is serialised once).

    With ``spool`` (a folder) the indicator stream, about 150 kB a workbook, is written to a
    file there and only its name goes back (``_take_spooled`` reads and deletes it): through
    the pool's pipe, a task's few megabytes cross in 64 kB pieces, the worker waiting for the
    parent to read each (about 5 ms a megabyte, measured at full size, and the parent's reading
    takes CPU from the other worker). A spool file that cannot be written (a full folder)
    sends the stream through the pipe after all.

    With ``cache``, the workbooks that have a cache key are written to it as one pack (one
    file per task, not per workbook: creating a file and setting up a Parquet writer cost
    about a millisecond each time, whatever the size).

    The cyclic garbage collector is off meanwhile: parsing makes many short-lived lists (the
    rows of the sheets), which its passes would otherwise traverse over and over (about
    0.25 ms per workbook, measured in the pool), and hardly any cycles; those it does make
    are collected once at the end of the task (a young-generation pass over what the task
    left, a few milliseconds at most).
    """
    import pyarrow as pa

    schema = arrow_schema(Ind)
    enabled = gc.isenabled()
    gc.disable()
    try:
        sink = pa.BufferOutputStream()
        counts: list[tuple[int, bytes]] = []
        pack: list[PackEntry] = []
        with pa.ipc.new_stream(sink, schema) as writer:
            for path, key in jobs:
                ind, iss = _parse_tables(path, year)
                iss_ipc = _to_ipc(iss)
                if key is not None:
                    pack.append((key, ind, iss_ipc))
                writer.write_table(ind)  # (the loader's tables all have exactly ``schema``)
                counts.append((ind.num_rows, iss_ipc))
        if cache is not None and pack:
            _write_pack(cache, pack)
        stream = sink.getvalue()
        name = _spooled(stream, spool) if spool is not None else None
        return name or stream.to_pybytes(), counts
    finally:
        gc.collect(0)
        if enabled:
            gc.enable()


def _spooled(stream: pa.Buffer, spool: str) -> str | None:
    """Write ``stream`` to a new file in the folder ``spool``: its name, or None when it cannot
    be written (nothing is left of it then)."""
    name = os.path.join(spool, f"{os.getpid()}-{next(_SPOOLED)}.arrow")
    try:
        with open(name, "xb") as f:
            f.write(stream)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return None
    return name


def _take_spooled(name: str) -> bytes:
    """The bytes of the spool file ``name``, which is deleted (read into memory rather than
    mapped: a deleted file's mapped pages would hold the memory file system's space until the
    tables are freed)."""
    try:
        with open(name, "rb") as f:
            return f.read()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


#: The name of a pool's spool folder begins with this (``_spool_folder``).
SPOOL_PREFIX = "ntm-ingest-"


def _spool_folder(stack: contextlib.ExitStack) -> str | None:
    """A new folder for a pool's spool files (see ``_parse_chunk``), in the first of
    ``SPOOL_PARENTS`` that can hold one, else in the system's temporary folder; removed with
    whatever is left in it when ``stack`` closes. None when no folder can be made (the tasks'
    rows then come through the pipe).

    Spool folders older than ``TMP_MAX_AGE`` beside it, which only a killed ingest leaves
    (an ingest of a province takes seconds), are removed first: in ``/dev/shm`` they would
    hold memory until the machine restarts.
    """
    import shutil
    import tempfile

    for parent in (*SPOOL_PARENTS, None):
        try:
            folder = tempfile.mkdtemp(prefix=SPOOL_PREFIX, dir=parent)
        except OSError:
            continue
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        _remove_stale_spools(Path(folder).parent)
        return folder
    return None


def _remove_stale_spools(parent: Path) -> None:
    """Remove the spool folders in ``parent`` last changed more than ``TMP_MAX_AGE`` ago
    (another user's cannot be: they are skipped)."""
    import shutil

    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            with contextlib.suppress(OSError):
                if (entry.name.startswith(SPOOL_PREFIX) and entry.is_dir(follow_symlinks=False)
                        and now - entry.stat(follow_symlinks=False).st_mtime > TMP_MAX_AGE):
                    shutil.rmtree(entry.path)


def _chunk_tables(result: ChunkResult, entries: list[PackEntry] | None = None,
                  keys: Iterable[str | None] = ()) -> Iterator[tuple[pa.Table, pa.Table]]:
    """The ``(indicators, issues)`` tables of each workbook of a task, from ``_parse_chunk``
    (a spool file it names is read and deleted); with ``entries``, the pack entry of each
    workbook with a cache key (``keys``, the task's, in order) is appended to it."""
    blob, counts = result
    rows = _from_ipc(_take_spooled(blob) if isinstance(blob, str) else blob)
    start = 0
    for (count, iss), key in itertools.zip_longest(counts, keys):
        ind = rows.slice(start, count)
        if entries is not None and key is not None:
            entries.append((key, ind, iss))
        yield ind, _from_ipc(iss)
        start += count


def _task_sizes(n: int, workers: int) -> list[int]:
    """How many workbooks each pool task takes: shrinking sizes (guided scheduling).

    Each task is an eighth of what is left per worker: few tasks (little pickling and queueing)
    while there is much to do, single workbooks at the end, so the workers finish together;
    when one worker is slowed (a busy machine), the other takes over the remaining tasks.

    Examples
    --------
    >>> _task_sizes(40, 2)
    [5, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    sizes, left = [], n
    while left > 0:
        sizes.append(max(1, left // (workers * 4)))
        left -= sizes[-1]
    return sizes


def _warm_imports() -> None:
    """Import what parsing a workbook imports on first use, so forked workers inherit it.

    Otherwise each worker imports the Parquet writer, the cell reader and the file check
    itself (about 20 ms of CPU per worker).
    """
    import pyarrow.parquet  # noqa: F401
    import python_calamine  # noqa: F401

    import ntm_analysis.sniff  # noqa: F401


Job = tuple[Path, "str | None"]  # a workbook to parse and its cache key (if it is cached)


def _use_pool(workers: int) -> bool:
    return workers > 1 and "fork" in multiprocessing.get_all_start_methods()


def _parse_serial(jobs: Iterable[Job], year: int | None, cache: Path | None,
                  written: set[str] | None = None,
                  ) -> Iterator[tuple[Path, tuple[pa.Table, pa.Table]]]:
    """Parse workbooks one after the other in this process (each cached as a pack of one,
    whose name is added to ``written``)."""
    for path, key in jobs:
        if cache is not None and key is not None and written is not None:
            written.add(_pack_name([key]))
        yield path, _parse(path, year, cache, key)


def _parse_in_pool(jobs: Iterable[Job], total: int, year: int | None, workers: int,
                   stack: contextlib.ExitStack, pending: list[Callable[[], object]],
                   cache: Path | None = None, written: set[str] | None = None,
                   ) -> Iterator[tuple[Path, tuple[pa.Table, pa.Table]]]:
    """Parse workbooks in ``workers`` forked processes; yields ``(path, tables)`` as they finish.

    ``jobs`` (at most ``total`` of them, best the biggest files first) may be produced lazily:
    they are cut into tasks as they come (``_task_sizes``), so the workers parse the first
    while the parent hashes and looks up the next. The pack (in ``cache``) of a task of at
    least ``POOL_OWN_PACK`` workbooks is written by the worker that parsed it; the workbooks of
    the smaller tasks (the last ones, often single workbooks) go into one pack written by this
    process once the last task is in (its write is appended to ``pending`` for the caller to
    run: ``_combine`` runs it beside the indicator file's write), since a pack costs its writer
    about 1.4 ms whatever its size, and a cache of fewer packs is looked up faster (without it
    a province's ingest left about 36 packs, 27 of them small, for the next ingest to compact).
    The names of all the packs are added to ``written``. The pool is left to exit while the
    caller goes on; it is joined (its workers waited for) when ``stack`` closes.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("fork")  # the parent's imports are reused
    warm_package_tables()  # and its package tables, read once here
    _warm_imports()  # and the modules every worker needs, imported once here
    # objects the workers inherit are left out of their garbage collections: otherwise each
    # collection walks (and so copies, page by page) the parent's whole heap in every worker
    gc.freeze()
    try:
        spool = _spool_folder(stack)  # (removed once the pool below has exited)
        pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, mp_context=context))
        sizes = iter(_task_sizes(total, workers))
        # each task's workbooks, and whether it writes their pack itself
        tasks: dict[Future[ChunkResult], tuple[list[Job], bool]] = {}
        deferred: list[PackEntry] = []  # the small tasks' workbooks, packed here

        def submit(chunk: list[Job]) -> None:
            keys = [key for _, key in chunk if key is not None]
            own_pack = len(chunk) >= POOL_OWN_PACK
            tasks[pool.submit(_parse_chunk, chunk, year, cache if own_pack else None,
                              spool)] = chunk, own_pack
            if cache is not None and keys and written is not None and own_pack:
                written.add(_pack_name(keys))  # the pack ``_parse_chunk`` writes

        try:
            chunk: list[Job] = []
            want = next(sizes, 1)
            for job in jobs:  # the workers start on the first task while the rest is hashed
                chunk.append(job)
                if len(chunk) >= want:
                    submit(chunk)
                    chunk, want = [], next(sizes, 1)
            if chunk:
                submit(chunk)
            _pandas_metadata(Ind)  # needed after the parse; computed while the workers work
            running = set(tasks)
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for task in done:
                    chunk, own_pack = tasks[task]
                    into = None if own_pack else deferred
                    for (path, _), tables in zip(
                            chunk, _chunk_tables(task.result(), into, (k for _, k in chunk)),
                            strict=True):
                        yield path, tables
            if cache is not None and deferred:
                deferred.sort(key=itemgetter(0))  # (the pack's name depends on its keys)
                if written is not None:
                    written.add(_pack_name([key for key, _, _ in deferred]))
                pending.append(partial(_write_pack, cache, deferred))
        except BaseException:
            for task in tasks:  # a failure (or an abandoned generator) stops the rest
                task.cancel()
            raise
        # the workers exit (freeing their memory) while the parent combines the tables
        pool.shutdown(wait=False)
    finally:
        gc.unfreeze()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _with_source_file(table: pa.Table, name: str) -> pa.Table:
    """Return ``table`` with every row's ``source_file`` set to ``name``."""
    import pyarrow as pa

    if table.num_rows == 0:
        return table
    i = table.schema.get_field_index(Prov.source_file)
    return table.set_column(i, table.schema.field(i),
                            pa.array([name] * table.num_rows, table.schema.field(i).type))


def load_raw_dir(raw_dir: str | os.PathLike[str], *,
                 processed_dir: str | os.PathLike[str] | None = None,
                 year: int | None = None, progress: bool = False,
                 workers: int | None = None) -> IngestReport:
    """Load every workbook under ``raw_dir``, using and refreshing the Parquet cache.

    With ``processed_dir`` the combined tables are written there as ``indicators.parquet`` and
    ``issues.parquet`` (atomically), and each workbook's tables are cached under
    ``processed_dir/cache/``, keyed by its content hash (with ``year`` and the package
    version). Workbooks not in the cache are parsed in ``workers`` processes (default: the
    number of cores) when there are at least ``POOL_MIN_FILES`` of them, otherwise in this
    process; each pool task writes one cache file (a pack) for all the workbooks it parsed, a
    serial parse one per workbook. The result does not depend on ``workers`` nor on how the
    cache's workbooks are packed; a damaged or vanished pack only means its workbooks are
    parsed again. Once the combined files are written, the cache is pruned
    (``_PackCache.prune``: packs of workbooks no longer in ``raw_dir``, damaged ones, files of
    the previous layout, stale temporaries); the report's ``pruned`` names what went. A
    ``processed_dir`` inside ``raw_dir`` is refused (``ParameterError``) before anything is read.
    """
    paths = find_workbooks(raw_dir)
    if processed_dir:
        check_outside(processed_dir, [raw_dir], what="processed folder")
    cache = Path(processed_dir) / CACHE_DIR if processed_dir else None
    packs = _PackCache(cache)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    digests: dict[Path, str] = {}
    found: dict[Path, tuple[pa.Table, pa.Table]] = {}
    hits: set[Path] = set()
    misses: list[Path] = []
    bar: Any = None  # the progress bar, if any
    # for a pool, the biggest files first (the size foretells the parse time), so that what is
    # left at the end, in single-workbook tasks, is short
    order = sorted(paths, key=_size, reverse=True) if _use_pool(n_workers) else paths

    def lookups() -> Iterator[Job]:
        """Hash each workbook; take it from the cache, or yield it with its cache key."""
        for path in order:
            digests[path] = file_sha256(path)
            key, hit = (packs.lookup(digests[path], year, path.name) if cache
                        else (None, None))
            if hit is not None:
                found[path] = hit
                hits.add(path)
                continue
            if cache is not None and not misses:
                cache.mkdir(parents=True, exist_ok=True)
            misses.append(path)
            yield path, key
        if bar is not None and bar.total != len(misses):  # some were in the cache after all
            bar.total = len(misses)
            bar.refresh()

    with contextlib.ExitStack() as pool:
        # when the cache cannot serve all but POOL_MIN_FILES workbooks, a pool is sure to be
        # needed: it starts first, and the workbooks are hashed and looked up while it parses
        # (its tasks planned for the workbooks the cache cannot serve; more come as singles)
        least = len(paths) - packs.size()  # workbooks the cache cannot serve, at least
        jobs: Iterable[Job]
        if _use_pool(n_workers) and least >= POOL_MIN_FILES:
            jobs, total = lookups(), least
        else:
            jobs = list(lookups())
            total = len(jobs)
        pending: list[Callable[[], object]] = []  # cache writes to run before the combine ends
        results: Iterable[tuple[Path, tuple[pa.Table, pa.Table]]] = (
            _parse_in_pool(jobs, total, year, n_workers, pool, pending, cache, packs.written)
            if _use_pool(n_workers) and total >= POOL_MIN_FILES
            else _parse_serial(jobs, year, cache, packs.written))
        if progress and len(paths) - len(hits) > 1:
            from tqdm.auto import tqdm

            # (its total is corrected once the last workbook is looked up)
            results = bar = tqdm(results, total=len(paths) - len(hits), desc="workbooks",
                                 unit="file")
        for path, tables in results:
            found[path] = tables
        result = _combine([found[p] for p in paths], processed_dir, pending)
    parsed = [p.name for p in paths if p not in hits]
    cached = [p.name for p in paths if p in hits]
    hashed = {p: digests[p] for p in paths}
    if processed_dir is None:
        return IngestReport(result, parsed, cached, [], digests=hashed)
    out = Path(processed_dir)
    written = [out / INDICATORS_FILE, out / ISSUES_FILE]
    manifest = {
        "version": build_id(),
        "files": {p.name: digest for p, digest in hashed.items()},
        "rows": len(result.indicators), "issues": len(result.issues),
    }
    with atomic_path(out / "ingest.json") as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(out / "ingest.json")
    # the combined files are in place: what the cache holds beyond them can go
    pruned = packs.prune(hashed)
    compacted, compacted_into = packs.compact(hashed, pruned)
    return IngestReport(result, parsed, cached, written, pruned, hashed, compacted,
                        compacted_into)


def load_workbooks_cached(paths: Iterable[str | os.PathLike[str]], *,
                          processed_dir: str | os.PathLike[str],
                          year: int | None = None) -> IngestReport:
    """Load the workbooks ``paths`` through the cache of ``processed_dir``; parse only misses.

    What a report on explicit workbooks (a batch run's commune) reads: the same
    ``LoadResult`` as ``load.load_workbooks(paths, year=year)``, but a workbook cached by an
    ingest (``load_raw_dir``) or by an earlier report is not parsed again. Each one is hashed
    and looked up (``_PackCache.lookup``: with ``year``, else without one when the workbook
    names its years itself); only its own rows are read from its pack (its row groups). Among
    a province's packs a lookup costs about what parsing a small, clean commune workbook
    does (10 ms), and far less than parsing a real office file (a sheet formatted down to row
    100,000: 52 ms), whatever the file holds. A miss is parsed and cached as a pack of one (a
    cache that cannot be written only costs the parse). No combined file is written and
    nothing is pruned: that is the ingest's. A path that is not a readable workbook is an
    error row, as in ``load_workbooks``. The report's ``digests`` hold the SHA-256 of each
    file hashed.
    """
    cache = Path(processed_dir) / CACHE_DIR
    packs = _PackCache(cache, slices=True)
    tables: list[tuple[pa.Table, pa.Table]] = []
    digests: dict[Path, str] = {}
    parsed: list[str] = []
    cached: list[str] = []
    for raw in paths:
        path = Path(raw)
        try:
            digest = file_sha256(path)
        except OSError:  # not found, a folder...: the loader names the problem
            tables.append(_parse_tables(path, year))
            parsed.append(path.name)
            continue
        digests[path] = digest
        key, hit = packs.lookup(digest, year, path.name)
        if hit is not None:
            tables.append(hit)
            cached.append(path.name)
            continue
        tables.append(_parse(path, year, cache, key, best_effort=True))
        parsed.append(path.name)
    return IngestReport(_combine(tables, None), parsed, cached, [], digests=digests)


def _combine(tables: list[tuple[pa.Table, pa.Table]],
             processed_dir: str | os.PathLike[str] | None,
             pending: Iterable[Callable[[], object]] = ()) -> LoadResult:
    """The frames of every workbook's tables, duplicates checked; with ``processed_dir`` also
    written there as ``indicators.parquet`` and ``issues.parquet``, both renamed into place
    once both are complete and the cache writes ``pending`` have run (in this thread, while
    the indicator file is written in another; the error of one that failed is raised, and
    neither file is replaced)."""
    import pyarrow as pa

    ind_table = pa.concat_tables([t[0] for t in tables] or [empty_table(Ind)])
    iss_table = pa.concat_tables([t[1] for t in tables] or [empty_table(Iss)])
    if processed_dir is None:
        for cache_write in pending:
            cache_write()
        return _result(ind_table, iss_table)[0]
    out = Path(processed_dir)
    from concurrent.futures import ThreadPoolExecutor

    with contextlib.ExitStack() as stack:
        ind_tmp = stack.enter_context(temporary_beside(out / INDICATORS_FILE))
        # the indicator file (the longest write) is encoded in a thread from the Arrow table
        # while this thread builds and checks the frames: Arrow's Parquet writer releases the
        # GIL, and after the parse both cores are free
        writer = stack.enter_context(ThreadPoolExecutor(1))
        ind_written = writer.submit(_write_table, _with_pandas_metadata(ind_table, Ind), ind_tmp)
        result, same = _result(ind_table, iss_table)
        iss_tmp = stack.enter_context(temporary_beside(out / ISSUES_FILE))
        _write_parquet(result.issues, iss_tmp)
        for cache_write in pending:  # (the indicator file's write is the longer)
            cache_write()
        ind_written.result()
        if not same:  # the duplicate check changed the rows: write the frame it returned
            _write_parquet(result.indicators, ind_tmp)
        os.replace(ind_tmp, out / INDICATORS_FILE)
        os.replace(iss_tmp, out / ISSUES_FILE)
    return result


def _result(ind_table: pa.Table, iss_table: pa.Table) -> tuple[LoadResult, bool]:
    """The frames of the combined tables, duplicates checked; True when the check kept
    ``ind_table``'s rows as they are (so its Parquet file is the frame's)."""
    from ntm_analysis.load import _check_duplicates

    frame = frame_from_table(ind_table, Ind)
    indicators, dup = _check_duplicates(frame)
    issues = frame_from_table(iss_table, Iss)
    return LoadResult(indicators, _concat_issues([issues, dup])), indicators is frame


def _write_table(table: pa.Table, path: Path) -> None:
    """Write a combined table as Parquet; the pandas metadata in ``table`` gives the dtypes back.

    Without column statistics: the files are only ever read whole (one row group, nothing for
    a filter to skip), and leaving out the min/max of every text column makes the indicator
    file's write about a quarter cheaper (35 → 25 ms at full size); read back, nothing
    differs.
    """
    import pyarrow.parquet as pq

    pq.write_table(table, path, write_statistics=False)


@cache
def _pandas_metadata(schema: type[_Schema]) -> dict[bytes, bytes]:
    """The schema metadata ``Table.from_pandas`` gives a frame of ``schema`` (no index).

    It describes the columns' dtypes, not the rows, so one computed from the empty frame holds
    for every frame of the schema.
    """
    import pyarrow as pa

    return pa.Table.from_pandas(empty_frame(schema), preserve_index=False).schema.metadata


def _with_pandas_metadata(table: pa.Table, schema: type[_Schema]) -> pa.Table:
    """``table`` as ``Table.from_pandas(frame_from_table(table, schema))`` gives it back:
    written to Parquet, the same file as the frame (read back as the frame)."""
    return table.replace_schema_metadata(_pandas_metadata(schema))  # type: ignore[arg-type]
