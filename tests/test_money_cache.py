"""The cache of each workbook's budget and income tables (``ntm_analysis.money_cache``): the same
tables as a fresh read, the workbook not read again while unchanged, and a damaged, outdated or
unwritable cache never in the way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_budget import BOTTOM_TOTAL, write_sheet
from test_report_money import write_indicator_only

from ntm_analysis import build_id, ingest, money_cache
from ntm_analysis.ingest import CACHE_DIR, find_workbooks, load_raw_dir
from ntm_analysis.report_data import load_report_data
from ntm_analysis.report_money import MoneyData, load_money
from ntm_analysis.sample import write_sample_data
from ntm_analysis.sample_money import write_budget_sample, write_income_sample

COMMUNE = "Kim Phượng"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A raw folder: the budget and income samples, a workbook of indicators only, a budget
    whose subtotal disagrees with its lines (an issue row) and a file that is no workbook."""
    folder = tmp_path / "raw"
    folder.mkdir()
    write_budget_sample(folder / "kp_kinh_phi.xlsx")
    write_income_sample(folder / "kp_thu_nhap.xlsx")
    write_indicator_only(folder / "kp_xa.xlsx")
    rows = [row[:] for row in BOTTOM_TOTAL]
    rows[6][5] = "3.600.000"  # the commune subtotal disagrees with its lines
    write_sheet(folder / "sai.xlsx", rows)
    (folder / "broken.xlsx").write_text("not a workbook", encoding="utf-8")
    return folder


def _paths(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xlsx"))


def _assert_same(cached: MoneyData, read: MoneyData) -> None:
    for name in ("budget", "income"):
        a, b = getattr(cached, name), getattr(read, name)
        assert (a is None) == (b is None), name
        if a is not None:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(cached.issues, read.issues, check_exact=True)
    assert cached.files_read == read.files_read


def _entries(processed: Path) -> list[Path]:
    return sorted((processed / CACHE_DIR).glob(money_cache.MONEY_GLOB))


@pytest.mark.parametrize("year", [2024, 2025])
def test_cached_tables_are_the_tables_read(raw: Path, tmp_path: Path, year: int) -> None:
    processed = tmp_path / "processed"
    read = load_money(_paths(raw), year=year)
    assert read.budget is not None and read.income is not None
    if year == 2025:
        # issues go through too; the note under the budget sample is not listed, as no line
        # of that 2024 table is used for 2025 (the income series has no year to keep)
        assert read.issues[["source_file", "code"]].values.tolist() == [
            ["kp_thu_nhap.xlsx", "footer_row"], ["sai.xlsx", "subtotal_mismatch"]]
    first = load_money(_paths(raw), year=year, processed_dir=processed)  # read and kept
    assert len(_entries(processed)) == 5  # one per file, "no table" and "no workbook" too
    second = load_money(_paths(raw), year=year, processed_dir=processed)  # from the cache
    for cached in (first, second):
        _assert_same(cached, read)
    # with the report's commune, as a report reads them
    _assert_same(load_money(_paths(raw), year=year, commune=COMMUNE, processed_dir=processed),
                 load_money(_paths(raw), year=year, commune=COMMUNE))


def test_an_unchanged_workbook_is_not_read_again(raw: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    processed = tmp_path / "processed"
    read = load_money(_paths(raw), year=2024, processed_dir=processed)
    reads: list[str] = []
    real = money_cache.read_workbook_money

    def counting(path: Path) -> money_cache.WorkbookMoney:
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(money_cache, "read_workbook_money", counting)
    _assert_same(load_money(_paths(raw), year=2024, processed_dir=processed), read)
    assert reads == []
    # a changed workbook is read again (its content is its key), the others are not
    write_income_sample(raw / "kp_thu_nhap.xlsx", commune="Bảo Cường")
    changed = load_money(_paths(raw), year=2024, processed_dir=processed)
    assert reads == ["kp_thu_nhap.xlsx"]
    assert changed.income is not None
    assert "Bảo Cường" in set(changed.income["unit"])
    # a renamed copy is read under its own name: provenance names the file as it is now
    shutil.copy(raw / "kp_kinh_phi.xlsx", raw / "kinh_phi_2024.xlsx")
    renamed = load_money([raw / "kinh_phi_2024.xlsx"], year=2024, processed_dir=processed)
    assert reads[-1] == "kinh_phi_2024.xlsx" and renamed.budget_files == ["kinh_phi_2024.xlsx"]


def test_a_workbook_is_opened_once_for_its_budget_and_income_tables(
        raw: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ntm_analysis import budget

    opened: list[str] = []
    real = budget.read_grids

    def counting(path: Path) -> list[budget.Grid]:
        opened.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(budget, "read_grids", counting)
    found = money_cache.read_workbook_money(raw / "kp_kinh_phi.xlsx")
    assert opened == ["kp_kinh_phi.xlsx"]  # the budget reader's read serves the income reader
    assert found.lines is not None and found.series is None


def test_a_damaged_entry_is_read_again_and_rewritten(raw: Path, tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    read = load_money(_paths(raw), year=2024, processed_dir=processed)
    entries = _entries(processed)
    entries[0].write_bytes(b"PAR1 not really")
    entries[1].write_bytes(entries[1].read_bytes()[:-40])  # cut short
    _assert_same(load_money(_paths(raw), year=2024, processed_dir=processed), read)
    for entry in entries[:2]:  # written anew, whole
        assert money_cache._read_entry(entry) is not None


def test_an_unwritable_cache_only_costs_the_read(raw: Path, tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    processed.mkdir()
    (processed / CACHE_DIR).write_text("a file where the cache folder would be")
    _assert_same(load_money(_paths(raw), year=2024, processed_dir=processed),
                 load_money(_paths(raw), year=2024))


def test_the_ingest_prunes_entries_of_workbooks_gone_and_of_other_versions(
        raw: Path, tmp_path: Path) -> None:
    processed = tmp_path / "processed"
    load_money(_paths(raw), year=2024, processed_dir=processed)
    cache = processed / CACHE_DIR
    other_version = cache / _entries(processed)[0].name.replace(build_id(), "0.0.0")
    shutil.copy(_entries(processed)[0], other_version)
    gone = money_cache.entry_name(
        money_cache.file_sha256(raw / "kp_thu_nhap.xlsx"), "kp_thu_nhap.xlsx")
    (raw / "kp_thu_nhap.xlsx").unlink()
    kept = {p.name for p in _entries(processed)} - {gone, other_version.name}
    report = load_raw_dir(raw, processed_dir=processed)
    # every workbook of the folder, in its order, with the digest the entries are named after
    assert report.digests == {p: money_cache.file_sha256(p) for p in find_workbooks(raw)}
    assert {gone, other_version.name} <= set(report.pruned)
    assert {p.name for p in _entries(processed)} == kept


def test_the_ingest_prunes_the_entry_of_a_renamed_workbook(raw: Path, tmp_path: Path) -> None:
    """The entry's name holds the file name (its tables' provenance names the file): once the
    workbook is renamed, the entry under the old name serves nothing, and the ingest removes
    it; the entries of the other workbooks stay."""
    processed = tmp_path / "processed"
    load_money(_paths(raw), year=2024, processed_dir=processed)
    before = {p.name for p in _entries(processed)}
    digest = money_cache.file_sha256(raw / "kp_thu_nhap.xlsx")
    old = money_cache.entry_name(digest, "kp_thu_nhap.xlsx")
    assert old in before
    (raw / "kp_thu_nhap.xlsx").rename(raw / "kp_thu_nhap_2024.xlsx")
    report = load_raw_dir(raw, processed_dir=processed)
    assert old in report.pruned
    assert {p.name for p in _entries(processed)} == before - {old}
    # the renamed workbook's tables are read (and kept) under its new name, naming it
    renamed = load_money(_paths(raw), year=2024, processed_dir=processed)
    new = money_cache.entry_name(digest, "kp_thu_nhap_2024.xlsx")
    assert {p.name for p in _entries(processed)} == before - {old} | {new}
    _assert_same(renamed, load_money(_paths(raw), year=2024))


def test_a_report_reads_its_money_tables_through_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    write_sample_data(raw)  # the indicator appendices, budget and income of the sample
    processed = tmp_path / "processed"
    params = {"year": 2024, "commune": COMMUNE, "raw_dir": str(raw),
              "processed_dir": str(processed), "paths": []}
    hashed: list[str] = []
    real_hash = money_cache.file_sha256

    def counting_hash(path: Path) -> str:
        hashed.append(Path(path).name)
        return real_hash(path)

    monkeypatch.setattr(money_cache, "file_sha256", counting_hash)
    first = load_report_data(params)
    assert len(_entries(processed)) == len(_paths(raw))
    assert hashed == []  # the ingest's digests name the entries: no workbook hashed twice
    again = load_report_data(params)
    _assert_same(again.money, first.money)
    assert first.money.budget is not None and first.money.income is not None
    # explicit paths (a batch run's): both their indicator and money tables go through the
    # cache (a pack of one per workbook, parsed once), and each workbook is hashed once
    explicit = tmp_path / "explicit"
    hashed.clear()
    given = load_report_data(params | {"paths": [str(p) for p in _paths(raw)],
                                       "processed_dir": str(explicit)})
    assert len(_entries(explicit)) == len(_paths(raw))
    assert len(list((explicit / CACHE_DIR).glob("pack-*"))) == len(_paths(raw))
    assert hashed == []
    _assert_same(given.money, first.money)
    pd.testing.assert_frame_equal(given.attainment, first.attainment)
    parsed: list[str] = []
    real_parse = ingest._parse_tables
    monkeypatch.setattr(ingest, "_parse_tables",
                        lambda path, year: parsed.append(path.name) or real_parse(path, year))
    again = load_report_data(params | {"paths": [str(p) for p in _paths(raw)],
                                       "processed_dir": str(explicit)})
    assert parsed == []  # nothing parsed a second time
    pd.testing.assert_frame_equal(again.attainment, first.attainment)
