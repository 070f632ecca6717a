"""The ``ntm`` command line on the bundled sample and on broken workbooks."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from ntm_analysis.cli import cli

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
SAMPLE = sorted(RAW.glob("*.xlsx"))

# Report 46/BC-UBND: criteria met/total and indicators met/total per unit.
REPORT = {
    "Kim Phượng": ("commune", 3, 6, 25, 35),
    "Xóm Cạm Phước": ("hamlet", 3, 10, 23, 31),
    "Xóm Bản Lác": ("hamlet", 3, 10, 23, 31),
    "Xóm Ao Sen": ("hamlet", 3, 10, 22, 31),
    "Xóm Phai Đá": ("hamlet", 1, 3, 6, 10),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_summary_json_reproduces_the_report() -> None:
    result = run("summary", *map(str, SAMPLE), "--json")
    assert result.exit_code == 0, result.stderr
    units = json.loads(result.stdout)
    got = {u["unit"]: (u["level"], u["criteria_met"], u["criteria_total"], u["indicators_met"],
                       u["indicators_total"]) for u in units}
    assert got == REPORT
    for u in units:
        assert u["year"] == 2024
        assert u["indicators_unknown"] == 0 and u["discrepancies"] == 0
        assert u["source_file"].endswith(".xlsx") and u["criteria_set"]
    assert {"unit", "level", "criteria_set", "year", "criteria_met", "criteria_total",
            "indicators_met", "indicators_total", "indicators_unknown", "discrepancies",
            "source_file"} <= set(units[0])


def test_summary_table_is_readable() -> None:
    result = run("summary", *map(str, SAMPLE))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["unit", "level", "year"]
    for unit, (_, cm, ct, im, it) in REPORT.items():
        line = next(x for x in lines if x.startswith(unit + " "))
        assert f"{cm}/{ct}" in line.split() and f"{im}/{it}" in line.split()


def _one_line_error(result: object, file_name: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert 1 <= len(errors) <= 2
    assert file_name in errors[0]


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


@pytest.mark.parametrize(("name", "rows", "words"), [
    ("no_table.xlsx", [["Báo cáo"], ["Nội dung"]], "no recognisable indicator table"),
    ("duplicate.xlsx", [
        ["BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"], ["XÓM PHAI ĐÁ"],
        ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Đánh giá"],
        ["1", "Hạ tầng số"], ["1.1", "Internet", "≥ 80%", "86%", "Đạt"],
        ["1.1", "Internet", "≥ 80%", "86%", "Đạt"]], "more than once"),
])
def test_validation_errors_exit_non_zero(tmp_path: Path, name: str, rows: list[list[object]],
                                         words: str) -> None:
    path = _workbook(tmp_path / name, rows)
    result = run("summary", str(path))
    _one_line_error(result, name)
    assert words in result.stderr


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    _one_line_error(run("summary", str(tmp_path / "missing.xlsx")), "missing.xlsx")
    bad = tmp_path / "not_excel.xlsx"
    bad.write_text("this is not a workbook", encoding="utf-8")
    _one_line_error(run("summary", str(bad)), "not_excel.xlsx")


def test_summary_of_a_folder_reads_the_workbooks_under_it_once(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "hamlets").mkdir(parents=True)
    for path in SAMPLE:
        folder = raw / "hamlets" if "xom" in path.name else raw
        (folder / path.name).write_bytes(path.read_bytes())
    # what Excel and an interrupted write leave beside the workbooks is not read
    (raw / "~$kim_phuong_2024_xa_kieu_mau.xlsx").write_bytes(b"owner's lock")
    (raw / ".kim_phuong_2024_xa_kieu_mau.xlsx.1a2b3c.tmp").write_bytes(b"half")
    (raw / "README.md").write_text("notes", encoding="utf-8")
    by_files = run("summary", *map(str, SAMPLE), "--json")
    # a folder, and a workbook inside it given again: each workbook read once
    by_folder = run("summary", str(raw), str(raw / SAMPLE[0].name), "--json")
    assert by_folder.exit_code == 0, by_folder.stderr
    assert by_folder.stderr == ""
    units = json.loads(by_folder.stdout)
    assert sorted(u["unit"] for u in units) == sorted(REPORT)
    assert [{k: v for k, v in u.items() if k != "source_file"} for u in units] == [
        {k: v for k, v in u.items() if k != "source_file"} for u in json.loads(by_files.stdout)]


@pytest.mark.parametrize("command", ["summary", "funding", "income"])
def test_a_folder_without_workbooks_is_named(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "bao-cao"
    empty.mkdir()
    (empty / "notes.txt").write_text("no workbook here", encoding="utf-8")
    result = run(command, str(empty))
    assert result.exit_code == 2
    assert result.stderr == (f"error: {empty}: no workbook found "
                             "(looked for .xlsx, .xlsm, .xls, .ods)\n")


@pytest.mark.parametrize("args", [["summary", str(RAW)], ["funding", str(RAW), "--json"]])
def test_a_reader_that_stops_reading_ends_the_command_quietly(args: list[str]) -> None:
    # `ntm summary data/raw | head -1`: the reader has gone before the output is written
    import subprocess
    import sys

    command = subprocess.Popen([sys.executable, "-m", "ntm_analysis", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()
    stderr = command.stderr.read().decode()
    assert (command.wait(timeout=120), stderr) == (141, "")


def test_a_file_in_the_way_of_an_output_folder_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "processed"
    blocker.write_text("a file where the cache's folder should be", encoding="utf-8")
    result = run("ingest", str(RAW), "--out", str(blocker / "2024"))
    assert result.exit_code == 6
    assert result.stderr == (f"error: {blocker / '2024' / 'cache'}: Not a directory "
                             "(expected a folder there, found a file in its path)\n")
    assert blocker.read_text(encoding="utf-8").startswith("a file")
    # the folder itself a file: said before anything is read
    result = run("ingest", str(RAW), "--out", str(blocker))
    assert result.exit_code == 2 and "is a file" in result.stderr
    # --debug keeps Python's own error
    result = run("--debug", "ingest", str(RAW), "--out", str(blocker / "2024"))
    assert isinstance(result.exception, NotADirectoryError)


def _listing(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_bytes().hex()[:64]
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("args", [
    ["report", "{raw}", "--out", "{raw}/bao-cao"],
    ["report", "{raw}/kim_phuong_2024_xa_kieu_mau.xlsx", "{raw}", "--out", "{raw}"],
    ["ingest", "{raw}", "--out", "{raw}/processed"],
    ["batch", "--raw", "{raw}", "--out", "{raw}/batch", "--processed", "{tmp}/processed"],
], ids=["report", "report-into-the-folder", "ingest", "batch"])
def test_no_output_goes_into_a_folder_workbooks_are_read_from(tmp_path: Path,
                                                               args: list[str]) -> None:
    # `ntm report . --out bao-cao` in the office's folder of workbooks: the report's Excel
    # tables would be read as workbooks by the next run
    raw = tmp_path / "phu-bieu"
    raw.mkdir()
    for path in SAMPLE:
        (raw / path.name).write_bytes(path.read_bytes())
    before = _listing(raw)
    result = run(*[a.format(raw=raw, tmp=tmp_path) for a in args])
    assert result.exit_code == 4, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and f"is inside {raw}, which workbooks are read from; " \
        "raw data is never written" in line and "choose a folder outside it" in line
    assert _listing(raw) == before
    assert not (tmp_path / "processed").exists()  # refused before anything was read


def test_debug_keeps_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "summary", str(tmp_path / "missing.xlsx"))
    assert result.exit_code != 0 and result.exception is not None


def _first_ingest(tmp_path: Path) -> tuple[Path, Path, Result]:
    """Copy the sample workbooks into ``tmp_path/raw`` and ingest them (a cold cache) into
    ``tmp_path/processed``; return the two folders and the command's result."""
    raw, out = tmp_path / "raw", tmp_path / "processed"
    raw.mkdir()
    for path in SAMPLE:
        (raw / path.name).write_bytes(path.read_bytes())
    first = run("ingest", str(raw), "--out", str(out))
    assert first.exit_code == 0, first.stderr
    assert f"read {len(SAMPLE)} workbook(s), 0 unchanged" in first.stdout
    return raw, out, first


def test_ingest_writes_parquet_and_skips_unchanged_files(tmp_path: Path) -> None:
    raw, out, _ = _first_ingest(tmp_path)
    indicators = pd.read_parquet(out / "indicators.parquet")
    assert len(indicators) == sum(v[4] for v in REPORT.values())
    assert set(indicators["unit"]) == set(REPORT)
    assert (out / "issues.parquet").exists()
    second = run("ingest", str(raw), "--out", str(out))
    assert second.exit_code == 0
    assert f"read 0 workbook(s), {len(SAMPLE)} unchanged" in second.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out / "indicators.parquet"), indicators)


def test_ingest_says_how_many_outdated_cache_files_it_removed(tmp_path: Path) -> None:
    raw, out, first = _first_ingest(tmp_path)
    assert "removed" not in first.stdout
    for path in SAMPLE[:2]:  # two workbooks leave the folder: their cache files go
        (raw / path.name).unlink()
    second = run("ingest", str(raw), "--out", str(out))
    assert second.exit_code == 0, second.stderr
    assert f"read 0 workbook(s), {len(SAMPLE) - 2} unchanged" in second.stdout
    assert f"removed 2 outdated cache file(s) from {out / 'cache'}" in second.stdout
    third = run("ingest", str(raw), "--out", str(out))
    assert third.exit_code == 0 and "removed" not in third.stdout


def test_ingest_says_when_it_compacted_the_cache(tmp_path: Path) -> None:
    """A folder ingested one workbook at a time (a pack of one each) is compacted by the next
    ingest, which says so; the one after has nothing to compact."""
    from ntm_analysis.ingest import COMPACT_MIN_PACKS
    from ntm_analysis.synth import write_province

    staged, raw, out = tmp_path / "staged", tmp_path / "raw", tmp_path / "processed"
    write_province(staged, communes=COMPACT_MIN_PACKS, hamlets=(1, 1), seed=47)
    raw.mkdir()
    for path in sorted(staged.glob("*.xlsx")):  # the workbooks arrive one by one
        path.rename(raw / path.name)
        result = run("ingest", str(raw), "--out", str(out))
        assert result.exit_code == 0, result.stderr
        assert "compacted" not in result.stdout
    last = run("ingest", str(raw), "--out", str(out))
    assert last.exit_code == 0, last.stderr
    assert (f"compacted the cache: {COMPACT_MIN_PACKS} small or partly outdated pack(s) "
            "replaced by 1") in last.stdout
    again = run("ingest", str(raw), "--out", str(out))
    assert again.exit_code == 0 and "compacted" not in again.stdout


def test_summary_of_a_budget_workbook_says_there_is_no_indicator_table() -> None:
    from pathlib import Path

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    result = CliRunner().invoke(cli, ["summary", str(raw / "kim_phuong_2024_kinh_phi.xlsx")])
    assert result.exit_code == 2
    assert "kim_phuong_2024_kinh_phi.xlsx: no indicator table found" in result.output
    assert "ntm funding" in result.output
    assert "Traceback" not in result.output
