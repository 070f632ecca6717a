"""Province-scale batch runs: one notebook for many units and years, in a pool of workers.

A batch is a list of :class:`BatchRun` (one commune × year each), planned from every commune found
in a raw folder (:func:`plan_from_raw_dir`) or from a YAML list (:func:`plan_from_yaml`). The
runs execute in any ``concurrent.futures.Executor`` — by default a process pool with one worker
per core, or a Dask cluster's executor — each into its own folder::

    <out_dir>/<run_id>/<notebook>.ipynb   executed notebook (kept, partial, when it fails)
    <out_dir>/<run_id>/<notebook>.html    the report without code (when it succeeds)
    <out_dir>/<run_id>/manifest.json      parameters, input hashes, status, seconds, error

A failed run is recorded and the others go on. A run whose notebook, parameters and input hashes
equal those of an existing manifest with status ``ok`` is skipped (resume; :func:`check_batch`
says what would run, and why, without running). The batch ends with a summary table
(``batch_summary.csv`` and ``.xlsx``) and an HTML index page (``index.html``) linking every
report, units ranked within their parent unit, and naming the raw workbooks no run could read.
An interrupt stops the workers at once and still writes both (:class:`BatchInterrupted`).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import html
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pandas as pd

from ntm_analysis import build_id
from ntm_analysis.batch_worker import (
    BatchRun,
    RunOutcome,
    error_text,
    execute_run,
    init_worker,
    run_parameters,
)
from ntm_analysis.budget import commune_key
from ntm_analysis.errors import InputError, Location, ParameterError
from ntm_analysis.i18n import check_lang, did_you_mean
from ntm_analysis.i18n import t as text
from ntm_analysis.outputs import atomic_path
from ntm_analysis.run import (  # noqa: F401 - the batch's words too
    MANIFEST,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_RUNNING,
)
from ntm_analysis.schema import Ind, Level, Summ, communes_by_year
from ntm_analysis.text import nfc, slug

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from ntm_analysis.forkserver import ForkServer

log = logging.getLogger(__name__)
T = TypeVar("T")

SUMMARY = "batch_summary"
INDEX = "index.html"
#: Outcome of a run skipped because nothing changed since its last successful run.
STATUS_SKIPPED = "skipped"
#: Outcome of a run that had not ended when the batch was interrupted (Ctrl-C, SIGTERM).
STATUS_INTERRUPTED = "interrupted"
#: Error of such a run; a run stopped midway has a manifest ``failed`` with this error.
INTERRUPTED = ("interrupted: the batch was stopped before this run ended; run the batch again "
               "to go on (the runs that ended are skipped)")


class Bat:
    """Columns of the batch summary table (one row per unit; communes link their report)."""

    parent = "parent"
    rank = "rank"
    unit = Summ.unit
    level = Summ.level
    commune = Summ.commune
    year = Summ.year
    criteria_set = Summ.criteria_set
    criteria_met = Summ.criteria_met
    criteria_total = Summ.criteria_total
    indicators_met = Summ.indicators_met
    indicators_total = Summ.indicators_total
    run_id = "run_id"
    status = "status"
    seconds = "seconds"
    report = "report"
    error = "error"

    columns = [parent, rank, unit, level, commune, year, criteria_set, criteria_met,
               criteria_total, indicators_met, indicators_total, run_id, status, seconds,
               report, error]


@dataclass
class BatchResult:
    """The outcome of every run, the summary table and the files written."""

    outcomes: list[RunOutcome]
    summary: pd.DataFrame
    index_path: Path | None = None
    written: list[Path] = field(default_factory=list)
    #: Workbooks of the raw folder that no run read (:attr:`BatchPlan.unread`).
    unread: list[UnreadFile] = field(default_factory=list)

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status == STATUS_FAILED]

    @property
    def interrupted(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status == STATUS_INTERRUPTED]

    def counts(self) -> dict[str, int]:
        """Number of runs by outcome status (``ok``, ``failed``, ``skipped``, ...)."""
        return dict(sorted(Counter(o.status for o in self.outcomes).items()))


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by an interrupt (Ctrl-C; SIGTERM under ``ntm batch``).

    Raised by :func:`run_batch` once the batch has stopped its workers and their kernels,
    marked the runs that had not ended (status ``interrupted``; the manifest of one stopped
    midway says ``failed``) and written its summary and index, which show what is done. It is a
    ``KeyboardInterrupt``, so code that lets interrupts through still stops; ``result`` is the
    :class:`BatchResult` so far. Running the same batch again goes on where it stopped.
    """

    def __init__(self, result: BatchResult) -> None:
        counts = result.counts()
        ended = len(result.outcomes) - counts.get(STATUS_INTERRUPTED, 0)
        super().__init__(
            f"batch interrupted: {ended} of {len(result.outcomes)} run(s) ended ("
            + ", ".join(f"{n} {s}" for s, n in counts.items())
            + f"); the summary and index show what is done: {result.index_path}; run the "
              "batch again to go on (the runs that ended are skipped)")
        self.result = result


@dataclass
class BatchPlan:
    """The runs of a batch and the indicator table their units come from (for the summary),
    and the workbooks found that no run reads (``unread``: unreadable, or no commune in them)."""

    runs: list[BatchRun]
    indicators: pd.DataFrame
    unread: list[UnreadFile] = field(default_factory=list)
    #: The folder the workbooks were found in (``plan_from_raw_dir``): no output goes there.
    raw_dir: Path | None = None


@dataclass(frozen=True)
class UnreadFile:
    """A workbook of the raw folder that no run of the batch reads, and why."""

    file: str
    problem: str


# --------------------------------------------------------------------------- planning


def _run_id(unit: str, year: int | None, *, tagged: bool = False) -> str:
    """The run folder's name: the unit's slug (with ``tagged``, and a short hash of its exact
    name) and the year."""
    tag = f"-{hashlib.sha256(nfc(unit).encode('utf-8')).hexdigest()[:6]}" if tagged else ""
    return f"{slug(unit)}{tag}_{year if year is not None else 'all'}"


def distinct_run_ids(runs: Sequence[BatchRun]) -> list[BatchRun]:
    """Return ``runs`` with a run id (folder) of their own for units whose names differ only in
    what a slug drops (tone marks: "Bình Thành" and "Bình Thạnh" are both ``binh-thanh``).

    Such runs get the slug and a short hash of the exact name (``binh-thanh-1a2b3c_2024``),
    the same in every batch; the other runs keep the plain slug. Without this, two communes'
    reports would be written into one folder.

    Examples
    --------
    >>> runs = [BatchRun(_run_id(u, 2024), u, 2024, {}, ()) for u in
    ...         ("Bình Thành", "Bình Thạnh", "Kim Phượng")]
    >>> ids = [r.run_id for r in distinct_run_ids(runs)]
    >>> ids[2], ids[0] != ids[1], [i[:11] for i in ids[:2]]
    ('kim-phuong_2024', True, ['binh-thanh-', 'binh-thanh-'])
    """
    units: dict[str, set[str]] = {}
    for run in runs:
        units.setdefault(run.run_id, set()).add(_run_name(run))
    return [replace(run, run_id=_run_id(_run_name(run), run.year, tagged=True))
            if len(units[run.run_id]) > 1 else run for run in runs]


def _run_name(run: BatchRun) -> str:
    """What a run's folder is named after: its unit, and its hamlet for a hamlet's run."""
    return nfc(run.unit if run.hamlet is None else f"{run.unit} {run.hamlet}")


def runs_per_hamlet(runs: Sequence[BatchRun], indicators: pd.DataFrame) -> list[BatchRun]:
    """One run for each hamlet of each commune run (and year), for a notebook about one
    hamlet (``20_hamlet_gaps``: parameter ``hamlet``); a run given its ``hamlet`` is kept.

    The hamlets are the units of level ``hamlet`` whose rows name the run's commune (accents,
    case and "Xã" aside, as a listed unit may be typed: ``budget.commune_key``) in its year; a
    commune without any keeps its one run, which the notebook then fails naming the hamlets it
    has. Each hamlet's folder is
    named after commune and hamlet (``kim-phuong-xom-ao-sen_2024``).

    Examples
    --------
    >>> ind = pd.DataFrame({"commune": ["Kim Phượng"] * 3, "year": [2024] * 3,
    ...                     "level": ["commune", "hamlet", "hamlet"],
    ...                     "unit": ["Kim Phượng", "Xóm Ao Sen", "Xóm Bản Lác"]})
    >>> run = BatchRun("kim-phuong_2024", "Kim Phượng", 2024, {"commune": "Kim Phượng"}, ())
    >>> [(r.run_id, r.parameters["hamlet"]) for r in runs_per_hamlet([run], ind)]
    [('kim-phuong-xom-ao-sen_2024', 'Xóm Ao Sen'), ('kim-phuong-xom-ban-lac_2024', 'Xóm Bản Lác')]
    >>> typed = BatchRun("xa-kim-phuong_2024", "Xã kim phuong", 2024, {}, ())  # a list's unit
    >>> [r.parameters["hamlet"] for r in runs_per_hamlet([typed], ind)]
    ['Xóm Ao Sen', 'Xóm Bản Lác']
    """
    hamlets = indicators[indicators[Ind.level].astype("string").eq(Level.hamlet).fillna(False)
                         & indicators[Ind.unit].notna() & indicators[Ind.commune].notna()]
    pairs = hamlets[[Ind.commune, Ind.year, Ind.unit]].drop_duplicates()
    found: dict[tuple[str, Any], list[str]] = {}
    for commune, year, unit in pairs.itertuples(index=False, name=None):
        key = (commune_key(str(commune)), None if pd.isna(year) else int(year))
        found.setdefault(key, []).append(str(unit))
    out: list[BatchRun] = []
    for run in runs:
        names = sorted(set(found.get((commune_key(run.unit), run.year), [])))
        if run.hamlet is not None or "hamlet" in run.parameters or not names:
            out.append(run)
            continue
        for name in names:
            hamlet_run = replace(run, hamlet=name,
                                 parameters={**run.parameters, "hamlet": name})
            out.append(replace(hamlet_run, run_id=_run_id(_run_name(hamlet_run), run.year)))
    return distinct_run_ids(out)


def plan_from_indicators(indicators: pd.DataFrame, *, raw_dir: str | os.PathLike[str],
                         years: Sequence[int] | None = None,
                         parameters: Mapping[str, Any] | None = None,
                         parent: str | None = None) -> list[BatchRun]:
    """Plan one run per commune × year found in a loaded indicator table.

    The workbooks of a commune are those whose rows name it (its own sheet and its hamlets').

    Examples
    --------
    >>> ind = pd.DataFrame({"commune": ["Kim Phượng", "Kim Phượng", "Tân Dương"],
    ...                     "year": [2024, 2024, 2024],
    ...                     "source_file": ["a.xlsx", "b.xlsx", "c.xlsx"]})
    >>> [(r.run_id, r.inputs) for r in plan_from_indicators(ind, raw_dir="raw")]
    [('kim-phuong_2024', ('raw/a.xlsx', 'raw/b.xlsx')), ('tan-duong_2024', ('raw/c.xlsx',))]
    """
    root = Path(raw_dir)
    df = indicators[indicators[Ind.commune].notna()]
    if years:
        df = df[df[Ind.year].isin(list(years))]
    # each commune's distinct files first (a few per commune), then grouped: no Python call
    # per row or per commune, which a country's 3,300 communes and 1.4 million rows would feel
    pairs = (df[[Ind.commune, Ind.year, Ind.source_file]].drop_duplicates()
             .sort_values([Ind.commune, Ind.year, Ind.source_file], na_position="last"))
    files_of: dict[tuple[Any, Any], list[str]] = {}
    for commune, year, file in pairs.itertuples(index=False, name=None):
        files = files_of.setdefault((commune, year), [])
        if not pd.isna(file):
            files.append(file)
    runs = []
    for (commune, year), files in files_of.items():
        year_v: int | None = None if pd.isna(year) else int(year)
        inputs = tuple(str(root / f) for f in files)
        params: dict[str, Any] = {"commune": str(commune), "paths": list(inputs)}
        if year_v is not None:
            params["year"] = year_v
        params.update(parameters or {})
        runs.append(BatchRun(_run_id(str(commune), year_v), str(commune), year_v, params,
                             inputs, parent))
    return distinct_run_ids(runs)


def plan_from_raw_dir(raw_dir: str | os.PathLike[str], *,
                      processed_dir: str | os.PathLike[str] | None = None,
                      years: Sequence[int] | None = None,
                      parameters: Mapping[str, Any] | None = None,
                      parent: str | None = None) -> BatchPlan:
    """Plan one run for every commune (and year) found in the workbooks under ``raw_dir``.

    Workbooks are read through the Parquet cache of :func:`ntm_analysis.ingest.load_raw_dir`
    when ``processed_dir`` is given, so a repeat batch does not re-parse them.
    """
    from ntm_analysis.ingest import load_raw_dir
    from ntm_analysis.paths import WORKBOOK_SUFFIXES, find_workbooks

    files = find_workbooks(raw_dir)
    if not files:
        raise InputError(Location(file=str(raw_dir)),
                         f"no workbooks ({', '.join(WORKBOOK_SUFFIXES)}) found")
    report = load_raw_dir(raw_dir, processed_dir=processed_dir)
    indicators = report.result.indicators
    # provenance keeps file names; map each back to its path under raw_dir
    by_name = {p.name: p for p in files}
    runs = plan_from_indicators(indicators, raw_dir=raw_dir, years=years,
                                parameters=parameters, parent=parent)
    if years and not runs:
        _no_commune_in(years, indicators, raw_dir)
    communes = {commune_key(r.unit) for r in runs}
    attached, unnamed = _money_workbooks(files, indicators, report.result.issues,
                                         report.digests, processed_dir, communes=communes)
    if len(communes) == 1:  # a hamlet's workbook naming no commune: the one commune's (as the
        # readiness report reads it, with a warning)
        alone = [p for p in files if p.name in _naming_no_commune(indicators)]
        if alone:
            attached.setdefault(next(iter(communes)), []).extend(alone)
    fixed = []
    for run in runs:
        # a commune's budget and income workbooks (they hold no indicator row), which its
        # reports' money sections read, and a hamlet's naming no commune (see above)
        extra = [p for p in attached.get(commune_key(run.unit), []) if p.name not in {
            Path(i).name for i in run.inputs}]
        inputs = tuple(str(by_name[Path(p).name].resolve()) for p in run.inputs) + tuple(
            str(p.resolve()) for p in extra)
        params = dict(run.parameters)
        if params.get("paths") == list(run.inputs):
            params["paths"] = list(inputs)
        if processed_dir is not None:
            params.setdefault("processed_dir", str(Path(processed_dir).resolve()))
        fixed.append(BatchRun(run.run_id, run.unit, run.year, params, inputs, run.parent))
    unread = _unread(files, indicators, report.result.issues, base=Path(raw_dir),
                     attached={p for found in attached.values() for p in found},
                     unnamed=unnamed)
    return BatchPlan(fixed, indicators, unread, raw_dir=Path(raw_dir))


def _money_workbooks(files: Sequence[Path], indicators: pd.DataFrame, issues: pd.DataFrame,
                     digests: Mapping[Path, str], processed_dir: str | os.PathLike[str] | None,
                     *, communes: set[str]) -> tuple[dict[str, list[Path]], dict[Path, str]]:
    """The budget and income workbooks of a raw folder by the commune their tables name
    (``budget.commune_key``), and those whose tables name none of the batch's communes, with
    why. A table naming no commune belongs to the batch's one commune, when it has one.

    Read through the money cache (``money_cache``) when ``processed_dir`` is given, which the
    runs read them from again.
    """
    from ntm_analysis.ingest import CACHE_DIR
    from ntm_analysis.money_cache import workbook_money
    from ntm_analysis.schema import Iss

    with_rows = set(indicators[Ind.source_file].unique())
    failed = set(issues.loc[issues[Iss.severity] == "error", Iss.source_file].dropna())
    summaries = set(issues.loc[issues[Iss.code] == "criteria_summary", Iss.source_file])
    cache = Path(processed_dir) / CACHE_DIR if processed_dir else None
    found: dict[str, list[Path]] = {}
    unnamed: dict[Path, str] = {}
    for path in files:
        if path.name in with_rows or path.name in failed:
            continue
        tables = workbook_money(path, cache, digests.get(path))
        names: dict[str, str] = {}  # key → the name as the tables write it
        for frame in (tables.lines, tables.series):
            if frame is not None and len(frame) and Ind.commune in frame.columns:
                names.update((commune_key(c), str(c)) for c in frame[Ind.commune].dropna()
                             if commune_key(c))
        named = set(names)
        if tables.lines is None and tables.series is None:
            unnamed[path] = (
                "it only sums up the criteria (a 'Số chỉ tiêu đạt' table): the indicator "
                "tables give them" if path.name in summaries else
                "no indicator, budget or income table found (expected an appendix with 'Nội "
                "dung' and 'Hiện trạng' or 'Đánh giá' columns)")
            continue
        if not named and len(communes) == 1:
            named = set(communes)
        for key in sorted(named & communes):
            found.setdefault(key, []).append(path)
        if not named & communes:
            unnamed[path] = (
                "its budget or income tables name no commune of the batch (expected 'Xã …' in "
                "their title)" if not named else
                f"its budget or income tables are of {', '.join(sorted(names.values()))}, "
                "which no indicator workbook of the folder names")
    return found, unnamed


def _naming_no_commune(indicators: pd.DataFrame) -> set[str]:
    """The workbooks (file names) whose indicator rows name no commune at all."""
    named = set(indicators.loc[indicators[Ind.commune].notna(), Ind.source_file].unique())
    return set(indicators[Ind.source_file].unique()) - named


def _no_commune_in(years: Sequence[int], indicators: pd.DataFrame,
                   raw_dir: str | os.PathLike[str]) -> None:
    """Raise ``ParameterError`` for a year filter that leaves no run, saying which years the
    workbooks hold (a mistyped ``--year 2204`` would otherwise make an empty batch that
    succeeds)."""
    found = "; ".join(f"{year} ({len(names)} commune{'s' if len(names) > 1 else ''})"
                      for year, names in communes_by_year(indicators).items())
    asked = ", ".join(str(y) for y in years)
    raise ParameterError(f"{os.fspath(raw_dir)}: no commune has rows for {asked}; the workbooks "
                         f"hold {found or 'no commune of any year'}")


def _unread(files: Sequence[Path], indicators: pd.DataFrame, issues: pd.DataFrame, *,
            base: Path, attached: set[Path] | None = None,
            unnamed: Mapping[Path, str] | None = None) -> list[UnreadFile]:
    """The workbooks among ``files`` that no run will read, with why: their first error, or
    their rows name no commune, or (``unnamed``, from ``_money_workbooks``) their budget or
    income tables belong to no commune of the batch, or they hold no table at all. The batch
    says so rather than drop them. (``attached``: the workbooks given to runs though no
    indicator row names their commune: budget and income workbooks, and a hamlet's naming no
    commune beside the batch's one commune.)"""
    from ntm_analysis.schema import Iss
    from ntm_analysis.vocab import Severity

    no_commune = _naming_no_commune(indicators)
    with_rows = set(indicators[Ind.source_file].unique()) - no_commune
    errors = issues[issues[Iss.severity] == Severity.error]
    first_error = errors.drop_duplicates(Iss.source_file).set_index(Iss.source_file)[Iss.problem]
    unread = []
    for path in files:
        if path.name in with_rows or path in (attached or set()):
            continue
        if path.name in first_error.index:
            problem = str(first_error[path.name])
        elif path.name in no_commune:
            problem = "its indicator rows name no commune (expected 'Xã …' in a title or sheet)"
        elif path in (unnamed or {}):
            problem = (unnamed or {})[path]
        else:
            continue
        shown = os.path.relpath(path, base) if path.is_relative_to(base) else str(path)
        unread.append(UnreadFile(shown, problem))
    return unread


def plan_from_yaml(path: str | os.PathLike[str]) -> BatchPlan:
    """Plan the runs listed in a YAML file.

    The file holds ``parameters`` shared by every run (optional) and ``runs``, a list of
    mappings with ``unit`` (or ``commune``, the notebooks' name for it), ``year`` (optional),
    ``parent`` (optional), ``inputs`` (workbooks, folders of workbooks or patterns such as
    ``raw/kim_phuong_*.xlsx``, relative to the YAML file) and ``parameters`` (optional)::

        parameters: {lang: vi}
        runs:
          - unit: Kim Phượng
            parent: Định Hóa
            year: 2024
            inputs: [raw/kim_phuong_2024_xa_kieu_mau.xlsx]

    A file that is only the list of runs (no ``runs:`` key) is read the same way.

    Raises
    ------
    ParameterError
        When the file is not such a list (naming the entry and what was expected): a key the
        list does not know is refused, with the nearest known key, since a misspelt ``year`` or
        ``parameters`` would otherwise be left out without a word.
    """
    import yaml

    from ntm_analysis.load import load_workbooks

    p = Path(path)
    if not p.is_file():
        raise InputError(Location(file=str(p)), "batch list not found")
    try:  # bytes: PyYAML reads UTF-8, or UTF-16 with its byte order mark (Windows Notepad)
        doc = yaml.safe_load(p.read_bytes()) or {}
    except yaml.reader.ReaderError as error:  # not UTF-8 (a Windows code page, say)
        raise ParameterError(f"{p.name}, byte {error.position + 1}: not {error.encoding} text "
                             f"({error.reason}); save the list as UTF-8") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ParameterError(f"{p.name}{where}: not valid YAML ({problem})") from None
    if isinstance(doc, list):  # only the runs
        doc = {"runs": doc}
    entries = doc.get("runs") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ParameterError(f"{p.name}: expected a key 'runs' holding a list of units")
    _known_keys(p.name, doc, _LIST_KEYS)
    shared = _mapping(p.name, "parameters", doc.get("parameters"))
    runs = []
    for i, entry in enumerate(entries, start=1):
        given = entry
        if isinstance(entry, dict) and "commune" in entry and "unit" not in entry:
            entry = {("unit" if k == "commune" else k): v for k, v in entry.items()}
        if not isinstance(entry, dict) or not entry.get("unit") or not entry.get("inputs"):
            raise ParameterError(f"{p.name}, run {i}: expected a mapping with 'unit' and "
                                 f"'inputs' (a list of workbook paths), got {given!r}")
        unit = nfc(str(entry["unit"]))
        _known_keys(f"{p.name}, run {i} ({unit})", entry, _RUN_KEYS)
        year = entry.get("year")
        if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
            raise ParameterError(f"{p.name}, run {i} ({unit}): 'year' must be a whole number, "
                                 f"got {year!r}")
        inputs = _list_inputs(p, i, unit, entry["inputs"])
        params: dict[str, Any] = {"commune": unit, "paths": list(inputs)}
        if year is not None:
            params["year"] = year
        params.update(shared)
        params.update(_mapping(f"{p.name}, run {i} ({unit})", "parameters",
                               entry.get("parameters")))
        parent = entry.get("parent")
        runs.append(BatchRun(_run_id(unit, year), unit, year, params, inputs,
                             None if parent is None else nfc(str(parent))))
    dup = sorted(f"{u} {y if y is not None else ''}".strip()
                 for (u, y), n in Counter((r.unit, r.year) for r in runs).items() if n > 1)
    if dup:
        raise ParameterError(f"{p.name}: the same unit and year appear twice: {', '.join(dup)}")
    runs = distinct_run_ids(runs)
    all_inputs = sorted({x for r in runs for x in r.inputs})
    return BatchPlan(runs, load_workbooks(all_inputs).indicators)


#: The keys of a batch list, and of each of its runs ("commune" is read as "unit").
_LIST_KEYS = ("runs", "parameters")
_RUN_KEYS = ("unit", "parent", "year", "inputs", "parameters")


def _known_keys(where: str, mapping: dict[Any, Any], known: Sequence[str]) -> None:
    """Refuse a key of ``mapping`` that is not in ``known``, naming the nearest known one."""
    for key in mapping:
        if str(key) not in known:
            hint = did_you_mean(str(key), known) or (
                " (a notebook parameter goes under 'parameters')" if "parameters" in known
                else "")
            raise ParameterError(f"{where}: unknown key {str(key)!r}{hint}; expected "
                                 f"{', '.join(repr(k) for k in known)}")


def _mapping(where: str, key: str, value: object) -> dict[str, Any]:
    """``value`` of ``key`` as a mapping of notebook parameters ({} when absent)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParameterError(f"{where}: '{key}' must be a mapping of notebook parameters "
                             f"(such as {{lang: en}}), got {value!r}")
    return {str(k): v for k, v in value.items()}


def _list_inputs(listing: Path, i: int, unit: str, given: object) -> tuple[str, ...]:
    """The workbooks of a listed run's ``inputs``: paths relative to the list, a folder giving
    the workbooks under it (as a command's PATHS do), a pattern (``raw/kim_phuong_*.xlsx``)
    the workbooks it matches."""
    from ntm_analysis.paths import find_workbooks, is_workbook

    inputs: list[str] = []
    for x in given if isinstance(given, list) else [given]:
        path = (listing.parent / str(x)).resolve()
        if any(ch in str(x) for ch in "*?[") and not path.exists():
            matches = sorted(p.resolve() for p in map(Path, glob.glob(
                os.path.join(listing.parent, str(x)))) if is_workbook(p))
            if not matches:
                raise InputError(Location(file=listing.name),
                                 f"run {i} ({unit}): the pattern {x} matches no workbook")
            inputs.extend(str(m) for m in matches)
        elif path.is_dir():
            found = find_workbooks(path)
            if not found:
                raise InputError(Location(file=listing.name),
                                 f"run {i} ({unit}): the folder {x} holds no workbook")
            inputs.extend(str(w) for w in found)
        elif path.is_file():
            inputs.append(str(path))
        else:
            raise InputError(Location(file=listing.name),
                             f"run {i} ({unit}): input {x} not found (looked for {path})")
    return tuple(dict.fromkeys(inputs))


# --------------------------------------------------------------------------- the batch

#: Lock file that keeps two batch runs off the same output folder.
LOCK = ".ntm-batch.lock"


#: The notebook a batch runs unless told otherwise: the yearly readiness report.
DEFAULT_NOTEBOOK = "10_readiness"


def run_batch(plan: BatchPlan | Sequence[BatchRun], *,
              notebook: str | os.PathLike[str] = DEFAULT_NOTEBOOK,
              out_dir: str | os.PathLike[str], workers: int | None = None,
              executor: Executor | None = None, kernel_name: str = "python3",
              resume: bool = True, progress: bool = False, timeout: int | None = None,
              html_report: bool = True, lang: str = "vi",
              spare_kernels: bool = True, fork_kernels: bool = True) -> BatchResult:
    """Run ``notebook`` once per planned run, in parallel, then write the summary and index.

    The output folder is locked for the length of the batch (:class:`ntm_analysis.fsio.RunLock`):
    a second batch on the same folder raises :class:`ntm_analysis.fsio.LockError` naming the
    first. Temporary files left by an interrupted batch are removed first; every file is written
    under a temporary name and renamed, so a killed batch leaves whole files only, and the next
    batch redoes the runs that did not finish.

    Parameters
    ----------
    plan
        A :class:`BatchPlan` (or a list of runs: the summary then has no attainment figures).
    notebook
        The notebook to execute (a path, or a bare name of a notebook in ``notebooks/``); by
        default the readiness report ``notebooks/10_readiness.ipynb``.
    out_dir
        Folder of the run folders, the summary table and ``index.html``.
    workers
        Processes of the default pool (default: ``os.cpu_count()``); ignored with ``executor``.
    executor
        Any ``concurrent.futures.Executor`` (e.g. ``distributed.Client(...).get_executor()``).
        A thread pool shares one working directory and environment between its runs: use
        processes to run in parallel.
    resume
        Skip runs whose notebook, parameters and input hashes match an ``ok`` manifest and whose
        recorded files are intact.
    progress
        Show a progress bar across runs.
    timeout
        Seconds a cell may run (``ntm batch --cell-timeout``): a run whose cell runs longer
        fails (its kernel ended) and the others go on. None: no limit.
    lang
        Language of the index page: ``"vi"`` or ``"en"``.
    spare_kernels
        Run each notebook in its worker's spare kernel, started while the previous run executed
        (:mod:`ntm_analysis.kernels`); false starts every kernel when its run begins, so runs
        are strictly one after the other within a worker (the benchmark's serial reference).
    fork_kernels
        Fork each kernel from a template process that imported and warmed pandas, matplotlib
        and the library once (:mod:`ntm_analysis.forkserver`), instead of starting a new
        interpreter; each run still gets a fresh process of its own, and the template never
        runs notebook code. The batch starts one template, while its workers spawn, and all
        its workers share it; with an ``executor`` from outside, each worker starts its own.
        False starts plain kernels (as ``ntm run`` does), and so does
        ``spare_kernels=False`` (the strictly serial reference touches no pool).

    Raises
    ------
    BatchInterrupted
        On an interrupt (Ctrl-C, a notebook's "interrupt kernel"), once the workers are stopped
        and the summary and index of what is done are written; its ``result`` is the batch's
        :class:`BatchResult` so far.
    InputError
        The notebook is not found, or the output folder cannot be made.
    ParameterError
        A parameter the notebook does not declare, or of the wrong type, or two runs with one
        run id (folder); before any run starts.
    LockError
        Another live batch is writing to ``out_dir``.
    UsageError
        Called from a script's top level outside ``if __name__ == "__main__":`` without an
        ``executor``: the batch's own workers would run the script again as they start
        (:mod:`ntm_analysis.mainguard`). Raised before anything is read or written.
    """
    from ntm_analysis.fsio import RunLock, remove_temporaries
    from ntm_analysis.mainguard import check_main_guard
    from ntm_analysis.paths import check_outside

    check_lang(lang)
    # the batch's own workers import the main module again as they start
    check_main_guard(own_workers=executor is None)
    nb, root, runs, indicators, check = _checker(plan, notebook, kernel_name, resume)
    unread = list(plan.unread) if isinstance(plan, BatchPlan) else []
    if isinstance(plan, BatchPlan) and plan.raw_dir is not None:
        check_outside(out_dir, [plan.raw_dir], what="batch's output folder")
    out = Path(out_dir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file there, or in its path; no permission
        raise InputError(Location(file=str(out)),
                         f"cannot make the batch's output folder here ({error.strerror}): "
                         "expected a folder, or a path where one can be made") from None
    # held interrupts (once the batch stops, or its runs end) wait until the lock is released
    holding = contextlib.ExitStack()
    with holding, RunLock(out / LOCK):
        remove_temporaries(out)
        outcomes: dict[str, RunOutcome] = {}
        todo: list[BatchRun] = []
        for run in runs:
            checked = check(run, out)  # every run's parameters and inputs, before the first runs
            if checked.reason is None:
                report = _report_of(checked.folder, _read_json(checked.folder / MANIFEST))
                outcomes[run.run_id] = RunOutcome(run.run_id, STATUS_SKIPPED, 0.0,
                                                  str(checked.folder), report)
            else:
                todo.append(run)
        figures: list[list[dict[str, Any]]] = []

        def while_running() -> None:  # the summary's figures do not depend on the runs
            figures.append(batch_figures(runs, indicators))
            # and the summary workbook, written once the last run ends, is written warm
            from ntm_analysis import excel

            excel.warm_up()

        def finish() -> BatchResult:
            ordered = [outcomes[r.run_id] for r in runs]
            summary = summarise_batch(runs, ordered, indicators, out_dir=out,
                                      figures=figures[0] if figures else None)
            written = []
            for suffix in ("csv", "xlsx"):
                path = out / f"{SUMMARY}.{suffix}"
                with atomic_path(path) as tmp:
                    if suffix == "csv":
                        summary.to_csv(tmp, index=False, encoding="utf-8")
                    else:
                        from ntm_analysis.excel import write_table

                        write_table(summary, tmp, sheet_name=SUMMARY)
                written.append(path)
            index = out / INDEX
            with atomic_path(index) as tmp:
                tmp.write_text(render_index(summary, lang=lang, unread=unread), encoding="utf-8")
            written.append(index)
            return BatchResult(ordered, summary, index, written, unread)

        if not todo:
            return finish()
        return _execute_all(todo, nb=nb, out=out, root=root, workers=workers,
                            executor=executor, kernel_name=kernel_name, timeout=timeout,
                            html_report=html_report, progress=progress, outcomes=outcomes,
                            spare_kernels=spare_kernels, fork_kernels=fork_kernels,
                            while_running=while_running, finish=finish, holding=holding)


@dataclass(frozen=True)
class RunCheck:
    """What a batch would do with one run (:func:`check_batch`)."""

    run: BatchRun
    folder: Path
    #: Why it would run (``not run yet``, ``inputs changed: raw/x.xlsx``, ... see
    #: :func:`ntm_analysis.run.stale_reason`); None when it would be skipped as unchanged.
    reason: str | None


def check_batch(plan: BatchPlan | Sequence[BatchRun], *,
                notebook: str | os.PathLike[str] = DEFAULT_NOTEBOOK,
                out_dir: str | os.PathLike[str], kernel_name: str = "python3",
                resume: bool = True) -> list[RunCheck]:
    """Say what :func:`run_batch` would do with the same arguments, running and writing nothing.

    Every run is checked as the batch checks it before its first run starts (its parameters
    against the notebook's, its inputs found and hashed) and compared with its folder's
    manifest: it would run (and why) or be skipped as unchanged. ``ntm batch --dry-run``.

    Raises
    ------
    ParameterError, InputError
        As :func:`run_batch` would, before running anything.
    """
    _, _, runs, _, check = _checker(plan, notebook, kernel_name, resume)
    out = Path(out_dir).resolve()
    return [check(run, out) for run in runs]


def _checker(plan: BatchPlan | Sequence[BatchRun], notebook: str | os.PathLike[str],
             kernel_name: str, resume: bool
             ) -> tuple[Path, Path, list[BatchRun], pd.DataFrame | None,
                        Callable[[BatchRun, Path], RunCheck]]:
    """The notebook, project root, runs and indicators of a batch, and the check of a run."""
    from ntm_analysis.paths import project_root
    from ntm_analysis.run import find_notebook, notebook_parameters, prepare_run, stale_reason

    root = project_root()
    try:
        nb = find_notebook(notebook, root=root)
    except ParameterError:
        raise InputError(Location(file=str(notebook)), "notebook not found") from None
    declared = notebook_parameters(nb)
    if isinstance(plan, BatchPlan):
        runs, indicators = list(plan.runs), plan.indicators
    else:
        runs, indicators = list(plan), None
    if "hamlet" in declared and indicators is not None:  # a notebook about one hamlet
        runs = runs_per_hamlet(runs, indicators)
    shared_ids = sorted(i for i, n in Counter(run.run_id for run in runs).items() if n > 1)
    if shared_ids:
        raise ParameterError(
            f"two runs would write into the same folder: {', '.join(shared_ids)}; give each run "
            "an id of its own (see distinct_run_ids)")

    def check(run: BatchRun, out: Path) -> RunCheck:
        folder = out / run.run_id
        planned = prepare_run(nb, parameters=run_parameters(run, declared), out_dir=folder,
                              inputs=run.inputs, kernel_name=kernel_name, root=root)
        reason = (stale_reason(folder, planned.fingerprint) if resume
                  else "run again on request (no resume)")
        return RunCheck(run, folder, reason)

    return nb, root, runs, indicators, check


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _execute_all(todo: Sequence[BatchRun], *, nb: Path, out: Path, root: Path,
                 workers: int | None, executor: Executor | None, kernel_name: str,
                 timeout: int | None, html_report: bool, progress: bool,
                 outcomes: dict[str, RunOutcome], spare_kernels: bool = True,
                 fork_kernels: bool = True, while_running: Callable[[], None] = lambda: None,
                 finish: Callable[[], T], holding: contextlib.ExitStack | None = None) -> T:
    """Run ``todo`` in the pool and record each outcome in ``outcomes``; return ``finish()``.

    The runs are submitted largest first (:func:`largest_first`), so that the batch does not
    end with one worker still on a large report while the others have nothing left to do.
    ``while_running`` is called once every run is submitted: work of this process that the
    runs do not need, done while the workers start. ``finish`` (the batch's summary and
    index) runs in a thread once every run has an outcome, while the workers and the kernel
    servers end: their shutdown takes a few tenths of a second that the summary need not wait
    for. Both are waited for before this returns, and their exceptions propagate.

    A worker process that ends abruptly (killed, out of memory, a crash in native code) breaks
    the batch's own pool, and every run still in it with it. The runs that had not started are
    then run in a new pool; those that had started (their manifest says ``running``, written
    by this batch) are run again at the end, each alone in a pool of its own, so that a run
    that ends its worker again is failed by itself (its manifest too) and the others are
    done. When no run had started (a worker died as it started), they all fail, as there is
    nothing to tell them apart.

    An interrupt (``KeyboardInterrupt``: Ctrl-C, or a notebook's "interrupt kernel") cancels
    the runs not started and stops the batch's own workers at once (they ignore SIGINT
    themselves, :func:`~ntm_analysis.batch_worker.init_worker`; their kernels end with
    them); the runs that had not ended are recorded as ``interrupted`` (the manifest of one
    stopped midway says ``failed``), the temporary files of what they were writing are
    removed once the workers and the kernel template have ended, ``finish()`` still runs,
    and :class:`BatchInterrupted` is raised with its result. A second interrupt meanwhile
    waits for it, as does one once every run has ended (the summary is then written and
    returned as usual), until the caller closes ``holding`` (:func:`run_batch`: once its lock
    is released). With an executor from outside, its runs not started are cancelled; one
    already running there ends there.
    """
    own = executor is None
    fork = fork_kernels and spare_kernels
    todo = largest_first(todo)
    finisher = ThreadPoolExecutor(1, thread_name_prefix="ntm-batch-summary")
    finishing: Future[T] | None = None
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    since = time.time()
    interrupted = False
    # a second interrupt waits while the batch stops (until the caller closes ``holding``)
    holding = holding if holding is not None else contextlib.ExitStack()
    try:
        with contextlib.ExitStack() as stack:  # ends the pools, then the servers
            # one kernel template for the batch's own workers (they run on this machine), warming
            # up while they start; the workers of an executor from outside start their own
            shared = _shared_fork_server() if own and fork else None
            if shared is not None:
                stack.callback(shared.stop)  # after the workers: it ends (reaps) any kernel left
            context = stack.enter_context(_worker_context()) if own else None
            socket_path = shared.socket_path if shared is not None else None
            bar = _Progress(len(todo), enabled=progress)
            stack.callback(bar.close)
            submitted = False

            def record(run: BatchRun, outcome: RunOutcome) -> None:
                if outcome.status == STATUS_FAILED:
                    log.warning("run %s failed: %s", run.run_id, outcome.error)
                outcomes[run.run_id] = outcome
                bar.step(run.run_id)

            def pool_round(runs: Sequence[BatchRun], n: int) -> list[BatchRun]:
                """Run ``runs`` in a pool of ``n`` workers; return those its breaking lost."""
                nonlocal submitted
                pool: Executor
                if executor is None:
                    pool = ProcessPoolExecutor(max_workers=n, mp_context=context,
                                               initializer=init_worker,
                                               initargs=(os.getpid(),))
                    stack.callback(pool.shutdown)  # the last one ends while the summary is written
                else:
                    pool = executor
                # runs are taken in order: the last n runs need no spare kernel after them (with
                # another executor the number of workers is unknown, and a spare too many is
                # only wasted)
                last = len(runs) - n if own else len(runs)
                futures: dict[Future[RunOutcome], BatchRun] = {}
                lost: list[BatchRun] = []
                try:
                    for i, run in enumerate(runs):
                        futures[pool.submit(execute_run, run, str(nb), str(out / run.run_id),
                                            kernel_name, timeout, html_report, str(root),
                                            spare_kernels, i < last, fork, socket_path)] = run
                    if not submitted:
                        submitted = True
                        while_running()
                    for future in as_completed(futures):
                        run = futures[future]
                        try:
                            outcome = future.result()
                        except Exception as exc:  # noqa: BLE001 - a lost worker fails its run
                            if own and isinstance(exc, BrokenProcessPool):
                                lost.append(run)  # decided below, with the others it lost
                                continue
                            outcome = _failed(run, out, error_text(exc))
                        record(run, outcome)
                except KeyboardInterrupt:
                    holding.enter_context(_holding_interrupts())
                    if own:  # its runs not started fail with the pool it breaks
                        _stop_workers(cast(ProcessPoolExecutor, pool))
                    else:
                        for future in futures:
                            future.cancel()
                    raise
                return lost

            queue: Sequence[BatchRun] = todo
            again: list[BatchRun] = []
            try:
                while queue:
                    lost = pool_round(queue, min(n_workers, len(queue)))
                    running = [run for run in lost if _started_since(out / run.run_id, since)]
                    if lost and not running:  # a worker died as it started: no run to suspect
                        for run in lost:
                            record(run, _failed(run, out, BROKEN_POOL))
                        break
                    if running:
                        log.warning("a worker process ended abruptly while running %s; the "
                                    "runs not yet started go on in new workers, and these run "
                                    "again, each alone, at the end",
                                    ", ".join(run.run_id for run in running))
                    again += running
                    queue = [run for run in lost if run not in running]
                for run in again:  # each alone: one that ends its worker again is the cause
                    if pool_round([run], 1):
                        record(run, _failed(run, out, WORKER_DIED, manifest=True))
            except KeyboardInterrupt:
                interrupted = True
            # an interrupt from here on waits: for the summary, and for what follows
            holding.enter_context(_holding_interrupts())
            stopped = [run for run in todo if run.run_id not in outcomes] if interrupted else []
            for run in stopped:  # the workers are stopped: told here
                outcomes[run.run_id] = (
                    _ended_since(run, out, since)  # its outcome was on its way
                    or _failed(run, out, INTERRUPTED, manifest=True,
                               status=STATUS_INTERRUPTED))
            # the summary is written while leaving the stack ends the pool, then the servers
            finishing = finisher.submit(finish)
        if own:  # the workers and the kernel template (its kernels) have ended
            _remove_cut_writes(out, stopped)
    finally:
        finisher.shutdown()  # never left writing after the batch (and its lock) ended
    assert finishing is not None  # the loop above ended normally, or was interrupted
    result = finishing.result()
    if interrupted:
        raise BatchInterrupted(cast(BatchResult, result))
    return result


#: Error of runs lost with a worker that died as it started (nothing tells them apart).
BROKEN_POOL = ("a worker process of the batch ended abruptly as it started (killed, out of "
               "memory, or a crash: its error, if any, is on the batch's standard error); "
               "this run did not start")
#: Error of a run whose worker ended abruptly twice while running it (the second time alone).
WORKER_DIED = ("the worker process running this report ended abruptly, twice (killed, out of "
               "memory, or a crash in native code; the second time it ran alone); the other "
               "runs went on")


def _failed(run: BatchRun, out: Path, error: str, *, manifest: bool = False,
            status: str = STATUS_FAILED) -> RunOutcome:
    """A failed outcome of ``run`` (or of ``status``); with ``manifest``, its manifest (left
    ``running`` by the worker that died or was stopped) says ``failed`` too."""
    folder = out / run.run_id
    if manifest:
        data = _read_json(folder / MANIFEST)
        if data.get("status") == STATUS_RUNNING:
            from ntm_analysis.run import _now, write_manifest

            data.update(status=STATUS_FAILED, error=error, finished=_now())
            write_manifest(data, folder)
    return RunOutcome(run.run_id, status, 0.0, str(folder), None, error)


def _remove_cut_writes(out: Path, stopped: Sequence[BatchRun]) -> None:
    """Remove the temporary files the ``stopped`` runs' workers and kernels were writing when
    the batch stopped them (an export, a figure, a table midway): their folders then hold whole
    files only, as after a run that ended. Called once the batch's workers and its kernel
    template have ended (a forked kernel ends with the template; a plain kernel, started when
    the template could not be, within a second of its worker): the next batch removes, as it
    starts, anything a late writer left."""
    from ntm_analysis.fsio import remove_temporaries

    for run in stopped:
        remove_temporaries(out / run.run_id)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the batch's own workers now, what they run included, and wait for them.

    SIGTERM ends a worker at once (its kernel's launcher sees it die and ends the kernel, and
    the fork server reaps it); one still alive after five seconds is killed. Python 3.14 has
    ``ProcessPoolExecutor.terminate_workers``; before it the pool's processes are only in its
    ``_processes`` mapping.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    deadline = time.monotonic() + 5.0
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
    pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def handling_signal(signum: int, handler: Callable[[int, Any], None]) -> Iterator[None]:
    """Handle signal ``signum`` with ``handler`` for the block, then as before (in the main
    thread, where Python delivers signals; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def _holding_interrupts() -> contextlib.AbstractContextManager[None]:
    """While a batch stops or writes its summary, a further Ctrl-C only says to wait."""

    def wait(signum: int, frame: object) -> None:
        log.warning("the batch is stopping: its workers are ended and its summary written")

    return handling_signal(signal.SIGINT, wait)


def _report_of(folder: Path, manifest: Mapping[str, Any]) -> str | None:
    """The path of the HTML report a run's manifest lists, if any."""
    html_name = (manifest.get("outputs") or {}).get("html")
    return str(folder / html_name) if html_name else None


def _manifest_since(folder: Path, since: float) -> dict[str, Any] | None:
    """The manifest of the run in ``folder`` when it was written after ``since``, else None."""
    path = folder / MANIFEST
    try:
        if path.stat().st_mtime < since:
            return None
    except OSError:
        return None
    return _read_json(path)


def _ended_since(run: BatchRun, out: Path, since: float) -> RunOutcome | None:
    """The outcome of ``run`` told by its manifest when the run ended after ``since`` (its
    worker wrote it, but the outcome had not reached this process), else None."""
    folder = out / run.run_id
    manifest = _manifest_since(folder, since) or {}
    status, seconds = manifest.get("status"), manifest.get("seconds")
    seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    if status == STATUS_OK:
        return RunOutcome(run.run_id, STATUS_OK, seconds, str(folder),
                          _report_of(folder, manifest))
    if status == STATUS_FAILED:
        return RunOutcome(run.run_id, STATUS_FAILED, seconds, str(folder), None,
                          str(manifest.get("error") or "failed"))
    return None


def _started_since(folder: Path, since: float) -> bool:
    """Whether the run in ``folder`` was started after ``since`` and has not ended: its
    manifest says ``running`` and was written then (the runner writes it first)."""
    return (_manifest_since(folder, since) or {}).get("status") == STATUS_RUNNING


def largest_first(runs: Sequence[BatchRun]) -> list[BatchRun]:
    """Return ``runs`` ordered by the size of their input files, largest first (stable).

    A report's time grows with its commune's hamlets, and so do its workbooks. Taken in this
    order, the runs left at the end of a batch are its shortest ones, so its workers finish at
    nearly the same time (the "largest first" rule of scheduling). A missing file counts as
    empty: its run fails quickly and says why.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name, size in (("a", 10), ("b", 30)):
    ...     _ = (folder / f"{name}.xlsx").write_bytes(b"x" * size)
    >>> runs = [BatchRun(n, n, 2024, {}, (str(folder / f"{n}.xlsx"),)) for n in "abc"]
    >>> [r.run_id for r in largest_first(runs)]
    ['b', 'a', 'c']
    """

    def size(path: str) -> int:
        try:
            return os.stat(path).st_size
        except OSError:
            return 0

    return sorted(runs, key=lambda run: -sum(size(p) for p in run.inputs))


@contextlib.contextmanager
def _worker_context() -> Iterator[BaseContext]:
    """Yield the ``multiprocessing`` context of the batch's own workers; clean up after them.

    On Linux the workers are forked from ``multiprocessing``'s fork server: a new interpreter
    (not a copy of this process, which may have run kernels: zmq and asyncio state, helper
    threads) that imports :data:`~ntm_analysis.batch_worker.WORKER_MODULES` once (through
    :mod:`ntm_analysis.worker_warm`; the program's main module first) and starts no thread, so
    each worker starts with its imports done instead of spending about a CPU second on them.
    The server is stopped and waited for when the batch's workers have ended (they are its
    children), so their CPU time and its own reach this process's account. When a fork server
    is already running in this process (someone else's), or elsewhere than on Linux, workers
    are spawned.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if (not sys.platform.startswith("linux") or server is None
            or not callable(getattr(server, "_stop", None))
            or getattr(server, "_forkserver_pid", True) is not None):
        yield multiprocessing.get_context("spawn")
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "ntm_analysis.worker_warm"])
    try:
        yield context
    finally:
        server._stop()


def _shared_fork_server() -> ForkServer | None:
    """Start the batch's kernel fork server without waiting for it (None if it cannot start:
    each worker then tries its own, or starts plain kernels)."""
    from ntm_analysis.forkserver import ForkServer

    try:
        return ForkServer(wait=False)
    except Exception as exc:  # noqa: BLE001 - the workers fall back on their own
        log.debug("no shared kernel fork server: %s", exc)
        return None


class _Progress:
    """The batch's progress bar across runs (tqdm), or nothing when not ``enabled``."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="runs", unit="run")

    def step(self, run_id: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(run_id)
            self.bar.update(1)
            if self.bar.n >= self.bar.total:
                self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# --------------------------------------------------------------------------- summary


def batch_figures(runs: Sequence[BatchRun], indicators: pd.DataFrame | None
                  ) -> list[dict[str, Any]]:
    """Return the summary's attainment figures of every unit of ``runs`` (one record a unit).

    Only the communes of the runs are computed (a commune with its hamlets: attainment of one
    unit never depends on another commune's rows). They depend on no run's outcome, so a batch
    computes them while its workers start.
    """
    from ntm_analysis.attainment import compute_attainment, summarise_attainment

    if indicators is None or not len(indicators):
        return []
    run_of = {(slug(r.unit), r.year): r for r in runs if r.hamlet is None}
    # a hamlet notebook's runs: each hamlet's row is its run's; the commune's row has none
    hamlet_run = {(slug(r.unit), r.year, nfc(r.hamlet)): r for r in runs if r.hamlet is not None}
    any_hamlet_run = {key[:2]: r for key, r in hamlet_run.items()}
    commune = indicators[Ind.commune].astype(object)
    names = commune.where(commune.notna() & commune.ne(""), indicators[Ind.unit].astype(object))
    wanted = {unit for unit, _ in run_of} | {unit for unit, _, _ in hamlet_run}
    keep = {name for name in names.dropna().unique() if slug(str(name)) in wanted}
    subset = indicators[names.isin(keep)]
    if not len(subset):
        return []
    records: list[dict[str, Any]] = []
    for row in summarise_attainment(compute_attainment(subset)).to_dict("records"):
        commune = row[Summ.commune] if row[Summ.commune] is not pd.NA else None
        year = None if pd.isna(row[Summ.year]) else int(row[Summ.year])
        key = (slug(str(commune or row[Summ.unit])), year)
        run = run_of.get(key) or hamlet_run.get((*key, nfc(str(row[Summ.unit]))))
        is_commune = row[Summ.level] == Level.commune
        if run is None and is_commune:  # the commune of hamlet runs: ranked, no report
            run = any_hamlet_run.get(key)
            run_id = None
        else:
            run_id = run.run_id if run is not None else None
        if run is None:
            continue
        records.append({**{k: row[k] for k in (
            Bat.unit, Bat.level, Bat.commune, Bat.year, Bat.criteria_set, Bat.criteria_met,
            Bat.criteria_total, Bat.indicators_met, Bat.indicators_total)},
            Bat.parent: (run.parent or "") if is_commune else str(commune),
            Bat.run_id: run_id})
    return records


def summarise_batch(runs: Sequence[BatchRun], outcomes: Sequence[RunOutcome],
                    indicators: pd.DataFrame | None, *, out_dir: str | os.PathLike[str],
                    figures: Sequence[Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Return the batch summary (columns ``Bat.columns``), units ranked within their parent.

    A commune's parent is the run's ``parent`` (or ``""``); a hamlet's parent is its commune.
    Rank 1 has the most criteria met, then the largest share of indicators met. ``figures``
    are :func:`batch_figures` of ``runs`` and ``indicators`` when already computed.
    """
    out = Path(out_dir)
    by_id = {o.run_id: o for o in outcomes}
    records = [dict(r) for r in (batch_figures(runs, indicators) if figures is None
                                 else figures)]
    covered = {r[Bat.run_id] for r in records}
    for run in runs:
        if run.run_id not in covered:  # no figures (plain list of runs, or nothing loaded)
            records.append({Bat.unit: run.unit, Bat.level: Level.commune, Bat.commune: run.unit,
                            Bat.year: run.year, Bat.parent: run.parent or "",
                            Bat.run_id: run.run_id})
    df = pd.DataFrame.from_records(records, columns=[c for c in Bat.columns if c != Bat.rank])
    for col in (Bat.status, Bat.seconds, Bat.report, Bat.error):
        df[col] = df[Bat.run_id].map(lambda i, c=col: _outcome_field(by_id.get(i), c, out))
    for col in (Bat.criteria_met, Bat.criteria_total, Bat.indicators_met, Bat.indicators_total,
                Bat.year):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    df[Bat.seconds] = pd.to_numeric(df[Bat.seconds], errors="coerce").astype("Float64")
    share = (df[Bat.indicators_met] / df[Bat.indicators_total].where(
        df[Bat.indicators_total] > 0)).astype("Float64")
    crit = df[Bat.criteria_met].astype("Float64")
    df = df.assign(_c=crit.fillna(-1.0), _s=share.fillna(-1.0))
    keys = [Bat.parent, Bat.level, Bat.year, Bat.criteria_set]
    df[Bat.rank] = (df.sort_values(["_c", "_s"], ascending=False, kind="stable")
                      .groupby(keys, dropna=False, sort=False).cumcount() + 1)
    # equal figures share the best rank of their group
    best = df.groupby([*keys, "_c", "_s"], dropna=False)[Bat.rank].transform("min")
    df[Bat.rank] = best.astype("Int64")
    level_order = df[Bat.level].map({Level.commune: 0, Level.hamlet: 1}).fillna(2)
    df = df.assign(_l=level_order).sort_values(
        ["_l", Bat.parent, Bat.year, Bat.criteria_set, Bat.rank, Bat.unit],
        na_position="last", kind="stable")
    return df[Bat.columns].reset_index(drop=True)


def _outcome_field(outcome: RunOutcome | None, column: str, out: Path) -> Any:
    if outcome is None:
        return None
    if column == Bat.report:
        return os.path.relpath(outcome.report, out) if outcome.report else None
    return getattr(outcome, column)


# --------------------------------------------------------------------------- index page

#: Words of the batch index page (texts: ``batch.<word>`` in :mod:`ntm_analysis.i18n`).
INDEX_WORDS = (
    "title", "parent", "rank", "unit", "level", "year", "criteria", "indicators", "status",
    "report", "open", "none", "commune", "hamlet", "ok", "failed", "skipped", "interrupted",
    "runs", "generated", "unread", "file", "problem",
)


def _frac(a: Any, b: Any) -> str:
    return "" if pd.isna(a) or pd.isna(b) else f"{int(a)}/{int(b)}"


def render_index(summary: pd.DataFrame, *, lang: str = "vi",
                 unread: Sequence[UnreadFile] = ()) -> str:
    """Return the HTML index page of a batch: one table per parent unit, then the workbooks no
    report read (``unread``), if any; every text escaped.

    Examples
    --------
    >>> df = pd.DataFrame([{"parent": "", "rank": 1, "unit": "<b>X</b>", "level": "commune",
    ...     "year": 2024, "criteria_met": 3, "criteria_total": 6, "indicators_met": 20,
    ...     "indicators_total": 35, "run_id": "x_2024", "status": "ok", "report": "x/r.html",
    ...     "error": None, "seconds": 1.0, "commune": "X", "criteria_set": "S"}])
    >>> page = render_index(df, lang="en")
    >>> "&lt;b&gt;X&lt;/b&gt;" in page and "<b>X</b>" not in page
    True
    """
    t = {word: text(f"batch.{word}", lang) for word in INDEX_WORDS}
    e = html.escape
    parts = [
        "<!DOCTYPE html>", f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{e(t['title'])}</title>",
        "<style>body{font-family:'Noto Sans','DejaVu Sans',Arial,sans-serif;margin:2em}"
        "table{border-collapse:collapse;margin-bottom:2em}th,td{border:1px solid #bbb;"
        "padding:4px 8px;text-align:left}td.n{text-align:right}.failed{color:#b00020}"
        "</style></head><body>",
        f"<h1>{e(t['title'])}</h1>",
    ]
    n_runs = summary[Bat.run_id].nunique() if len(summary) else 0
    counts: dict[Any, int] = (
        summary.drop_duplicates(Bat.run_id)[Bat.status].value_counts().to_dict() if n_runs else {})
    parts.append("<p>" + e(f"{n_runs} {t['runs']}: " + ", ".join(
        f"{t.get(str(k), str(k))} {int(v)}" for k, v in dict(counts).items())) + "</p>")
    # the rows as plain values once, grouped by (level, parent) in order of appearance: a
    # country's batch has a table for each of its 3,300 communes' hamlets, and converting
    # each group with pandas made the page take about 4 s instead of 1
    tables: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for row in summary.to_dict("records"):
        level, parent = (None if _missing(row[c]) else row[c] for c in (Bat.level, Bat.parent))
        tables.setdefault((level, parent), []).append(row)
    for (level, parent), group in tables.items():
        label = t.get(str(level), str(level))
        heading = f"{label} — {t['parent']}: {parent or t['none']}"
        parts.append(f"<h2>{e(heading)}</h2><table><thead><tr>")
        for key in ("rank", "unit", "year", "criteria", "indicators", "status", "report"):
            parts.append(f"<th>{e(t[key])}</th>")
        parts.append("</tr></thead><tbody>")
        for row in group:
            # no run (the commune of a hamlet notebook's runs): no status
            status = "" if pd.isna(row[Bat.status]) else str(row[Bat.status])
            link = row[Bat.report]
            cell = (f'<a href="{e(str(link).replace(os.sep, "/"), quote=True)}">{e(t["open"])}</a>'
                    if isinstance(link, str) and link else "")
            err = row[Bat.error]
            status_html = e(t.get(status, status))
            if isinstance(err, str) and err:
                status_html = f'<span class="failed" title="{e(err, quote=True)}">' \
                              f"{status_html}</span>"
            parts.append(
                "<tr>"
                f"<td class=n>{'' if pd.isna(row[Bat.rank]) else int(row[Bat.rank])}</td>"
                f"<td>{e(str(row[Bat.unit]))}</td>"
                f"<td class=n>{'' if pd.isna(row[Bat.year]) else int(row[Bat.year])}</td>"
                f"<td class=n>{_frac(row[Bat.criteria_met], row[Bat.criteria_total])}</td>"
                f"<td class=n>{_frac(row[Bat.indicators_met], row[Bat.indicators_total])}</td>"
                f"<td>{status_html}</td><td>{cell}</td></tr>")
        parts.append("</tbody></table>")
    if unread:
        parts.append(f'<h2 class="failed">{e(t["unread"])}</h2><table><thead><tr>'
                     f"<th>{e(t['file'])}</th><th>{e(t['problem'])}</th></tr></thead><tbody>")
        parts.extend(f"<tr><td>{e(u.file)}</td><td>{e(u.problem)}</td></tr>" for u in unread)
        parts.append("</tbody></table>")
    parts.append(f"<p><small>{e(t['generated'])} {e(build_id())}</small></p></body></html>")
    return "\n".join(parts)


def _missing(value: Any) -> bool:
    """True for a missing scalar (None, NaN, ``pd.NA``, ``NaT``)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def outcome_records(outcomes: Sequence[RunOutcome]) -> list[dict[str, Any]]:
    """Return the outcomes as plain dicts (for JSON output)."""
    return [asdict(o) for o in outcomes]


def dask_executor(address: str) -> Executor:
    """Return the executor of a Dask distributed cluster at ``address`` (extra ``[dask]``)."""
    try:
        from distributed import Client
    except ImportError as error:
        raise ParameterError("--scheduler needs the optional extra: pip install "
                             "'ntm-analysis[dask]'") from error
    return Client(address).get_executor()
