"""Column names and dtypes of every table the suite produces, defined once.

Code refers to columns through these classes (``Ind.unit``), never through scattered literals.
``empty_frame`` builds a typed empty table and ``conform`` puts any frame into schema order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa


class _Schema:
    """A table's columns in order with their pandas dtypes."""

    dtypes: Mapping[str, str] = {}

    @classmethod
    def columns(cls) -> list[str]:
        return list(cls.dtypes)


class Prov:
    """Provenance columns carried by every loaded row."""

    source_file = "source_file"
    source_sheet = "source_sheet"
    source_row = "source_row"


class Ind(_Schema):
    """The tidy indicator table: one row per unit × indicator × year."""

    source_file = Prov.source_file
    source_sheet = Prov.source_sheet
    source_row = Prov.source_row
    unit = "unit"
    unit_id = "unit_id"
    level = "level"
    commune = "commune"
    year = "year"
    criteria_set = "criteria_set"
    criterion_no = "criterion_no"
    criterion_name = "criterion_name"
    indicator_no = "indicator_no"
    indicator_name = "indicator_name"
    target_text = "target_text"
    value_text = "value_text"
    value = "value"
    value_unit = "value_unit"
    self_assessment = "self_assessment"
    note = "note"

    dtypes = {
        source_file: "string",
        source_sheet: "string",
        source_row: "Int64",
        unit: "string",
        unit_id: "string",
        level: "string",
        commune: "string",
        year: "Int64",
        criteria_set: "string",
        criterion_no: "string",
        criterion_name: "string",
        indicator_no: "string",
        indicator_name: "string",
        target_text: "string",
        value_text: "string",
        value: "Float64",
        value_unit: "string",
        self_assessment: "string",
        note: "string",
    }


class Att(_Schema):
    """The attainment table: the indicator table plus every value used to judge it."""

    catalogue_status = "catalogue_status"
    target_comparator = "target_comparator"
    target_value = "target_value"
    target_unit = "target_unit"
    computed_status = "computed_status"
    status = "status"
    status_basis = "status_basis"
    gap = "gap"
    discrepancy = "discrepancy"

    dtypes = {
        **Ind.dtypes,
        catalogue_status: "string",
        target_comparator: "string",
        target_value: "Float64",
        target_unit: "string",
        computed_status: "string",
        status: "string",
        status_basis: "string",
        gap: "Float64",
        discrepancy: "boolean",
    }


class Summ(_Schema):
    """One row per unit × criteria set × year: what ``ntm summary`` prints."""

    unit = Ind.unit
    level = Ind.level
    criteria_set = Ind.criteria_set
    year = Ind.year
    criteria_met = "criteria_met"
    criteria_total = "criteria_total"
    indicators_met = "indicators_met"
    indicators_total = "indicators_total"
    indicators_unknown = "indicators_unknown"
    discrepancies = "discrepancies"
    source_file = Prov.source_file
    commune = Ind.commune
    unit_id = Ind.unit_id

    dtypes = {
        unit: "string",
        level: "string",
        criteria_set: "string",
        year: "Int64",
        criteria_met: "int64",
        criteria_total: "int64",
        indicators_met: "int64",
        indicators_total: "int64",
        indicators_unknown: "int64",
        discrepancies: "int64",
        source_file: "string",
        commune: "string",
        unit_id: "string",
    }


class Crit(_Schema):
    """One row per unit × criterion: met when every indicator is met."""

    dtypes = {
        Ind.unit: "string",
        Ind.unit_id: "string",
        Ind.level: "string",
        Ind.commune: "string",
        Ind.year: "Int64",
        Ind.criteria_set: "string",
        Ind.criterion_no: "string",
        Ind.criterion_name: "string",
        "indicators_met": "int64",
        "indicators_total": "int64",
        "indicators_unknown": "int64",
        "met": "boolean",
        Ind.source_file: "string",
        Ind.source_sheet: "string",
    }


class Iss(_Schema):
    """The issues table: every problem found, errors and warnings alike."""

    source_file = Prov.source_file
    source_sheet = Prov.source_sheet
    source_row = Prov.source_row
    column = "column"
    value = "value"
    problem = "problem"
    severity = "severity"
    code = "code"

    dtypes = {
        source_file: "string",
        source_sheet: "string",
        source_row: "Int64",
        column: "string",
        value: "string",
        problem: "string",
        severity: "string",
        code: "string",
    }


class Status:
    """Indicator and assessment statuses (stable machine words; reports translate them)."""

    met = "met"
    not_met = "not_met"
    unknown = "unknown"


class Basis:
    """Why an indicator has its final status."""

    value = "value"  # the value was compared with the parsed target
    self_assessment = "self_assessment"  # the target or value could not be judged
    missing = "missing"  # the indicator is in the catalogue but not in the workbook
    none = "none"  # nothing to judge with


class Level:
    commune = "commune"
    hamlet = "hamlet"


class Severity:
    error = "error"  # the input cannot be used as it is; commands exit non-zero
    warning = "warning"  # the run goes on; the report shows it
    info = "info"  # a row or sheet deliberately not read as data (notes, signatures, budgets)


def empty_frame(schema: type[_Schema]) -> pd.DataFrame:
    """Return an empty frame with the schema's columns and dtypes."""
    return _empty_template(schema).copy()  # type: ignore[arg-type]


@cache
def _empty_template(schema: type[_Schema]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.dtypes.items()})


def frame_from_records(records: Sequence[Mapping[str, object]],
                       schema: type[_Schema]) -> pd.DataFrame:
    """Build a schema-conforming frame straight from row dicts, one typed array per column.

    The same frame as ``conform(pd.DataFrame(records), schema)`` without building an untyped
    frame first (keys outside the schema are ignored, missing keys are empty).

    Examples
    --------
    >>> df = frame_from_records([{"problem": "x", "source_row": 3}, {"problem": None}], Iss)
    >>> df["source_row"].tolist(), str(df["problem"].dtype), list(df.columns) == Iss.columns()
    ([3, <NA>], 'string', True)
    """
    if not records:
        return empty_frame(schema)
    columns = {}
    for col, dtype in schema.dtypes.items():
        values = [r.get(col) for r in records]
        if dtype == "string":
            values = [v if v is None or type(v) is str else _as_string(v) for v in values]
        columns[col] = pd.array(values, dtype=dtype)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records)))


#: Arrow type of each schema dtype (pandas' ``string`` dtype is stored as ``large_string``).
_ARROW_TYPES = {"string": "large_string", "Int64": "int64", "Float64": "float64"}


@cache
def arrow_schema(schema: type[_Schema]) -> pa.Schema:
    """Return the Arrow schema of a table schema (its columns in order, nullable)."""
    import pyarrow as pa

    return pa.schema([(col, getattr(pa, _ARROW_TYPES[dtype])())
                      for col, dtype in schema.dtypes.items()])


def table_from_records(records: Sequence[Mapping[str, object]],
                       schema: type[_Schema]) -> pa.Table:
    """Build an Arrow table straight from row dicts, one typed array per column.

    ``frame_from_table(table_from_records(records, schema), schema)`` is the same frame as
    ``frame_from_records(records, schema)``; the Arrow form is what the ingest cache writes and
    what worker processes send back, with no pandas frame built per workbook.

    Examples
    --------
    >>> t = table_from_records([{"problem": "x", "source_row": 3}, {"problem": None}], Iss)
    >>> t.column("source_row").to_pylist(), t.num_rows, t.column_names == Iss.columns()
    ([3, None], 2, True)
    >>> table_from_records([{"value": 3.5}, {"value": "n/a"}], Iss).column("value").to_pylist()
    ['3.5', 'n/a']
    """
    names = list(schema.dtypes)
    try:  # rows that name every column (the loader's do) are transposed in C
        columns: list[Sequence[object]] = list(zip(*map(itemgetter(*names), records),
                                                   strict=True))
    except KeyError:
        columns = [[r.get(col) for r in records] for col in names]
    return _table_from_columns(columns, schema)


def table_from_rows(rows: Sequence[tuple[object, ...]], schema: type[_Schema]) -> pa.Table:
    """Build an Arrow table from row tuples holding every column of ``schema`` in order.

    The same table as ``table_from_records`` of the rows as dicts, without the dicts.

    Examples
    --------
    >>> row = ("a.xlsx", "S", 3, None, None, "problem", "error", "x")
    >>> table_from_rows([row], Iss).equals(table_from_records([dict(zip(Iss.dtypes, row))], Iss))
    True
    """
    if rows and len(rows[0]) != len(schema.dtypes):  # and zip(strict) checks the others
        raise ValueError(f"rows must hold the {len(schema.dtypes)} columns of the schema")
    return _table_from_columns(list(zip(*rows, strict=True)), schema)


def _table_from_columns(columns: list[Sequence[object]], schema: type[_Schema]) -> pa.Table:
    import pyarrow as pa

    arrow = arrow_schema(schema)  # type: ignore[arg-type]
    if not columns:
        columns = [[] for _ in schema.dtypes]
    arrays = []
    for values, (col, dtype) in zip(columns, schema.dtypes.items(), strict=True):
        kind = arrow.field(col).type
        try:
            arrays.append(pa.array(values, type=kind, from_pandas=True))
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            if dtype != "string":
                raise
            # a number or date in a text column: the text ``conform`` would make of it
            arrays.append(pa.array([v if v is None or type(v) is str else _as_string(v)
                                    for v in values], type=kind, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=arrow)


def frame_from_table(table: pa.Table, schema: type[_Schema]) -> pd.DataFrame:
    """Return the schema-conforming frame of an Arrow table built with ``arrow_schema``."""
    if table.num_rows == 0:
        return empty_frame(schema)
    frame = table.to_pandas(types_mapper=_pandas_types().get)
    return conform(frame, schema)


@cache
def _pandas_types() -> dict[pa.DataType, object]:
    import pyarrow as pa

    return {pa.large_string(): pd.StringDtype("pyarrow"), pa.string(): pd.StringDtype("pyarrow"),
            pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}


def _as_string(value: object) -> object:
    """What ``conform`` makes of a non-string value in a string column (missing → None)."""
    return None if pd.isna(value) else str(value)


def conform(df: pd.DataFrame, schema: type[_Schema]) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns, in order, with the schema's dtypes.

    Missing columns are added empty; extra columns are dropped. The result never shares
    writable data with ``df`` (under copy-on-write a shallow copy already guarantees that).
    """
    n = len(df)
    if _conforms(df, schema):
        return df.copy(deep=not _COPY_ON_WRITE)  # already right: nothing to convert
    columns: dict[str, pd.Series] = {}
    for col, dtype in schema.dtypes.items():
        if col in df.columns:
            series = df[col]
            if str(series.dtype) == dtype:
                columns[col] = series.reset_index(drop=True)  # already right: no conversion
                continue
            if dtype == "string":
                if isinstance(series.dtype, pd.StringDtype):
                    series = series.astype("string")  # missing → NA, texts kept
                else:
                    series = series.astype("object").where(series.notna(), None).astype(
                        "string")
            columns[col] = series.astype(dtype).reset_index(drop=True)
        else:
            columns[col] = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype=dtype)
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(n))
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _copy_on_write() -> bool:
    """True when pandas copies on write (always from pandas 3, optional in 2.x)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return bool(pd.get_option("mode.copy_on_write") is True)


_COPY_ON_WRITE = _copy_on_write()


def _conforms(df: pd.DataFrame, schema: type[_Schema]) -> bool:
    """True when ``df`` has exactly the schema's columns and dtypes and a default index."""
    index = df.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        return False
    if list(df.columns) != list(schema.dtypes):
        return False
    return all(str(t) == want for t, want in zip(df.dtypes, schema.dtypes.values(), strict=True))
