"""Criterion attainment: judge each indicator against its target, then roll up to criteria.

Rules (kept side by side for audit):

* an indicator is **met** when its value satisfies its parsed target (``status_basis='value'``);
* where the value or the target cannot be judged (compound legal text, a word the parser does not
  know), the unit's self-assessment decides (``'self_assessment'``);
* where neither exists the status is **unknown**, counted as not met and reported;
* an indicator of the criteria set that is absent from the workbook is **unknown** with basis
  ``'missing'``;
* a criterion is met only when every one of its indicators is met.

All functions are pure and vectorised: the frame comes first, the input is never modified.
The attainment table's texts are sorted categoricals (schema ``Att``): the judgement works on
integer codes of the distinct texts, and the 10⁶-row table is built from those codes without
copying a text per row (issue 5; timed by ``benchmarks/run.py``, the first call in a process).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

if TYPE_CHECKING:
    import pyarrow as pa

from ntm_analysis.catalogue import load_catalogue
from ntm_analysis.parse import (
    BOOL,
    COMPLIANCE,
    EQ,
    GE,
    GT,
    LE,
    LT,
    PERCENT,
    TEXT,
    TRUE,
    is_times,
    money_scale,
    parse_target,
)
from ntm_analysis.schema import (
    CATEGORY,
    Att,
    Basis,
    Crit,
    Ind,
    Status,
    Summ,
    category_dtype,
    conform,
    remap_codes,
)

_GROUP = [Ind.unit, Ind.unit_id, Ind.level, Ind.commune, Ind.year, Ind.criteria_set]
#: Sort keys of the attainment table (then the indicator number, numerically).
_SORT = [Ind.level, Ind.commune, Ind.unit, Ind.year, Ind.criteria_set]


def _group_codes(df: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct key combinations of ``columns`` in order of first appearance.

    Missing values are keys like any other (as ``groupby(dropna=False)`` and ``merge`` treat
    them). Returns each row's group code and, per code, the position of its first row: the
    same groups, in the same order, as ``groupby(columns, dropna=False, sort=False)``. A
    categorical column's own codes are used as they are (no factorize).
    """
    if not columns:
        return np.zeros(len(df), dtype="int64"), np.zeros(min(len(df), 1), dtype="int64")
    return _combine_codes([_key_codes(df[c]) for c in columns])


def _key_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a key column, -1 for a missing value (any numbering will do)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    return pd.factorize(values, use_na_sentinel=True)[0]


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integer keys that sort like ``values`` (``sort_values``, missing values last)."""
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    return np.where(codes < 0, len(uniques), codes)


def _first_valid(values: pd.Series, codes: np.ndarray, n_groups: int) -> pd.Series:
    """Per group, the first non-missing value (what ``groupby(...).first()`` returns)."""
    positions = np.flatnonzero(values.notna().to_numpy())
    taken = np.full(n_groups, -1, dtype="int64")
    groups, first = _first_of(codes[positions])
    taken[groups] = positions[first]
    array = values.array.take(taken, allow_fill=True)
    return pd.Series(array)


def _first_of(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes and the position of each one's first occurrence (by hashing)."""
    first = np.flatnonzero(~pd.Series(codes).duplicated(keep="first").to_numpy())
    return codes[first], first


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Per code, its first row, for codes numbered by first appearance (0, 1, 2, ... in order).

    A row holds a new code exactly where the running maximum grows: no sort, no hash.
    """
    if not len(codes):
        return np.zeros(0, dtype="int64")
    running = np.maximum.accumulate(codes)
    return np.flatnonzero(np.concatenate([[True], running[1:] != running[:-1]]))


def _combine_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``_group_codes`` from each column's factorize codes (-1 for a missing value).

    Number the distinct combinations in order of first appearance; return each row's group
    code and, per code, the position of its first row. A group's rows usually follow each
    other (a unit's rows, sheet by sheet): the combinations are then numbered once per run of
    equal rows and repeated over the run; otherwise once per row.

    >>> codes, first = _combine_codes([np.array([1, 0, 1, -1, 0]), np.array([0, 0, 0, 0, 1])])
    >>> codes.tolist(), first.tolist()
    ([0, 1, 0, 2, 3], [0, 1, 3, 4])
    """
    n = len(columns[0]) if columns else 0
    if n >= 2 * RUN_RATIO:
        changes = np.zeros(n - 1, dtype=bool)
        for col in columns:  # a new run wherever any column's code changes
            changes |= col[1:] != col[:-1]
        starts = np.flatnonzero(np.concatenate(([True], changes)))
        if len(starts) * RUN_RATIO <= n:
            run_codes, first_runs = _combine_row_codes([col[starts] for col in columns])
            return np.repeat(run_codes, np.diff(starts, append=n)), starts[first_runs]
    return _combine_row_codes(columns)


def _combine_row_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``_combine_codes`` row by row: the columns' codes combined into one integer key
    (numbered densely again only when the key would overflow), then numbered once (the key
    changes exactly where a column's code does, so it has runs only where ``_combine_codes``
    found them already)."""
    codes = np.zeros(len(columns[0]) if columns else 0, dtype="int64")
    span = 1  # the key's values are below span
    for col in columns:
        width = int(col.max()) + 2 if len(col) else 1
        if span * width >= 2**62:  # kept in range: number the key densely first
            codes, uniques = pd.factorize(codes)
            codes, span = codes.astype("int64", copy=False), max(len(uniques), 1)
        codes = codes * width + (col.astype("int64") + 1)
        span *= width
    codes, _ = pd.factorize(codes)  # numbered by first appearance
    codes = codes.astype("int64", copy=False)
    return codes, _first_rows(codes)


def _isin(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``np.isin`` for non-negative integer keys: a table of the keys seen when it is small.

    >>> _isin(np.array([3, 0, 7]), np.array([7, 1, 3])).tolist()
    [True, False, True]
    >>> _isin(np.array([3, 2**40]), np.array([2**40])).tolist()  # sparse: np.isin
    [False, True]
    """
    size = int(max(values.max(initial=-1), present.max(initial=-1))) + 1
    if size > 8 * (len(values) + len(present)) + 1024:  # sparse keys: sort them instead
        return np.isin(values, present)
    seen = np.zeros(size, dtype=bool)
    seen[present] = True
    return seen[values]


def _first_valid_at(column: tuple[np.ndarray, ExtensionArray],
                    rows: np.ndarray | None, codes: np.ndarray, n_groups: int) -> pd.Series:
    """Per group, the first non-missing value of a factorized column (``_first_valid``).

    ``column`` is the column's factorize (codes, uniques); ``rows`` the rows grouped by
    ``codes`` (None: every row). Only codes are looked at; the few values are taken at the end.
    """
    col_codes = column[0] if rows is None else column[0][rows]
    valid = col_codes >= 0
    taken = np.full(n_groups, -1, dtype="int64")
    if valid.all():  # every row has a value: each group's first row (codes by appearance)
        taken[:] = col_codes[_first_rows(codes)]
    else:
        positions = np.flatnonzero(valid)
        groups, first = _first_of(codes[positions])
        taken[groups] = col_codes[positions[first]]
    return pd.Series(column[1].take(taken, allow_fill=True))


def _missing_rows(indicators: pd.DataFrame, catalogue: pd.DataFrame, *,
                  codes: _Codes | None = None) -> pd.DataFrame | None:
    """The empty rows (schema ``Ind``) of catalogue indicators a recognised unit's table lacks.

    Units are numbered by first appearance and (unit, indicator number) pairs encoded as
    integers, so finding the missing pairs is one ``np.isin`` rather than two merges. ``codes``
    (each column's factorize) is reused when the caller has it. Returns None when nothing is
    missing; the rows are few, and the indicator table itself is never copied.
    """
    codes = _Codes(indicators) if codes is None else codes
    known_rows = np.flatnonzero((codes(Ind.criteria_set)[0] >= 0) & (codes(Ind.unit)[0] >= 0))
    if not len(known_rows):
        return None
    everyone = len(known_rows) == len(indicators)  # the usual case: no gather of the codes
    group, first = _combine_codes([codes(c)[0] if everyone else codes(c)[0][known_rows]
                                   for c in _GROUP])
    # each unit's keys from the codes of its first row (the few values taken, not the rows)
    unit_rows = known_rows[first]
    units = pd.DataFrame({c: codes(c)[1].take(codes(c)[0][unit_rows], allow_fill=True)
                          for c in _GROUP})
    for col in (Ind.source_file, Ind.source_sheet):
        units[col] = _first_valid_at(codes(col), None if everyone else known_rows, group,
                                     len(first))
    cat_rows = catalogue.rename(columns={
        "set_id": Ind.criteria_set, "criterion_name_vi": Ind.criterion_name,
        "indicator_name_vi": Ind.indicator_name,
    })[[Ind.criteria_set, Ind.criterion_no, Ind.criterion_name, Ind.indicator_no,
        Ind.indicator_name, "target_text"]].rename(columns={"target_text": Ind.target_text})
    cat_rows = cat_rows.reset_index(drop=True)
    # expected pairs: each unit × the catalogue rows of its set, in catalogue order
    # (vectorised over units: the catalogue rows of every set, laid end to end, and each
    # unit's set as a code into them)
    set_codes, set_uniques = codes(Ind.criteria_set)
    cat_set = cat_rows[Ind.criteria_set].astype("object").to_numpy()
    rows_by_set = [np.flatnonzero(cat_set == key) for key in _texts(set_uniques)]
    set_counts = np.array([len(r) for r in rows_by_set] + [0], dtype="int64")
    set_start = np.concatenate([[0], np.cumsum(set_counts)[:-1]])
    flat_rows = np.concatenate(rows_by_set + [np.zeros(0, dtype="int64")]).astype("int64")
    unit_set = set_codes[unit_rows]  # never -1: the units are recognised
    counts = set_counts[unit_set]
    if not counts.sum():
        return None
    exp_unit = np.repeat(np.arange(len(units)), counts)
    within = np.arange(len(exp_unit)) - np.repeat(np.cumsum(counts) - counts, counts)
    exp_cat = flat_rows[set_start[unit_set][exp_unit] + within]
    # indicator numbers of the table and of the catalogue, numbered together
    # (the table's from its factorize; the catalogue's few looked up, new ones numbered on)
    no_codes, no_uniques = codes(Ind.indicator_no)
    number_code = {v: i for i, v in enumerate(np.asarray(no_uniques, dtype=object).tolist())}
    na_code = len(number_code)  # every missing number is one key, as in a merge
    cat_codes = np.empty(len(cat_rows), dtype="int64")
    for i, number in enumerate(cat_rows[Ind.indicator_no].astype("object").tolist()):
        if pd.isna(number):
            cat_codes[i] = na_code
        else:
            cat_codes[i] = number_code.setdefault(number, len(number_code) + 1)
    width = len(number_code) + 2
    table_codes = no_codes if everyone else no_codes[known_rows]
    present = group * width + np.where(table_codes < 0, na_code, table_codes)
    expected = exp_unit * width + cat_codes[exp_cat]
    lacking = ~_isin(expected, present)
    if not lacking.any():
        return None
    unit_part = units.take(exp_unit[lacking]).reset_index(drop=True)
    cat_part = cat_rows.drop(columns=Ind.criteria_set).take(exp_cat[lacking]).reset_index(
        drop=True)
    return conform(pd.concat([unit_part, cat_part], axis=1), Ind)


def _add_missing(indicators: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The indicator table with ``_missing_rows`` appended (``status_basis`` 'missing').

    Returns ``indicators`` itself when nothing is missing. ``compute_attainment`` does not
    build this longer table: it continues each column's codes over the missing rows.
    """
    missing = _missing_rows(indicators, catalogue)
    if missing is None:
        return indicators
    missing = missing.assign(**{Att.status_basis: Basis.missing})
    return pd.concat([indicators, missing], ignore_index=True)


#: Rows from which :meth:`_Codes.prefetch` hashes text columns in threads.
PREFETCH_MIN_ROWS = 200_000

#: The columns in the order ``compute_attainment`` first needs their codes (the missing rows'
#: keys, then the sort keys, the catalogue lookup and the judgement); prefetched in this order.
_NEED_ORDER = [Ind.criteria_set, Ind.unit, Ind.unit_id, Ind.level, Ind.commune,
               Ind.source_file, Ind.source_sheet, Ind.indicator_no, Ind.target_text,
               Ind.value_unit, Ind.self_assessment, Ind.criterion_name, Ind.indicator_name]


class _Codes:
    """Each column's ``pd.factorize`` (missing values coded -1), computed once per call.

    With ``tail`` (rows appended after ``df``, few in practice) the codes run over both: the
    head's codes continued over the tail, values already seen keeping their code and new ones
    numbered on, which is what ``pd.factorize`` of the concatenated column returns. The
    concatenated table itself is never built.

    Used as a context manager when :meth:`prefetch` may start threads: leaving it waits for
    them (and cancels what has not started).
    """

    def __init__(self, df: pd.DataFrame, *, tail: pd.DataFrame | None = None,
                 head: _Codes | None = None) -> None:
        self._df = df
        self._tail = tail
        self._head = head if head is not None else (_Codes(df) if tail is not None else None)
        self._memo: dict[str, tuple[np.ndarray, ExtensionArray]] = {}
        self._pending: dict[str, Future[tuple[np.ndarray, ExtensionArray]]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self._df) + (0 if self._tail is None else len(self._tail))

    def __enter__(self) -> _Codes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, column: str) -> tuple[np.ndarray, ExtensionArray]:
        if column not in self._memo:
            pending = self._pending.pop(column, None)
            if pending is not None:  # hashed in a thread: its result (or its error)
                self._memo[column] = pending.result()
            elif self._head is None or self._tail is None:
                self._memo[column] = _factorize(self._df[column])
            else:
                self._memo[column] = self._extend(column, self._head, self._tail)
        return self._memo[column]

    def prefetch(self, columns: list[str]) -> None:
        """Start factorising the Arrow string ``columns`` of a large table in threads, in this
        order, and return: the caller goes on with the columns it has while the others are
        hashed (asking for a column still being hashed waits for it).

        pyarrow's dictionary encoding releases the GIL, so on several cores the text columns
        are hashed beside the caller's work: the same work (and CPU time) in less wall-clock
        time. Small tables, tables with a tail and one-core machines are left to the lazy path.
        """
        workers = min(len(columns), os.cpu_count() or 1, 4)
        if (self._tail is not None or workers < 2 or len(self._df) < PREFETCH_MIN_ROWS):
            return
        todo = [c for c in dict.fromkeys(columns) if c not in self._memo
                and c not in self._pending
                and isinstance(self._df[c].array, pd.arrays.ArrowStringArray)]
        if not todo:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="ntm-attainment-codes")
        for column in todo:
            self._pending[column] = self._pool.submit(_factorize, self._df[column])

    def close(self) -> None:
        """Cancel the prefetches not started and wait for the others (their results kept)."""
        if self._pool is None:
            return
        for future in self._pending.values():
            future.cancel()
        self._pool.shutdown(wait=True)
        self._pool = None
        self._pending = {c: f for c, f in self._pending.items() if not f.cancelled()}

    def values(self, column: str) -> ExtensionArray:
        """The column's values over the head and tail rows (a copy only when there is a tail)."""
        head = self._df[column].array
        if self._tail is None:
            return head
        return type(head)._concat_same_type([head, self._tail[column].array])

    def _extend(self, column: str, head: _Codes,
                tail: pd.DataFrame) -> tuple[np.ndarray, ExtensionArray]:
        head_codes, head_uniques = head(column)
        head._memo.pop(column, None)  # only the continued codes are kept: half the memory
        tail_codes, tail_uniques = pd.factorize(tail[column], use_na_sentinel=True)
        known = {v: i for i, v in enumerate(np.asarray(head_uniques, dtype=object).tolist())}
        fresh = [v for v in np.asarray(tail_uniques, dtype=object).tolist() if v not in known]
        for v in fresh:
            known[v] = len(known)
        mapping = np.array([known[v] for v in np.asarray(tail_uniques, dtype=object).tolist()]
                           + [-1], dtype="int64")
        if len(known) >= np.iinfo(head_codes.dtype).max:  # new texts overflow the type
            head_codes = head_codes.astype(_index_dtype(len(known)))
        codes = np.concatenate([head_codes, mapping[tail_codes].astype(head_codes.dtype)])
        uniques = pd.array(np.asarray(head_uniques, dtype=object).tolist() + fresh,
                           dtype=self._df[column].dtype)
        return codes, uniques

    def sort_key(self, column: str) -> np.ndarray:
        """Integer keys that sort like the column (as ``_sort_codes``: missing values last)."""
        codes, uniques = self(column)
        rank, _ = pd.factorize(uniques, sort=True)  # distinct values: the code is the rank
        return np.append(rank, len(uniques)).astype(_index_dtype(len(uniques) + 1))[codes]

    def indicator_rank(self) -> np.ndarray:
        """``_indicator_rank`` of the indicator numbers, from their distinct values."""
        codes, uniques = self(Ind.indicator_no)
        texts = [str(u) for u in uniques] + [""]  # a missing number ranks as ""
        keys = [tuple(int(p) if p.isdigit() else 0 for p in t.split(".")) for t in texts]
        dense = {k: i for i, k in enumerate(sorted(set(keys)))}
        return np.array([dense[k] for k in keys], dtype=_index_dtype(len(dense)))[codes]


def _factorize(values: pd.Series) -> tuple[np.ndarray, ExtensionArray]:
    """``pd.factorize(values)`` (missing values -1); an Arrow string column straight by pyarrow.

    pandas' factorize of a string column dictionary-encodes it with pyarrow, then widens the
    int32 indices to int64; here they are narrowed to the smallest type that holds them (int8
    for up to 127 distinct texts): the same numbers in an eighth of the memory, which every
    later gather reads.
    """
    array = values.array
    chunks = getattr(array, "_pa_array", None)  # the Arrow data, read only (pandas-internal)
    if isinstance(array, pd.arrays.ArrowStringArray) and chunks is not None and len(array):
        if chunks.null_count == len(chunks):  # an empty column (notes, often): nothing to hash
            return np.full(len(chunks), -1, dtype=np.int8), pd.array([], dtype=values.dtype)
        import pyarrow as pa  # loaded already: the column is Arrow's

        starts = _run_starts(chunks)
        # only each run's first value (taken with Arrow indices: with a NumPy array, taking
        # from many chunks is several times slower)
        runs = chunks if starts is None else chunks.take(pa.array(starts))
        encoded = runs.dictionary_encode().combine_chunks()
        indices = encoded.indices
        codes = (indices.fill_null(-1) if indices.null_count else indices).to_numpy(
            zero_copy_only=False).astype(_index_dtype(len(encoded.dictionary)), copy=False)
        if starts is not None:  # each run's code, repeated over its rows
            codes = np.repeat(codes, np.diff(starts, append=len(chunks)))
        return codes, pd.array(encoded.dictionary, dtype=values.dtype)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # the smallest integers that hold the codes: a quarter or an eighth of the memory
    return codes.astype(_index_dtype(len(uniques))), uniques.array  # take(-1) gives NA


#: A column is numbered run by run when its first ``RUN_PROBE`` rows hold at most one run of
#: equal values per ``RUN_RATIO`` rows (a tidy table comes sheet by sheet: a unit's texts
#: repeat row after row).
RUN_PROBE, RUN_RATIO = 4096, 8


def _run_starts(chunks: pa.ChunkedArray) -> np.ndarray | None:
    """The first row of each run of equal values of an Arrow column (a missing value is a run
    of its own), or None when its first rows change too often for runs to pay.

    Comparing each value with the next is several times cheaper than hashing it; only the
    runs' first values are then hashed. Codes by first appearance are the same either way:
    a value first appears at the start of a run.

    >>> import pyarrow as pa
    >>> column = pa.chunked_array([["a"] * 30 + [None], [None] + ["b"] * 29, ["b", "a"] * 2])
    >>> _run_starts(column).tolist()  # "a" × 30, None, None, "b" × 30, "a", "b", "a"
    [0, 30, 31, 32, 62, 63, 64]
    >>> _run_starts(pa.chunked_array([["a", "b"] * 30])) is None  # short runs: hashed
    True
    """
    import pyarrow.compute as pc

    n = len(chunks)
    if n < 2:
        return None
    probe = chunks.slice(0, min(n, RUN_PROBE))
    changes = pc.fill_null(pc.not_equal(probe.slice(1), probe.slice(0, len(probe) - 1)), True)
    if (pc.sum(changes).as_py() + 1) * RUN_RATIO > len(probe):
        return None
    changes = pc.fill_null(pc.not_equal(chunks.slice(1), chunks.slice(0, n - 1)), True)
    starts = np.empty(pc.sum(changes).as_py() + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = pc.indices_nonzero(changes).to_numpy()
    starts[1:] += 1
    if len(starts) * RUN_RATIO > n:
        return None
    return starts


def _lookup_rows(codes: _Codes, lookup: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row of ``lookup`` matching each row's (criteria set, indicator number), or -1.

    The distinct (set, number) pairs of the table are few: each is looked up once in a dict
    of the catalogue's pairs (first row wins; a missing key never matches). Returns each row's
    pair code and, per pair, its lookup row: the row of row ``i`` is ``rows[pair_codes[i]]``.
    """
    set_codes, set_uniques = codes(Ind.criteria_set)
    no_codes, no_uniques = codes(Ind.indicator_no)
    pairs: dict[tuple[object, object], int] = {}
    sets = lookup[Ind.criteria_set].astype("object").tolist()
    numbers = lookup[Ind.indicator_no].astype("object").tolist()
    for i in range(len(lookup) - 1, -1, -1):
        if not (pd.isna(sets[i]) or pd.isna(numbers[i])):
            pairs[(sets[i], numbers[i])] = i
    width = len(no_uniques) + 1
    pair_codes, distinct = pd.factorize(set_codes.astype("int64") * width + no_codes)
    set_list = list(np.asarray(set_uniques, dtype=object))
    no_list = list(np.asarray(no_uniques, dtype=object))
    rows = np.full(len(distinct), -1, dtype="int64")
    for k, pair in enumerate(np.asarray(distinct)):
        s, no = divmod(int(pair), width)
        if s >= 0 and no < len(no_list):  # -1 codes: a missing set or number
            rows[k] = pairs.get((set_list[s], no_list[no]), -1)
    return pair_codes, rows


def _filled(codes: _Codes, column: str, fallback: list[object],
            found: tuple[np.ndarray, np.ndarray]) -> tuple[list[object], np.ndarray]:
    """The column's texts with gaps filled from ``fallback`` at each row's lookup row.

    ``found`` is ``_lookup_rows``. Returns the labels (the column's distinct texts, then the
    fallback texts, then None) and each row's code into them (never -1: a text missing from
    both is the None label); nothing is materialised per row.
    """
    col_codes, uniques = codes(column)
    pair_codes, rows = found
    labels = _texts(uniques) + [f if isinstance(f, str) else None for f in fallback] + [None]
    dtype = _index_dtype(len(labels))
    per_pair = np.where(rows >= 0, len(uniques) + rows, len(labels) - 1).astype(dtype)
    return labels, np.where(col_codes >= 0, col_codes.astype(dtype, copy=False),
                            per_pair[pair_codes])


def _index_dtype(n: int) -> type[np.signedinteger]:
    """The smallest signed integer type that holds codes 0 … n (and -1)."""
    return np.int8 if n < 2**7 else np.int16 if n < 2**15 else np.int32 if n < 2**31 else \
        np.int64


def _texts(uniques: pd.Index | np.ndarray | ExtensionArray) -> list[object]:
    """Distinct values of a text column as Python strings (None for a missing one)."""
    return [u if isinstance(u, str) else None for u in np.asarray(uniques, dtype=object)]


def _categorical(labels: list[object], codes: np.ndarray, order: np.ndarray | None, *,
                 unused: bool = False) -> pd.Categorical:
    """``labels[code]`` per row in ``order``, as a categorical of sorted string categories.

    Labels may repeat or be None (a missing text, as is a code of -1): only the few labels are
    sorted and deduplicated; the rows' codes are mapped and gathered, never the texts. The
    categories are the labels some row holds (``unused=True``: every label is known to be).
    """
    if order is not None:  # the small codes gathered, before they are mapped
        codes = codes.take(order)
    mapped, distinct = remap_codes(codes, labels, unused=unused)
    return pd.Categorical.from_codes(mapped, dtype=category_dtype(distinct), validate=False)


def _order(keys: list[Callable[[], np.ndarray]]) -> np.ndarray:
    """``np.lexsort([k() for k in keys][::-1])``: the stable order by the first key, then the next.

    The keys (small non-negative integers, each made when needed) are packed into one int64
    key as they come, and that key sorted stably: several times faster than ``lexsort`` on 10⁶
    rows, and only one key array is held at a time.
    """
    packed: np.ndarray | None = None
    span = 1
    for make in keys:
        key = make()
        width = int(key.max()) + 1 if len(key) else 1
        span *= width
        if span >= 2**62:  # pragma: no cover - key ranges no table has
            return np.lexsort([k() for k in keys][::-1])
        if packed is None:
            packed = key.astype("int64")
        else:
            packed *= width
            packed += key
    assert packed is not None
    return np.argsort(packed, kind="stable")


def _floats(values: np.ndarray) -> pd.arrays.FloatingArray:
    """A ``Float64`` array of ``values`` with NaN as missing (``pd.array(..., "Float64")``)."""
    return pd.arrays.FloatingArray(values.astype("float64", copy=False), np.isnan(values))


def compute_attainment(indicators: pd.DataFrame, *, catalogue: pd.DataFrame | None = None,
                       add_missing: bool = True) -> pd.DataFrame:
    """Judge every indicator and return the attainment table (schema ``Att``).

    The table's text columns are categoricals of sorted string categories (``Att``): each
    row holds a small code, the texts themselves are stored once. Built from the codes the
    judgement needs anyway, the table costs little more than the judgement, even for 10⁶ rows
    (``benchmarks/run.py``); compare values with ``astype(str)`` or ``astype(object)``.

    Parameters
    ----------
    indicators
        The tidy indicator table (schema ``Ind``).
    catalogue
        Criteria catalogue; default: the package's (``load_catalogue()``).
    add_missing
        Add unknown rows for catalogue indicators absent from a recognised unit's table.

    Examples
    --------
    >>> ind = pd.DataFrame({"unit": ["Xóm A"] * 2, "criteria_set": [None, None],
    ...                     "criterion_no": ["1", "1"], "indicator_no": ["1.1", "1.2"],
    ...                     "target_text": ["≥ 90%", "Đạt"], "value": [95.0, None],
    ...                     "value_unit": ["%", None], "self_assessment": [None, "not_met"]})
    >>> att = compute_attainment(ind)
    >>> att[["indicator_no", "status", "status_basis"]].to_dict("records")
    [{'indicator_no': '1.1', 'status': 'met', 'status_basis': 'value'},
     {'indicator_no': '1.2', 'status': 'not_met', 'status_basis': 'self_assessment'}]
    >>> str(att["status"].dtype), list(att["status"].cat.categories)
    ('category', ['met', 'not_met'])
    >>> att["status_basis"].cat.codes.tolist()  # one small integer per row, the texts once
    [1, 0]
    """
    cat = load_catalogue() if catalogue is None else catalogue
    df = conform(indicators, Ind)
    with _Codes(df) as codes:
        codes.prefetch(_NEED_ORDER + list(df.columns))  # hashed beside the work below
        return _judge(df, cat, codes, add_missing=add_missing)


def _judge(df: pd.DataFrame, cat: pd.DataFrame, codes: _Codes, *,
           add_missing: bool) -> pd.DataFrame:
    """``compute_attainment`` of the conformed table ``df``, whose codes ``codes`` gives."""
    n_rows = len(df)
    missing = _missing_rows(df, cat, codes=codes) if add_missing else None
    if missing is not None:  # rows were added: continue each column's codes over them
        codes = _Codes(df, tail=missing, head=codes)
    basis_missing = np.arange(len(codes)) >= n_rows
    # the output order first, from integer keys; every column is gathered once, at the end
    order: np.ndarray | None = _order(
        [partial(codes.sort_key, c) for c in _SORT] + [codes.indicator_rank])
    if bool(np.all(order == np.arange(len(codes)))):
        order = None  # already in order: nothing to gather

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    # catalogue facts: found/inferred status, fallback names and targets
    lookup = cat.rename(columns={"set_id": Ind.criteria_set})[
        [Ind.criteria_set, Ind.indicator_no, "status", "target_text", "criterion_name_vi",
         "indicator_name_vi"]
    ].drop_duplicates([Ind.criteria_set, Ind.indicator_no]).reset_index(drop=True)
    found = _lookup_rows(codes, lookup)

    def fact(column: str) -> list[object]:
        return lookup[column].astype("object").tolist()

    text_labels, text_codes = _filled(codes, Ind.target_text, fact("target_text"), found)
    # each distinct target text parsed once; a missing text is "text" with no value or unit
    parsed = [parse_target(t) if isinstance(t, str) else None for t in text_labels]
    slot_cmp: list[object] = [p.comparator if p is not None else TEXT for p in parsed]
    slot_value = pd.to_numeric(
        pd.Series([p.value if p is not None else None for p in parsed], dtype=object),
        errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    slot_unit: list[object] = [p.unit if p is not None else None for p in parsed]
    tval = slot_value[text_codes]
    # each row's comparator as a small code (a comparison per row instead of a gather)
    comparators = [GE, GT, LE, LT, EQ, TRUE, TEXT]
    slot_kind = np.array([comparators.index(c) if c in comparators else len(comparators)
                          for c in slot_cmp], dtype=np.int8)
    kind = slot_kind[text_codes]
    ge, gt, le, lt, eq, true, text = (kind == i for i in range(len(comparators)))
    t_percent = np.array([u == PERCENT for u in slot_unit], dtype=bool)[text_codes]
    value = np.array(codes.values(Ind.value).to_numpy(dtype="float64", na_value=np.nan))
    unit_codes, unit_uniques = codes(Ind.value_unit)

    def is_unit(name: str) -> np.ndarray:
        return np.array([u == name for u in unit_uniques] + [False], dtype=bool)[unit_codes]

    v_percent, is_bool, compliance = is_unit(PERCENT), is_unit(BOOL), is_unit(COMPLIANCE)
    # a fraction (0.95) in a percentage row means 95%: a bare number against a percentage, or
    # one whose "%" is the unit column's ("ĐVT"), not written in the cell ("0,95%" is 0.95%),
    # against a percentage or a bare number (the unit column's "%" is the target's too)
    fraction = ~is_bool & ~compliance & (value > 0) & (value <= 1) & (tval > 1) & \
        (ge | gt | eq)
    t_bare = np.array([u is None for u in slot_unit], dtype=bool)[text_codes]
    stated = np.flatnonzero(fraction & v_percent & (t_percent | t_bare))
    fraction &= t_percent & ~v_percent
    if stated.size:  # (rare: the texts of those rows only)
        written = df[Ind.value_text].iloc[stated].astype("string").str.contains("%", regex=False)
        fraction[stated[~written.fillna(False).to_numpy(dtype=bool)]] = True
    np.multiply(value, 100.0, out=value, where=fraction)
    # money in another unit than the target's ("54.030.000 đồng" against "≥ 70 triệu đồng"):
    # compared in the target's unit; the value column keeps the number as written
    t_money = np.array([money_scale(u) or np.nan for u in slot_unit], dtype="float64")
    v_money = np.array([money_scale(u) or np.nan for u in unit_uniques] + [np.nan],
                       dtype="float64")
    compared = value
    if np.isfinite(t_money).any() and np.isfinite(v_money).any():
        factor = v_money[unit_codes] / t_money[text_codes]
        rescale = np.isfinite(factor) & (factor != 1.0)
        if rescale.any():
            compared = np.where(rescale, value * factor, value)
    # a yes/no value against a count target: "Chưa có" is 0 and "Có" is at least 1; against a
    # percentage "Có" says nothing, so the self-assessment decides, but none ("Không có hộ
    # nghèo") is 0%
    bool_ok = true | (value == 0) | (~t_percent & (
        ((value == 1) & ge & (tval <= 1)) | (eq & (tval == 0))))
    bool_vs_number = is_bool & ~bool_ok
    # a count against a percentage ("120 hộ" against "≥ 90%"), a percentage against a count or
    # money, a count against money: not comparable without what the table does not give
    v_other = ~(is_unit(PERCENT) | is_bool | compliance) & (unit_codes >= 0)
    t_other = np.array([u is not None and u not in (PERCENT, BOOL) for u in slot_unit],
                       dtype=bool)[text_codes]
    t_is_money = np.isfinite(t_money)[text_codes]
    v_is_money = np.isfinite(v_money)[unit_codes]
    t_times = np.array([is_times(u) for u in slot_unit], dtype=bool)[text_codes]
    v_times = np.array([is_times(u) for u in unit_uniques] + [False], dtype=bool)[unit_codes]
    mismatch = (t_percent & v_other) | (t_other & v_percent) | \
        (t_is_money & v_other & ~v_is_money) | (t_times & v_other & ~v_times)
    # "Đạt" / "Chưa đạt" written as the result states compliance with whatever the target is
    judgeable = (~np.isnan(value) & ~text & ~bool_vs_number & ~mismatch &
                 (true | ~np.isnan(tval))) | (compliance & ~np.isnan(value))
    # the tolerance depends on the target only: one per distinct target text
    eps = (1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(slot_value))))[text_codes]
    with np.errstate(invalid="ignore"):
        met = np.select(  # as written (not rearranged: the same rounding at the bounds)
            [ge, gt, le, lt, eq, true],
            [compared >= tval - eps, compared > tval + eps, compared <= tval + eps,
             compared < tval - eps, np.abs(compared - tval) <= eps, compared > 0],
            default=False,
        )
        short = tval - compared  # how far below the target (above it for ≤ and <)
        gap = np.where(le | lt, -short, short)
        gap = np.where(eq, np.abs(short), gap)
        gap = np.where(true, 1.0, gap)
        gap = np.where(ge | gt | le | lt | eq | true, gap, np.nan)
    met = np.where(compliance, value > 0, met)
    gap = np.where(compliance, np.where(met, 0.0, np.nan), gap)
    gap = np.where(met, 0.0, np.maximum(gap, 0.0))
    # statuses as small codes into one label list (its last label, None, is "no status")
    labels: list[object] = [Status.met, Status.not_met, Status.unknown, Basis.value,
                            Basis.self_assessment, Basis.none, Basis.missing]
    # self-assessments: the known words share the codes above; any other text keeps its own
    self_codes, self_uniques = codes(Ind.self_assessment)
    has_self = self_codes >= 0
    self_labels = [str(u) for u in self_uniques]
    all_labels = labels + [u for u in dict.fromkeys(self_labels) if u not in labels] + [None]
    small = _index_dtype(len(all_labels))
    code = {label: small(i) for i, label in enumerate(all_labels)}
    self_as = np.array([code[u] for u in self_labels] + [code[None]], dtype=small)
    self_code = self_as[self_codes]  # code -1 takes the last slot: no self-assessment
    computed = np.where(judgeable, np.where(met, code[Status.met], code[Status.not_met]),
                        code[None])
    status = np.where(judgeable, computed, np.where(has_self, self_code, code[Status.unknown]))
    basis = np.where(judgeable, code[Basis.value],
                     np.where(has_self, code[Basis.self_assessment], code[Basis.none]))
    basis = np.where(basis_missing, code[Basis.missing], basis)
    discrepancy = ordered(judgeable & has_self & (computed != self_code))
    texts = {  # each text column: its labels and every row's code into them
        Ind.target_text: (text_labels, text_codes),
        Ind.criterion_name: _filled(codes, Ind.criterion_name, fact("criterion_name_vi"),
                                    found),
        Ind.indicator_name: _filled(codes, Ind.indicator_name, fact("indicator_name_vi"),
                                    found),
        Att.catalogue_status: (fact("status") + [None], np.where(
            found[1] >= 0, found[1], len(lookup)).astype(_index_dtype(len(lookup)))[found[0]]),
        Att.target_comparator: (slot_cmp, text_codes),
        Att.target_unit: (slot_unit, text_codes),
        Att.computed_status: (all_labels, computed),
        Att.status: (all_labels, status),
        Att.status_basis: (all_labels, basis),
    }
    numbers = {
        Ind.value: _floats(ordered(value)),
        Att.target_value: _floats(ordered(tval)),
        Att.gap: _floats(ordered(np.where(judgeable, gap, np.nan))),
        Att.discrepancy: pd.arrays.BooleanArray(discrepancy,
                                                np.zeros(len(discrepancy), dtype=bool)),
    }
    columns: dict[str, object] = {}
    for name, dtype in Att.dtypes.items():
        if name in numbers:
            columns[name] = numbers[name]
        elif name in texts:
            columns[name] = _categorical(*texts[name], order)
        elif dtype == CATEGORY:  # a text of the indicator table, as it is
            col_codes, uniques = codes(name)
            columns[name] = _categorical(_texts(uniques), col_codes, order, unused=True)
        else:
            array = codes.values(name)
            columns[name] = array if order is None else array.take(order)
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(codes)), copy=False)
    return conform(out, Att)


def _indicator_rank(numbers: pd.Series) -> np.ndarray:
    """Numeric rank of indicator numbers: "1.10" after "1.9"; equal numbers share a rank."""
    codes, uniques = pd.factorize(numbers, use_na_sentinel=True)
    # the numeric key of each distinct number "1.10" → (1, 10), ranked once, spread by code;
    # a missing number ranks as "" (the last slot, taken by code -1)
    texts = [str(u) for u in uniques] + [""]
    keys = [tuple(int(p) if p.isdigit() else 0 for p in t.split(".")) for t in texts]
    dense = {k: i for i, k in enumerate(sorted(set(keys)))}  # equal keys share a rank
    rank = np.array([dense[k] for k in keys], dtype="int64")
    return rank[codes]


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by unit keys then indicator number (stable; missing keys last); index reset."""
    keys = [_sort_codes(df[c]) for c in _SORT] + [_indicator_rank(df[Ind.indicator_no])]
    order = np.lexsort(keys[::-1])  # the last key given to lexsort is the primary one
    return _take_rows(df, order)


def _take_rows(df: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``df.take(order).reset_index(drop=True)``, faster for string columns.

    Gathering 10⁶ Arrow strings in random order is slow; numbering the distinct texts and
    gathering the numbers gives the same column in a fraction of the time.
    """
    if len(order) == len(df) and bool(np.all(order == np.arange(len(order)))):
        return df.reset_index(drop=True)  # already in order: nothing to gather
    columns = {}
    for name, series in df.items():
        if isinstance(series.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(series)
            small = pd.array(np.asarray(uniques, dtype=object), dtype=series.dtype)
            columns[name] = pd.Series(small.take(codes[order], allow_fill=True))
        else:
            columns[name] = series.take(order).reset_index(drop=True)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(order)))


def summarise_criteria(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return one row per unit × criterion (schema ``Crit``): met only when all indicators are.

    Groups are numbered from the categorical codes of the keys; the few summary rows are sorted
    while still categorical, then turned into the schema's strings.

    Examples
    --------
    >>> att = pd.DataFrame({"unit": ["A", "A", "A"], "criterion_no": ["1", "1", "2"],
    ...                     "status": ["met", "not_met", "met"]})
    >>> summarise_criteria(att)[["criterion_no", "indicators_met", "met"]].to_dict("records")
    [{'criterion_no': '1', 'indicators_met': 1, 'met': False},
     {'criterion_no': '2', 'indicators_met': 1, 'met': True}]
    """
    df = conform(attainment, Att)
    df = df[df[Ind.criterion_no].notna().to_numpy()].reset_index(drop=True)
    keys = _GROUP + [Ind.criterion_no]
    codes, first = _group_codes(df, keys)
    n_groups = len(first)
    out = df[keys].take(first).reset_index(drop=True)
    out[Ind.criterion_name] = _first_valid(df[Ind.criterion_name], codes, n_groups)
    met, total, unknown = _status_counts(df, codes, n_groups)
    out["indicators_met"] = met
    out["indicators_total"] = total
    out["indicators_unknown"] = unknown
    out[Ind.source_file] = _first_valid(df[Ind.source_file], codes, n_groups)
    out[Ind.source_sheet] = _first_valid(df[Ind.source_sheet], codes, n_groups)
    out["met"] = met == total
    no_codes, no_uniques = pd.factorize(out[Ind.criterion_no])
    no_rank = np.array([int(s) if str(s).isdigit() else 10**6 for s in no_uniques] + [10**6],
                       dtype="int64")[no_codes]
    keys_ = [_sort_codes(out[c]) for c in (Ind.level, Ind.commune, Ind.unit, Ind.year)]
    return conform(_take_rows(out, np.lexsort([no_rank, *keys_[::-1]])), Crit)


def _status_counts(df: pd.DataFrame, codes: np.ndarray,
                   n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: indicators met, indicators in all, indicators unknown."""
    met, unknown = _is_status(df, Status.met), _is_status(df, Status.unknown)
    return (np.bincount(codes, weights=met, minlength=n_groups).astype("int64"),
            np.bincount(codes, minlength=n_groups).astype("int64"),
            np.bincount(codes, weights=unknown, minlength=n_groups).astype("int64"))


def _is_status(df: pd.DataFrame, word: str) -> np.ndarray:
    """True where the row's status is ``word`` (False where it is missing)."""
    return df[Att.status].eq(word).fillna(False).to_numpy(dtype=bool)


def _joined_files(files: pd.Series, codes: np.ndarray, n_groups: int) -> list[str]:
    """Per group, its distinct non-missing file names sorted and joined by '; '.

    The (group, file) pairs are numbered with the files ranked by name, so one ``np.unique``
    sorts them; a group with one file (the usual case) takes its name without a Python loop.
    """
    file_codes = _key_codes(files)
    names = (files.cat.categories if isinstance(files.dtype, pd.CategoricalDtype)
             else pd.Index(pd.unique(files.dropna())))
    texts = np.asarray(names, dtype=object)
    by_name = np.argsort(texts.astype(str), kind="stable")
    rank = np.empty(len(texts), dtype="int64")
    rank[by_name] = np.arange(len(texts))
    valid = file_codes >= 0
    width = len(texts) + 1
    pairs = np.unique(codes[valid] * width + rank[file_codes[valid]])  # group, then name
    groups, which = pairs // width, texts[by_name][pairs % width]
    joined = np.full(n_groups, "", dtype=object)
    per_group = np.bincount(groups, minlength=n_groups)
    single = per_group[groups] == 1
    joined[groups[single]] = which[single]
    several = ~single
    if several.any():
        bounds = np.flatnonzero(np.diff(groups[several])) + 1
        for part_groups, part in zip(np.split(groups[several], bounds),
                                     np.split(which[several], bounds), strict=True):
            joined[int(part_groups[0])] = "; ".join(part)
    return list(joined)


def summarise_attainment(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return one row per unit × criteria set × year (schema ``Summ``).

    Counts: criteria met/total, indicators met/total, unknown (counted as not met) and
    discrepancies between the computed and the self-assessed status.
    """
    df = conform(attainment, Att)
    if df.empty:
        return conform(pd.DataFrame(columns=Summ.columns()), Summ)
    codes, first = _group_codes(df, _GROUP)
    n_groups = len(first)
    out = df[_GROUP].take(first).reset_index(drop=True)
    met, total, unknown = _status_counts(df, codes, n_groups)
    disc = df[Att.discrepancy].fillna(False).to_numpy(dtype=bool)
    out["indicators_met"] = met
    out["indicators_total"] = total
    out["indicators_unknown"] = unknown
    out["discrepancies"] = np.bincount(codes, weights=disc, minlength=n_groups).astype("int64")
    out[Ind.source_file] = _joined_files(df[Ind.source_file], codes, n_groups)
    # criteria: met when every indicator of the unit's criterion is met
    no_codes = _key_codes(df[Ind.criterion_no])
    has_no = np.flatnonzero(no_codes >= 0)
    crit_codes, crit_first = _combine_codes([codes[has_no], no_codes[has_no]])
    crit_met = np.bincount(crit_codes, weights=_is_status(df, Status.met)[has_no],
                           minlength=len(crit_first))
    crit_total = np.bincount(crit_codes, minlength=len(crit_first))
    crit_unit = codes[has_no][crit_first]
    out["criteria_met"] = np.bincount(crit_unit, weights=crit_met == crit_total,
                                      minlength=n_groups).astype("int64")
    out["criteria_total"] = np.bincount(crit_unit, minlength=n_groups).astype("int64")
    out = conform(out, Summ)
    keys = [_sort_codes(out[c]) for c in (Summ.level, Summ.commune, Summ.unit, Summ.year)]
    return _take_rows(out, np.lexsort(keys[::-1]))


def list_discrepancies(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return the indicators whose computed status disagrees with the self-assessment."""
    df = conform(attainment, Att)
    return df[df[Att.discrepancy].fillna(False)].reset_index(drop=True)


def list_gaps(attainment: pd.DataFrame) -> pd.DataFrame:
    """Return the indicators that are not met (including unknown), largest relative gap first."""
    df = conform(attainment, Att)
    status = df[Att.status]
    gaps = df[(status.notna() & status.ne(Status.met)).to_numpy(dtype=bool)].copy()
    rel = (gaps[Att.gap] / gaps[Att.target_value].where(gaps[Att.target_value] != 0)).astype(
        "Float64")
    gaps["relative_gap"] = rel
    return gaps.sort_values([Ind.unit, "relative_gap"], ascending=[True, False],
                            na_position="last", kind="stable").reset_index(drop=True)
