"""Generate synthetic province-scale input: one appendix workbook per commune.

Each commune workbook holds the commune's own sheet (model-commune set) and 10–15 hamlet sheets
(model-hamlet set), drawn in varied layouts that the loader reads (criteria as rows or merged
cells, roman or arabic criterion numbers, dotted / restarting / prefixed indicator numbers, one-
or two-row headers, word or x-mark assessments). Values and self-assessments are drawn from a
seeded random generator, so the same arguments always give the same workbooks.

Benchmarks and tests use it; nothing here is real data.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ntm_analysis.catalogue import load_catalogue
from ntm_analysis.sample import (
    COMMUNE_SET,
    COMMUNE_UNMET,
    COMMUNE_VALUES,
    HAMLET_SET,
    HAMLET_VALUES,
    Layout,
    UnitTable,
    unit_rows,
    write_appendix,
)
from ntm_analysis.text import slug

log = logging.getLogger(__name__)

#: Syllables that commune and hamlet names are made of (all real Vietnamese place syllables).
SYLLABLES = (
    "An", "Bình", "Cẩm", "Đông", "Hòa", "Kim", "Lạc", "Minh", "Phú", "Phượng", "Quang", "Sơn",
    "Tân", "Thanh", "Trung", "Vĩnh", "Yên", "Hợp", "Thành", "Lương", "Phúc", "Hưng", "Thịnh",
    "Khánh", "Lâm", "Mỹ", "Nghĩa", "Tiến", "Xuân", "Hồng",
)
HAMLET_SYLLABLES = (
    "Ao Sen", "Bản Lác", "Cạm Phước", "Phai Đá", "Na Pọng", "Khuổi", "Đồng Bòng", "Làng Mới",
    "Nà Mò", "Bản Quyên", "Đèo Khế", "Gốc Gạo", "Tân Lập", "Cầu Trắng", "Đồng Tâm", "Trung Tâm",
    "Bãi Bằng", "Na Hiên", "Khau Lầu", "Thác Dài",
)

#: Layout variants the generator draws from (each is read by the loader).
LAYOUTS: tuple[Layout, ...] = (
    Layout(),
    Layout(criterion_numbers="roman", indicator_numbers="restart", column_numbers=False,
           headers={"number": "STT", "criterion": "Tiêu chí", "name": "Nội dung",
                    "target": "Yêu cầu đạt chuẩn", "result": "Thực trạng",
                    "assessment": "Đánh giá", "group": "", "note": "Ghi chú"}),
    Layout(criteria="merged", indicator_numbers="none", assessment="marks", column_numbers=False,
           headers={"number": "TT", "criterion": "Tên tiêu chí", "name": "Nội dung chỉ tiêu",
                    "target": "Chỉ tiêu", "result": "Kết quả thực hiện",
                    "assessment": "Kết quả đánh giá", "group": "", "note": "Ghi chú"}),
    Layout(header_rows=1, column_numbers=False, indicator_numbers="prefix"),
    Layout(assessment="marks"),
)


@dataclass(frozen=True)
class SynthCommune:
    """One generated commune: its name, file and the hamlets its workbook holds."""

    name: str
    path: Path
    hamlets: tuple[str, ...]


def commune_names(n: int, *, seed: int = 0) -> list[str]:
    """Return ``n`` distinct commune names, deterministic for a seed.

    Two-syllable names come first (about 800 of them, as most communes are named); past them,
    three-syllable names (about 24,000), enough for the whole country's 3,300 communes. The
    first names for a seed do not depend on ``n``.

    Examples
    --------
    >>> names = commune_names(3, seed=1)
    >>> len(set(names)), names == commune_names(3, seed=1)
    (3, True)
    """
    rng = random.Random(seed)
    pairs = [f"{a} {b}" for a in SYLLABLES for b in SYLLABLES if a != b]
    rng.shuffle(pairs)
    names = _one_per_slug(pairs)
    if n > len(names):
        triples = [f"{a} {b} {c}" for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES
                   if len({a, b, c}) == 3]
        rng.shuffle(triples)
        names += _one_per_slug(triples)
    if n > len(names):
        raise ValueError(f"at most {len(names)} distinct commune names, asked for {n}")
    return names[:n]


def _one_per_slug(names: list[str]) -> list[str]:
    """The first name of each slug, in order: "Thanh Sơn" and "Thành Sơn" share a file name."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(slug(name), name)
    return list(first.values())


def _commune_table(name: str, rng: random.Random, met_share: float) -> UnitTable:
    numbers = list(load_catalogue(set_id=COMMUNE_SET)["indicator_no"])
    unmet = {n for n in numbers if rng.random() > met_share} | (
        COMMUNE_UNMET if rng.random() < 0.2 else set())
    assess: dict[str, str | None] = {n: ("Chưa đạt" if n in unmet else "Đạt") for n in numbers}
    return UnitTable(f"Xã {name}", unit_rows(COMMUNE_SET, COMMUNE_VALUES, assess))


def _hamlet_table(label: str, rng: random.Random, met_share: float) -> UnitTable:
    numbers = list(load_catalogue(set_id=HAMLET_SET)["indicator_no"])
    unmet = {n for n in numbers if rng.random() > met_share}
    values = {n: HAMLET_VALUES[n][1 if n in unmet else 0] for n in numbers if n in HAMLET_VALUES}
    assess: dict[str, str | None] = {n: ("Chưa đạt" if n in unmet else "Đạt") for n in numbers}
    return UnitTable(label, unit_rows(HAMLET_SET, values, assess))


def write_commune_workbook(path: str | os.PathLike[str], commune: str, *, year: int = 2024,
                           hamlets: Sequence[str], seed: int = 0) -> Path:
    """Write one commune's workbook: the commune sheet, then one sheet per hamlet."""
    import openpyxl

    rng = random.Random(f"{seed}:{commune}:{year}")
    met_share = rng.uniform(0.6, 0.97)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phụ biểu 01"
    layout = LAYOUTS[rng.randrange(len(LAYOUTS))]
    write_appendix(ws, [f"ỦY BAN NHÂN DÂN XÃ {commune.upper()}", "Phụ biểu số 01",
                        f"KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM {year}"],
                   [_commune_table(commune, rng, met_share)], layout)
    for i, hamlet in enumerate(hamlets, start=2):
        ws = wb.create_sheet(f"Xóm {hamlet}"[:31])
        layout = replace(LAYOUTS[rng.randrange(len(LAYOUTS))])
        write_appendix(ws, [f"Phụ biểu số {i:02d}",
                            f"KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM {year}",
                            f"XÓM {hamlet.upper()} - XÃ {commune.upper()}"],
                       [_hamlet_table(f"Xóm {hamlet}", rng, met_share)], layout)
    wb.properties.creator = "ntm-analysis synthetic generator"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _write_one(args: tuple[str, str, int, tuple[str, ...], int]) -> str:
    path, commune, year, hamlets, seed = args
    return str(write_commune_workbook(path, commune, year=year, hamlets=hamlets, seed=seed))


def plan_province(n_communes: int, *, hamlets: tuple[int, int] = (10, 15), seed: int = 0
                  ) -> list[tuple[str, tuple[str, ...]]]:
    """Return (commune, hamlets) pairs for a synthetic province, deterministic for a seed.

    Examples
    --------
    >>> plan = plan_province(2, hamlets=(3, 4), seed=7)
    >>> [len(h) in (3, 4) for _, h in plan]
    [True, True]
    """
    lo, hi = hamlets
    if lo < 0 or hi < lo or hi > len(HAMLET_SYLLABLES):
        raise ValueError(f"hamlets must be (low, high) with 0 <= low <= high <= "
                         f"{len(HAMLET_SYLLABLES)}, got {hamlets}")
    rng = random.Random(seed)
    plan = []
    for name in commune_names(n_communes, seed=seed):
        k = rng.randint(lo, hi)
        plan.append((name, tuple(sorted(rng.sample(HAMLET_SYLLABLES, k)))))
    return plan


def write_province(out_dir: str | os.PathLike[str], *, communes: int = 200,
                   hamlets: tuple[int, int] = (10, 15), year: int = 2024, seed: int = 0,
                   workers: int = 1) -> list[SynthCommune]:
    """Write a synthetic province: one workbook per commune, ``<slug>_<year>.xlsx``.

    Parameters
    ----------
    out_dir
        Folder to write into (created); never point it at ``data/raw`` of a real project.
    communes
        How many communes.
    hamlets
        Lowest and highest number of hamlet sheets per commune.
    year, seed
        Year written in the titles; seed of the random draws.
    workers
        Processes used to write the files (openpyxl writing is the slow part).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_province(communes, hamlets=hamlets, seed=seed)
    jobs = [(str(out / f"{slug(name)}_{year}.xlsx"), name, year, hs, seed) for name, hs in plan]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_one, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    else:
        for job in jobs:
            _write_one(job)
    log.info("wrote %d synthetic commune workbooks to %s", len(jobs), out)
    return [SynthCommune(name, Path(p), tuple(f"Xóm {h}" for h in hs))
            for (p, name, _, hs, _) in jobs]
