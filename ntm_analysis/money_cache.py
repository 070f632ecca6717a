"""Cache of the budget and income tables each workbook holds, beside the indicator packs.

A report reads the budget lines and the income series of its workbooks (``load_money``) on
every run. For a notebook over a whole raw folder (a province: 200 workbooks, most of them
without such tables) that is about 12 ms a workbook, seconds a run. With a processed folder the
tables each workbook gave are kept in ``processed/cache/money-*.parquet``, one file per
workbook, named after its content hash (SHA-256), a hash of its file name (the tables'
provenance names the file) and the package's build (``ntm_analysis.build_id``: its version
and a digest of its files): an unchanged workbook is then never read
again for them. The file is a Parquet file without rows whose footer holds each table (the
budget lines, the income series, the issues of each read) as an Arrow IPC stream, and which of
them the workbook has: "no budget table" is remembered as well as a table.

A cache file that cannot be read (damaged, of another format) is a miss: the workbook is read
and the file written anew. A file that cannot be written (a read-only folder) only costs the
read next time. The ingest's pruning (``ingest._PackCache.prune``) deletes the files of
workbooks no longer in the raw folder (or renamed: the file under the old name serves nothing)
and of other builds of the package.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ntm_analysis import build_id
from ntm_analysis.errors import InputError
from ntm_analysis.fsio import file_sha256

log = logging.getLogger(__name__)

#: A money cache file's name: the workbook's digest (32 hex), its file name's hash, the version.
MONEY_NAME = re.compile(r"money-([0-9a-f]{32})-[0-9a-f]{8}-(.+)\.parquet")
#: The money cache files of a folder, as a glob pattern.
MONEY_GLOB = "money-*.parquet"
#: Footer key of the list of tables a cache file holds; each table's key adds ``.<part>``.
_KEY = b"ntm_analysis.money"
#: The tables of one workbook, in this order.
PARTS = ("lines", "budget_issues", "series", "income_issues")


@dataclass(frozen=True)
class WorkbookMoney:
    """The tables one workbook gave: budget lines and income series with the issues of each
    read; ``None`` where the workbook has no such table (or could not be read for it)."""

    lines: pd.DataFrame | None = None
    budget_issues: pd.DataFrame | None = None
    series: pd.DataFrame | None = None
    income_issues: pd.DataFrame | None = None


def read_workbook_money(path: Path) -> WorkbookMoney:
    """Read the budget and income tables of one workbook (no cache)."""
    from ntm_analysis import income
    from ntm_analysis.budget import load_budget, read_grids

    lines = budget_issues = series = income_issues = None
    try:
        grids = read_grids(path)  # once for both readers
    except InputError as error:
        log.debug("%s: not read for money tables (%s)", path.name, error)
        return WorkbookMoney()
    try:
        found = load_budget([path], grids=grids)
    except InputError as error:
        log.debug("%s: no budget table (%s)", path.name, error)
    else:
        lines, budget_issues = found.lines, found.issues
    try:
        read = income.load_income([path], grids=grids)
    except InputError as error:
        log.debug("%s: no income table (%s)", path.name, error)
    else:
        series, income_issues = read.series, read.issues
    return WorkbookMoney(lines, budget_issues, series, income_issues)


def entry_name(digest: str, file_name: str) -> str:
    """The cache file name of the workbook with SHA-256 ``digest`` and name ``file_name``.

    Examples
    --------
    >>> name = entry_name("ab" * 32, "xa.xlsx")
    >>> name.removesuffix(f"-{build_id()}.parquet")
    'money-abababababababababababababababab-d955ea3f'
    """
    named = hashlib.sha256(file_name.encode()).hexdigest()[:8]
    return f"money-{digest[:32]}-{named}-{build_id()}.parquet"


def workbook_money(path: Path, cache: Path | None, digest: str | None = None) -> WorkbookMoney:
    """The tables of the workbook at ``path``, from the cache folder ``cache`` when it holds
    them (else read, and kept there); without ``cache``, read. ``digest`` is the workbook's
    SHA-256 when the caller has it already (the ingest hashed the raw folder)."""
    if cache is None:
        return read_workbook_money(path)
    if digest is None:
        try:
            digest = file_sha256(path)
        except OSError:
            return read_workbook_money(path)  # the readers report the file's problem
    entry = cache / entry_name(digest, path.name)
    found = _read_entry(entry)
    if found is not None:
        return found
    found = read_workbook_money(path)
    _write_entry(entry, found)
    return found


def _read_entry(entry: Path) -> WorkbookMoney | None:
    import pyarrow.parquet as pq

    from ntm_analysis.ingest import _from_ipc

    try:
        meta = pq.read_schema(entry).metadata or {}
        parts = json.loads(meta[_KEY])
        tables = {part: _from_ipc(meta[_KEY + b"." + part.encode()]).to_pandas()
                  for part in parts}
        return WorkbookMoney(**tables)
    except FileNotFoundError:
        return None
    except Exception as error:  # noqa: BLE001 - damaged or foreign: read the workbook again
        log.debug("money cache file %s not used (%s)", entry.name, error)
        return None


def _write_entry(entry: Path, found: WorkbookMoney) -> None:
    """Write ``found`` to ``entry`` the way the ingest writes a pack: serialised in memory,
    written once under a temporary name and renamed into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ntm_analysis.ingest import _ipc_stream, _write_atomically

    try:
        parts = [part for part in PARTS if getattr(found, part) is not None]
        meta = {_KEY + b"." + part.encode():
                _ipc_stream(pa.Table.from_pandas(getattr(found, part), preserve_index=False))
                for part in parts}
        meta[_KEY] = json.dumps(parts).encode()
        out = pa.BufferOutputStream()
        pq.write_table(pa.table({}).replace_schema_metadata(meta), out)
        entry.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(entry, out.getvalue())
    except Exception as error:  # noqa: BLE001 - not cached: the workbook is read next time
        log.debug("money cache file %s not written (%s)", entry.name, error)
