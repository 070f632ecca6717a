"""The criteria catalogue shipped as package data."""

from __future__ import annotations

import pandas as pd
import pytest

from ntm_analysis.catalogue import (
    criteria_sets,
    detect_set_from_indicators,
    detect_set_from_text,
    load_catalogue,
    set_totals,
)

# Criteria / indicators per set, as 46/BC-UBND counts them.
TOTALS = {"model_commune": (6, 35), "model_hamlet": (10, 31), "smart_hamlet": (3, 10)}


def test_counts_per_set_come_from_the_data() -> None:
    cat = load_catalogue()
    got = {kind: (part["criterion_no"].nunique(), len(part))
           for kind, part in cat.groupby("set_kind")}
    assert got == TOTALS
    for s in criteria_sets():
        assert set_totals(s.set_id) == TOTALS[s.set_kind]


def test_every_row_has_status_and_source() -> None:
    cat = load_catalogue()
    assert set(cat["status"]) <= {"found", "inferred"}
    assert (cat["source"].str.strip() != "").all()
    assert (cat["indicator_name_vi"].str.strip() != "").all()
    assert (cat["indicator_name_en"].str.strip() != "").all()
    assert not cat.duplicated(["set_id", "indicator_no"]).any()


def test_sets_are_versioned_by_period() -> None:
    cat = load_catalogue()
    assert pd.api.types.is_integer_dtype(cat["period_start"])
    assert (cat["period_start"] <= cat["period_end"]).all()
    for s in criteria_sets():
        assert s.covers(2024) and not s.covers(s.period_end + 1)
    assert detect_set_from_text("XÓM THÔNG MINH NĂM 2031", year=2031) is None


def test_indicators_belong_to_their_criterion() -> None:
    cat = load_catalogue()
    assert (cat["indicator_no"].str.split(".").str[0] == cat["criterion_no"]).all()


@pytest.mark.parametrize(("title", "kind"), [
    ("KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024", "model_commune"),
    ("BIỂU RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU", "model_hamlet"),
    ("Biểu rà soát tiêu chí xóm thông minh", "smart_hamlet"),
    # the hamlets of other regions: a "BUÔN … KIỂU MẪU" table was the model-commune set
    ("BIỂU RÀ SOÁT TIÊU CHÍ BUÔN NTM KIỂU MẪU NĂM 2024", "model_hamlet"),
    ("BIỂU RÀ SOÁT TIÊU CHÍ ẤP NÔNG THÔN MỚI KIỂU MẪU", "model_hamlet"),
    ("BIỂU RÀ SOÁT TIÊU CHÍ SÓC NTM KIỂU MẪU", "model_hamlet"),
])
def test_set_named_by_a_title(title: str, kind: str) -> None:
    found = detect_set_from_text(title, year=2024)
    assert found is not None and found.set_kind == kind


def test_set_recognised_by_its_indicator_numbers() -> None:
    for s in criteria_sets():
        numbers = list(load_catalogue(set_id=s.set_id)["indicator_no"])
        found = detect_set_from_indicators(numbers, level=s.level, year=2024)
        assert found is not None and found.set_id == s.set_id


def test_catalogue_is_a_copy() -> None:
    cat = load_catalogue()
    cat.loc[0, "target_text"] = "changed"
    assert load_catalogue().loc[0, "target_text"] != "changed"
