"""Tests of the synthetic province generator: the loader reads every generated sheet."""

from __future__ import annotations

import pytest

from ntm_analysis.catalogue import load_catalogue
from ntm_analysis.load import load_workbook
from ntm_analysis.sample import COMMUNE_SET, HAMLET_SET
from ntm_analysis.schema import Ind, Iss, Level, Severity
from ntm_analysis.synth import LAYOUTS, commune_names, plan_province, write_province
from ntm_analysis.text import slug


def test_commune_names_distinct_and_deterministic() -> None:
    names = commune_names(300, seed=3)
    assert len({slug(n) for n in names}) == 300  # distinct file names too
    assert names == commune_names(300, seed=3)
    assert names != commune_names(300, seed=4)


def test_commune_names_reach_the_whole_country() -> None:
    names = commune_names(3300, seed=3)  # Vietnam's communes since July 2025
    assert len({slug(n) for n in names}) == 3300
    assert names[:300] == commune_names(300, seed=3)  # a larger province extends a smaller one
    assert {len(n.split()) for n in names} == {2, 3}
    with pytest.raises(ValueError, match="at most"):
        commune_names(10**6)


def test_plan_respects_hamlet_range() -> None:
    plan = plan_province(20, hamlets=(2, 4), seed=5)
    assert all(2 <= len(h) <= 4 and len(set(h)) == len(h) for _, h in plan)
    with pytest.raises(ValueError, match="hamlets"):
        plan_province(1, hamlets=(5, 2))


def test_every_generated_unit_is_loaded(tmp_path) -> None:
    communes = write_province(tmp_path, communes=3, hamlets=(3, 5), year=2023, seed=11)
    n_commune = len(load_catalogue(set_id=COMMUNE_SET))
    n_hamlet = len(load_catalogue(set_id=HAMLET_SET))
    for c in communes:
        assert c.path.name.endswith("_2023.xlsx")
        result = load_workbook(c.path)
        ind = result.indicators
        assert not (result.issues[Iss.severity] == Severity.error).any()
        units = ind.groupby(Ind.unit)[Ind.indicator_no].nunique().to_dict()
        assert units == {c.name: n_commune, **{h: n_hamlet for h in c.hamlets}}
        assert set(ind[Ind.year]) == {2023}
        assert set(ind[Ind.commune]) == {c.name}
        hamlet_rows = ind[ind[Ind.level] == Level.hamlet]
        assert set(hamlet_rows[Ind.criteria_set]) == {HAMLET_SET}
        assert set(ind.loc[ind[Ind.level] == Level.commune, Ind.criteria_set]) == {COMMUNE_SET}


def test_same_seed_same_tables(tmp_path) -> None:
    a = write_province(tmp_path / "a", communes=2, hamlets=(2, 3), seed=9)
    b = write_province(tmp_path / "b", communes=2, hamlets=(2, 3), seed=9, workers=2)
    for x, y in zip(a, b, strict=True):
        fx = load_workbook(x.path).indicators.drop(columns=Ind.source_file)
        fy = load_workbook(y.path).indicators.drop(columns=Ind.source_file)
        assert fx.equals(fy)


def test_layouts_vary_across_sheets(tmp_path) -> None:
    import openpyxl

    (c,) = write_province(tmp_path, communes=1, hamlets=(12, 12), seed=2)
    wb = openpyxl.load_workbook(c.path)
    # merged criteria cells or x-mark columns appear in some sheets, not in all
    merged_counts = {len(ws.merged_cells.ranges) for ws in wb.worksheets}
    assert len(merged_counts) > 1
    assert len(LAYOUTS) >= 4


def test_same_hamlet_name_in_two_communes_is_no_duplicate(tmp_path) -> None:
    from ntm_analysis.ingest import load_raw_dir

    communes = write_province(tmp_path / "raw", communes=2, hamlets=(14, 15), seed=4)
    shared = set(communes[0].hamlets) & set(communes[1].hamlets)
    assert shared  # 14+ of 20 names each: some hamlet names repeat across the two communes
    result = load_raw_dir(tmp_path / "raw").result
    assert not (result.issues[Iss.code] == "duplicate_indicator").any()
    ind = result.indicators
    name = sorted(shared)[0]
    assert set(ind.loc[ind[Ind.unit] == name, Ind.commune]) == {c.name for c in communes}
