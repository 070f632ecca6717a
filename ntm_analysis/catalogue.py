"""The criteria catalogue: which criteria sets exist, their indicators, targets and provenance.

The catalogue ships as package data built from public sources (``scripts/build_catalogue.py``).
Every indicator row carries ``status`` — ``found`` when its wording or number was read in an
official source, ``inferred`` otherwise — and its ``source``. Sets are versioned by period, so a
2026–2030 set can be added as rows without code changes; nothing in the suite hard-codes how many
criteria or indicators a set has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from ntm_analysis.text import fold

CATALOGUE_COLUMNS = [
    "set_id", "set_kind", "level", "period_start", "period_end",
    "criterion_no", "criterion_name_vi", "criterion_name_en",
    "indicator_no", "indicator_name_vi", "indicator_name_en",
    "target_text", "comparator", "target_value", "unit", "status", "source",
]


@dataclass(frozen=True)
class CriteriaSet:
    """One criteria set (e.g. the Thái Nguyên model-commune set 2021–2025)."""

    set_id: str
    set_kind: str
    level: str
    period_start: int
    period_end: int
    unit_prefix: str
    name_vi: str
    name_en: str
    title_pattern: str
    priority: int
    status: str
    source: str

    def covers(self, year: int | None) -> bool:
        return year is None or self.period_start <= year <= self.period_end


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files("ntm_analysis").joinpath("data", *name.split("/")).open(
        "r", encoding="utf-8"
    ) as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _catalogue() -> pd.DataFrame:
    parts = [
        _read_csv(f"criteria/{p.name}")
        for p in resources.files("ntm_analysis").joinpath("data", "criteria").iterdir()
        if p.name.endswith(".csv")
    ]
    df = pd.concat(parts, ignore_index=True)
    for col in ("period_start", "period_end"):
        df[col] = df[col].astype(int)
    df["target_value"] = pd.to_numeric(df["target_value"].replace("", None), errors="coerce")
    return df[CATALOGUE_COLUMNS]


def load_catalogue(*, set_id: str | None = None) -> pd.DataFrame:
    """Return the indicator catalogue, one row per set × indicator (a copy; safe to modify).

    Examples
    --------
    >>> cat = load_catalogue()
    >>> cat.groupby("set_kind").indicator_no.count().to_dict()
    {'model_commune': 35, 'model_hamlet': 31, 'smart_hamlet': 10}
    """
    df = _catalogue()
    if set_id is not None:
        df = df[df["set_id"] == set_id]
    return df.reset_index(drop=True).copy()


@lru_cache(maxsize=1)
def criteria_sets() -> tuple[CriteriaSet, ...]:
    """Return every known criteria set, most specific title pattern first."""
    df = _read_csv("criteria_sets.csv")
    sets = [
        CriteriaSet(
            set_id=r.set_id, set_kind=r.set_kind, level=r.level,
            period_start=int(r.period_start), period_end=int(r.period_end),
            unit_prefix=r.unit_prefix, name_vi=r.name_vi, name_en=r.name_en,
            title_pattern=r.title_pattern, priority=int(r.priority), status=r.status,
            source=r.source,
        )
        for r in df.itertuples(index=False)
    ]
    return tuple(sorted(sets, key=lambda s: (s.priority, -s.period_start)))


def get_set(set_id: str) -> CriteriaSet:
    """Return the set with this id; raise ``KeyError`` naming the known ids otherwise."""
    for s in criteria_sets():
        if s.set_id == set_id:
            return s
    known = ", ".join(s.set_id for s in criteria_sets())
    raise KeyError(f"unknown criteria set {set_id!r}; known sets: {known}")


def set_totals(set_id: str) -> tuple[int, int]:
    """Return (criteria, indicators) in a set.

    >>> set_totals("TN_XOM_THONG_MINH")
    (3, 10)
    """
    cat = load_catalogue(set_id=set_id)
    return int(cat["criterion_no"].nunique()), len(cat)


def detect_set_from_text(text: str, *, year: int | None = None) -> CriteriaSet | None:
    """Return the set a title names ("... XÓM THÔNG MINH ..."), or ``None``.

    Examples
    --------
    >>> detect_set_from_text("BIỂU RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024").set_kind
    'model_hamlet'
    >>> detect_set_from_text("KẾT QUẢ RÀ SOÁT XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024").set_kind
    'model_commune'
    >>> detect_set_from_text("Bảng tổng hợp") is None
    True
    """
    return detect_set_from_key(fold(text), year=year)


def detect_set_from_key(key: str, *, year: int | None = None) -> CriteriaSet | None:
    """``detect_set_from_text`` of a text already folded (``text.fold``).

    Examples
    --------
    >>> detect_set_from_key("ket qua ra soat xa nong thon moi kieu mau nam 2024").set_kind
    'model_commune'
    """
    for s in criteria_sets():
        if s.covers(year) and _title_regex(s.title_pattern).search(key):
            return s
    return None


@lru_cache(maxsize=256)
def _title_regex(title_pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{title_pattern})\b")


def detect_set_from_indicators(
    indicator_nos: list[str], *, level: str | None = None, year: int | None = None
) -> CriteriaSet | None:
    """Return the set whose indicator numbers best match a table's, or ``None``.

    A set matches when the table's numbers are the set's numbers (at most one missing or extra
    per ten indicators); ties go to the set whose level agrees with ``level``.
    """
    found = set(indicator_nos)
    if not found:
        return None
    best: tuple[float, CriteriaSet] | None = None
    for s in criteria_sets():
        if not s.covers(year):
            continue
        numbers = set(load_catalogue(set_id=s.set_id)["indicator_no"])
        diff = len(found ^ numbers)
        if diff > max(1, len(numbers) // 10):
            continue
        score = diff - (0.5 if level == s.level else 0.0)
        if best is None or score < best[0]:
            best = (score, s)
    return best[1] if best else None
