"""Ingest: load every workbook under ``data/raw/`` into ``data/processed/`` as Parquet.

The processed folder is a cache keyed by each raw file's content hash (SHA-256): an unchanged
workbook is never parsed twice; a changed one is re-read. Raw files are only ever read.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ntm_analysis import __version__
from ntm_analysis.errors import InputError, Location
from ntm_analysis.fsio import file_sha256
from ntm_analysis.load import LoadResult, _concat_issues, _error_frame, load_workbook
from ntm_analysis.outputs import atomic_path
from ntm_analysis.schema import Ind, Iss, conform, empty_frame

log = logging.getLogger(__name__)

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
INDICATORS_FILE = "indicators.parquet"
ISSUES_FILE = "issues.parquet"
CACHE_DIR = "cache"


def find_workbooks(raw_dir: str | os.PathLike[str]) -> list[Path]:
    """Return the workbooks under ``raw_dir`` (recursively, sorted; Excel lock files skipped)."""
    root = Path(raw_dir)
    if not root.is_dir():
        raise InputError(Location(file=str(raw_dir)), "folder not found")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in WORKBOOK_SUFFIXES
                  and p.is_file() and not p.name.startswith(("~$", ".")))


@dataclass
class IngestReport:
    """What an ingest did: files read, files served from the cache, rows and issues."""

    result: LoadResult
    parsed: list[str]
    cached: list[str]
    written: list[Path]


def _cache_key(digest: str, year: int | None) -> str:
    return f"{digest[:32]}-{year or 'auto'}-{__version__}"


#: Fewest workbooks to parse before a pool of worker processes pays for itself.
POOL_MIN_FILES = 16


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (without its index) to ``path`` atomically, through pyarrow directly.

    The same file ``DataFrame.to_parquet`` writes (pandas metadata included, so dtypes come
    back), without the pandas I/O layer's per-call overhead.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _parse(path: Path, year: int | None,
           cache_stem: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse one workbook; a file that cannot be opened becomes one error row.

    With ``cache_stem`` the tables are also written to the cache (``<stem>.ind.parquet`` and
    ``<stem>.iss.parquet``), in the process that parsed them.
    """
    try:
        result = load_workbook(path, year=year)
        ind, iss = result.indicators, result.issues
    except InputError as error:
        ind, iss = empty_frame(Ind), _error_frame(error)
    if cache_stem is not None:
        for suffix, frame in (("ind", ind), ("iss", iss)):
            _write_parquet(frame, cache_stem.with_name(f"{cache_stem.name}.{suffix}.parquet"))
    return ind, iss


def _parse_all(paths: list[Path], year: int | None, workers: int,
               stems: list[Path | None]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Parse workbooks in order, in ``workers`` forked processes when there are enough of them.

    Results come back in the order of ``paths`` whatever the pool does, so the output is the
    same as a serial run. Without ``fork`` (or with one worker) the parse stays in-process.
    Each workbook's cache files (``stems``) are written by the process that parsed it.
    """
    if workers > 1 and len(paths) >= POOL_MIN_FILES and \
            "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")  # the parent's imports are reused
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield from pool.map(_parse, paths, [year] * len(paths), stems,
                                chunksize=max(1, len(paths) // (workers * 4)))
        return
    for path, stem in zip(paths, stems, strict=True):
        yield _parse(path, year, stem)


def load_raw_dir(raw_dir: str | os.PathLike[str], *,
                 processed_dir: str | os.PathLike[str] | None = None,
                 year: int | None = None, progress: bool = False,
                 workers: int | None = None) -> IngestReport:
    """Load every workbook under ``raw_dir``, using and refreshing the Parquet cache.

    With ``processed_dir`` the combined tables are written there as ``indicators.parquet`` and
    ``issues.parquet`` (atomically), and each workbook's tables are cached under
    ``processed_dir/cache/`` keyed by its content hash. Workbooks not in the cache are parsed
    in ``workers`` processes (default: the number of cores) when there are at least
    ``POOL_MIN_FILES`` of them; the result does not depend on ``workers``.
    """
    paths = find_workbooks(raw_dir)
    cache = Path(processed_dir) / CACHE_DIR if processed_dir else None
    frames: list[pd.DataFrame] = []
    issues: list[pd.DataFrame] = []
    parsed, cached = [], []
    digests = {path: file_sha256(path) for path in paths}
    found: dict[Path, tuple[pd.DataFrame, pd.DataFrame]] = {}
    to_parse: list[Path] = []
    for path in paths:
        key = _cache_key(digests[path], year)
        if cache is not None and (cache / f"{key}.ind.parquet").exists() and \
                (cache / f"{key}.iss.parquet").exists():
            ind = pd.read_parquet(cache / f"{key}.ind.parquet")
            iss = pd.read_parquet(cache / f"{key}.iss.parquet")
            # provenance names the file as found now (a renamed copy keeps its rows)
            ind[Ind.source_file] = path.name
            if len(iss):
                iss[Iss.source_file] = path.name
            cached.append(path.name)
            found[path] = (ind, iss)
        else:
            to_parse.append(path)
    stems: list[Path | None] = [
        cache / _cache_key(digests[path], year) if cache is not None else None
        for path in to_parse]
    results: Iterable[tuple[pd.DataFrame, pd.DataFrame]] = _parse_all(
        to_parse, year, workers if workers is not None else (os.cpu_count() or 1), stems)
    if progress and len(to_parse) > 1:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(to_parse), desc="workbooks", unit="file")
    for path, (ind, iss) in zip(to_parse, results, strict=True):
        parsed.append(path.name)
        found[path] = (ind, iss)
    for path in paths:
        ind, iss = found[path]
        frames.append(conform(ind, Ind))
        issues.append(conform(iss, Iss))
    indicators = pd.concat(frames, ignore_index=True) if frames else empty_frame(Ind)
    from ntm_analysis.load import _check_duplicates

    indicators, dup = _check_duplicates(conform(indicators, Ind))
    result = LoadResult(indicators, _concat_issues([*issues, dup]))
    written: list[Path] = []
    if processed_dir is not None:
        out = Path(processed_dir)
        for name, frame in ((INDICATORS_FILE, result.indicators), (ISSUES_FILE, result.issues)):
            _write_parquet(frame, out / name)
            written.append(out / name)
        manifest = {
            "version": __version__,
            "files": {p.name: digests[p] for p in paths},
            "rows": len(result.indicators), "issues": len(result.issues),
        }
        with atomic_path(out / "ingest.json") as tmp:
            tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(out / "ingest.json")
    return IngestReport(result, parsed, cached, written)
