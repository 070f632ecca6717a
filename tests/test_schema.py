"""Tests of the schema helpers that build Arrow tables."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from ntm_analysis.schema import Ind, Iss, arrow_schema, table_from_rows


def _one_by_one(rows: list[tuple[object, ...]], schema: type[Ind] | type[Iss]) -> pa.Table:
    """The table made value by value (no column taken for one repeated value)."""
    arrow = arrow_schema(schema)
    arrays = []
    for j, field in enumerate(arrow):
        values = [row[j] for row in rows]
        if field.type == pa.large_string():
            values = [None if v is None or (isinstance(v, float) and math.isnan(v))
                      else v if type(v) is str else str(v) for v in values]
        arrays.append(pa.array(values, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=arrow)


@pytest.mark.parametrize("column", [
    ["a.xlsx"] * 3,  # one text throughout
    [None] * 3,  # empty throughout
    ["a.xlsx", "b.xlsx", "a.xlsx"],  # first and last alike, not the middle
    [float("nan")] * 3,  # pandas' missing value in a text column
    [3.0] * 3,  # a number in a text column: its text
    ["Xóm Ao Sen", "Xóm Ao Sen"],
])
def test_a_repeated_text_gives_the_table_of_its_values(column: list[object]) -> None:
    rows = [("f.xlsx", "S", i + 1, None, value, "p", "error", "c")
            for i, value in enumerate(column)]
    table = table_from_rows(rows, Iss)
    expected = _one_by_one(rows, Iss)
    assert table.schema == expected.schema
    assert table.equals(expected)
    assert table.column("value").to_pylist() == expected.column("value").to_pylist()
    assert all(c.num_chunks == 1 for c in table.columns)


@pytest.mark.parametrize("years", [[2024] * 4, [None] * 4, [2024, 2023, 2024, 2024]])
def test_a_repeated_number_gives_the_table_of_its_values(years: list[int | None]) -> None:
    base = ("f.xlsx", "S", 5, "Xóm Ao Sen", "kim-phuong/xom-ao-sen", "hamlet", "Kim Phượng")
    rest = ("hamlet_2024", "1", "Quy hoạch", "1.1", "Có quy hoạch", "Có", "Có", 1.0, None,
            "met", None)
    rows = [(*base, year, *rest) for year in years]
    table = table_from_rows(rows, Ind)
    assert table.equals(_one_by_one(rows, Ind))
    assert table.column("year").to_pylist() == years


def test_values_equal_across_types_are_not_taken_for_one_value() -> None:
    """``2024 == 2024.0 == ...``: a column mixing them is converted value by value, as Arrow
    does it (not made from its first value), and ``True == 1`` likewise."""
    base = ("f.xlsx", "S", 5, None, None, None, None)
    rest = (None,) * 11
    for years in ([2024, 2024.0, 2024], [1, True, 1]):
        rows = [(*base, year, *rest) for year in years]
        try:
            expected: object = pa.array(years, type=pa.int64(), from_pandas=True).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            expected = type(error)
        try:
            got: object = table_from_rows(rows, Ind).column("year").to_pylist()
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            got = type(error)
        assert got == expected, years


@pytest.mark.parametrize("width", ["int8", "int16"])
@pytest.mark.parametrize("unused", [True, False])
def test_remapped_codes_are_the_sorted_categories_of_the_labels(width: str, unused: bool
                                                               ) -> None:
    """One-byte codes go through a byte translation, wider ones through ``np.take``: both
    give what ``astype("category")`` of the labels' texts gives."""
    import numpy as np
    import pandas as pd

    from ntm_analysis.schema import remap_codes

    labels = ["Xóm Ao Sen", None, "Bản Lác", "Cạm Phước", "Bản Lác", "Ao Sen", "unused"]
    rng = np.random.default_rng(5)
    codes = rng.choice([-1, 0, 1, 2, 3, 4, 5], 20_000).astype(width)  # the last label unused
    mapped, distinct = remap_codes(codes, labels, unused=unused)
    texts = pd.Series([labels[c] if c >= 0 else None for c in codes.tolist()], dtype=object)
    want = texts.astype("category")
    expected = sorted(set(want.cat.categories) | ({"unused"} if unused else set()))
    assert distinct == expected
    assert [distinct[c] if c >= 0 else None for c in mapped.tolist()] == texts.tolist()
    assert mapped.flags.writeable and mapped.dtype == np.int8


def test_one_byte_codes_with_more_labels_than_a_byte_holds() -> None:
    """Labels beyond what one-byte codes can point at (a fallback list, say) are never used."""
    import numpy as np

    from ntm_analysis.schema import remap_codes

    labels = [f"nhãn {i:03d}" for i in range(300)]
    codes = np.array([5, -1, 127, 5, 0], dtype=np.int8)
    for unused in (True, False):
        mapped, distinct = remap_codes(codes, labels, unused=unused)
        got = [distinct[c] if c >= 0 else None for c in mapped.tolist()]
        assert got == ["nhãn 005", None, "nhãn 127", "nhãn 005", "nhãn 000"]
    assert remap_codes(codes, labels, unused=False)[1] == ["nhãn 000", "nhãn 005", "nhãn 127"]
