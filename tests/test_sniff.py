"""Tests of ntm_analysis.sniff and ntm_analysis.safety: file-level defects and XML attacks."""

from __future__ import annotations

import importlib.util
import io
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ntm_analysis.errors import InputError, NtmError
from ntm_analysis.safety import UnsafeEnvironmentError, assert_defused
from ntm_analysis.sniff import ENTITY_PROBLEM, PASSWORD_PROBLEM, check_workbook_file

CORPUS = Path(__file__).parent / "data" / "with-problems"
_spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
assert _spec and _spec.loader
make_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_corpus)

ENTITY = f"{ENTITY_PROBLEM} (part 'xl/sharedStrings.xml')"
REFUSED = {
    "empty-file.xlsx": "the file is empty (0 bytes); expected an Excel workbook",
    "not-a-workbook-random-bytes.xlsx": (
        "the file is not an Excel workbook: its content is not a known format (it starts with"
        " bytes 8f 3a 14 75 4d 10 0f 23)"),
    "pdf-renamed.xlsx": "this is a PDF document, not an Excel workbook",
    "png-renamed.xlsx": "this is a PNG image, not an Excel workbook",
    "csv-renamed.xlsx": ("this is a CSV text file, not an Excel workbook (open it in Excel and"
                         " save it as .xlsx)"),
    "html-renamed.xls": ("this is an HTML page, not an Excel workbook (some systems export HTML"
                         " with an Excel name; open it in Excel and save it as .xlsx)"),
    "excel-2003-xml.xls": ("this is an Excel 2003 XML spreadsheet, which cannot be read; open it"
                           " in Excel and save it as .xlsx"),
    "zip-not-a-workbook.xlsx": ("this is a zip archive, not an Excel workbook (it has no"
                                " [Content_Types].xml)"),
    "word-document-renamed.xlsx": "this is a Word document (.docx), not an Excel workbook",
    "truncated-workbook.xlsx": ("the file starts like a zip-based workbook but is damaged or"
                                " truncated; save it again from Excel"),
    "password-protected.xlsx": PASSWORD_PROBLEM,
    "xml-entity-expansion.xlsx": ENTITY,
    "xml-external-entity.xlsx": ENTITY,
    "xml-external-entity-utf16.xlsx": ENTITY,
    "zip-bomb.xlsx": ("part 'xl/worksheets/sheet1.xml' is compressed 1,018 to 1, more than the"
                      " limit of 200 to 1 (possible zip bomb); refusing to read it"),
}
ACCEPTED = {
    "valid-minimal.xlsx": "xlsx",
    "legacy-tcvn3.xlsx": "xlsx",
    "legacy-vni.xlsx": "xlsx",
    "legacy-format.xls": "xls",
    "excel-errors.xls": "xls",
    "excel-errors.ods": "ods",
}


def _verdict_and_parts(path: Path) -> tuple[str, dict[str, bytes]]:
    """``check_workbook_file``'s answer (its format, or its error's message) and kept parts."""
    parts: dict[str, bytes] = {}
    try:
        verdict = check_workbook_file(path, parts=parts)
    except InputError as error:
        verdict = str(error)
    return verdict, parts


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_file_is_refused_with_located_message(name: str) -> None:
    with pytest.raises(InputError) as info:
        check_workbook_file(CORPUS / name)
    assert str(info.value) == f"{name}: {REFUSED[name]}"
    assert info.value.location.file == name
    assert info.value.exit_code != 0


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_corpus_workbook_is_accepted(name: str) -> None:
    assert check_workbook_file(CORPUS / name) == ACCEPTED[name]


_loader_spec = importlib.util.spec_from_file_location("make_loader_corpus",
                                                      CORPUS / "make_loader_corpus.py")
assert _loader_spec and _loader_spec.loader
make_loader_corpus = importlib.util.module_from_spec(_loader_spec)
_loader_spec.loader.exec_module(make_loader_corpus)
#: Loader-level defects (valid workbooks with a defect inside; tested in test_defects.py).
LOADER_DEFECTS = {f"{n.replace('_', '-')}.xlsx" for n in make_loader_corpus.DEFECTS}


def test_every_corpus_file_is_covered() -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix in {".xlsx", ".xls", ".ods"}}
    assert on_disk - LOADER_DEFECTS == set(REFUSED) | set(ACCEPTED)


@pytest.mark.parametrize("name", sorted(LOADER_DEFECTS))
def test_loader_defect_files_pass_the_file_checks(name: str) -> None:
    assert check_workbook_file(CORPUS / name) == "xlsx"


def test_corpus_regenerates_the_same_verdicts(tmp_path: Path) -> None:
    names = make_corpus.build(tmp_path)
    for name in names:
        if name in REFUSED:
            with pytest.raises(InputError) as info:
                check_workbook_file(tmp_path / name)
            expected = f"{name}: {REFUSED[name]}"
            if name == "zip-bomb.xlsx":  # the ratio depends on the zlib build
                expected = re.sub(r"compressed [\d,]+ to 1", "compressed N to 1", expected)
                assert re.sub(r"compressed [\d,]+ to 1", "compressed N to 1",
                              str(info.value)) == expected
            else:
                assert str(info.value) == expected
        else:
            assert check_workbook_file(tmp_path / name) == ACCEPTED[name]


def test_legacy_xls_is_readable_with_calamine() -> None:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(CORPUS / "legacy-format.xls")).get_sheet_by_name(
        "Xa").to_python()
    assert rows[1][1] == "Tỷ lệ hộ nghèo đa chiều"
    assert rows[1][2] == pytest.approx(3.2)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^nope\.xlsx: file not found"):
        check_workbook_file(tmp_path / "nope.xlsx")
    folder = tmp_path / "thu-muc.xlsx"
    folder.mkdir()
    with pytest.raises(InputError) as info:
        check_workbook_file(folder)
    assert str(info.value) == "thu-muc.xlsx: this is a folder, not a workbook file"


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    make_corpus.minimal_xlsx(path)
    size = path.stat().st_size
    with pytest.raises(InputError) as info:
        check_workbook_file(path, max_bytes=size - 1)
    assert "larger than the limit" in str(info.value)
    assert check_workbook_file(path, max_bytes=size) == "xlsx"


def test_total_uncompressed_limit_from_zip_directory(tmp_path: Path) -> None:
    path = tmp_path / "inflated.xlsx"
    make_corpus.minimal_xlsx(path, sheet_pad=" " * 3_000_000)
    total = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    with pytest.raises(InputError) as info:
        check_workbook_file(path, max_uncompressed=2_000_000, max_ratio=10_000)
    assert str(info.value) == (
        f"inflated.xlsx: the workbook would unpack to {total / 1e6:,.1f} MB, more than the limit"
        " of 2.0 MB (possible zip bomb); refusing to read it")
    # with generous limits the same well-formed workbook passes
    assert check_workbook_file(path, max_ratio=10_000) == "xlsx"


def test_real_openpyxl_workbook_and_xlsm_and_ods(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Xóm Ao Sen"
    wb.save(tmp_path / "ok.xlsx")
    assert check_workbook_file(tmp_path / "ok.xlsx") == "xlsx"
    # the real format wins over the extension
    (tmp_path / "ok.xls").write_bytes((tmp_path / "ok.xlsx").read_bytes())
    assert check_workbook_file(tmp_path / "ok.xls") == "xlsx"
    with zipfile.ZipFile(tmp_path / "ok.xlsx") as src, \
            zipfile.ZipFile(tmp_path / "macro.xlsm", "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 16)
    assert check_workbook_file(tmp_path / "macro.xlsm") == "xlsm"
    with zipfile.ZipFile(tmp_path / "calc.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    assert check_workbook_file(tmp_path / "calc.ods") == "ods"


def test_plain_text_file(tmp_path: Path) -> None:
    path = tmp_path / "ghi-chu.xlsx"
    path.write_text("Báo cáo kết quả thực hiện\nxây dựng nông thôn mới\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        check_workbook_file(path)
    assert str(info.value) == "ghi-chu.xlsx: this is a plain text file, not an Excel workbook"


# ------------------------------------------------------------------------------ XML attacks
def test_openpyxl_uses_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True
    assert_defused()


def test_assert_defused_refuses_unprotected_openpyxl() -> None:
    code = (
        "import os; os.environ['OPENPYXL_DEFUSEDXML'] = 'False'\n"
        "from ntm_analysis.safety import assert_defused, UnsafeEnvironmentError\n"
        "try:\n    assert_defused()\n"
        "except UnsafeEnvironmentError as e:\n    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.startswith("refused: openpyxl is not using defusedxml")
    assert issubclass(UnsafeEnvironmentError, NtmError)


@pytest.mark.parametrize("name", ["xml-entity-expansion.xlsx", "xml-external-entity.xlsx"])
def test_openpyxl_refuses_entity_workbooks(name: str) -> None:
    import defusedxml

    with pytest.raises(ValueError) as info:
        openpyxl.load_workbook(CORPUS / name)
    chain: list[BaseException] = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, defusedxml.DefusedXmlException) for e in chain)


@pytest.mark.parametrize("name", ["xml-entity-expansion.xlsx", "xml-external-entity.xlsx"])
def test_calamine_expands_and_leaks_nothing(name: str) -> None:
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(str(CORPUS / name)).get_sheet_by_index(0).to_python()
    except Exception as exc:  # refusing is fine too  # noqa: BLE001
        assert "root:" not in str(exc)
        return
    text = " ".join(str(v) for row in rows for v in row)
    assert "root:" not in text  # no /etc/passwd content
    assert "lollollol" not in text and len(text) < 1000  # no expansion


@pytest.mark.parametrize("name", ["hidden-rows.xlsx", "formulas-without-cached-values.xlsx",
                                  "legacy-tcvn3.xlsx", "valid-minimal.xlsx"])
def test_parts_kept_by_the_check_are_the_zip_parts_and_serve_the_scans(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file check hands on the decompressed XML parts the scans read (workbook, its
    relationships, styles, worksheets) and no other; the scans then give the same answers as
    reading the zip again, also when the check kept nothing (budget exhausted)."""
    from ntm_analysis import sniff
    from ntm_analysis.legacy import workbook_font_encoding
    from ntm_analysis.sheetxml import scan_sheets

    path = CORPUS / name
    parts: dict[str, bytes] = {}
    check_workbook_file(path, parts=parts)
    with zipfile.ZipFile(path) as zf:
        xml = [i.filename for i in zf.infolist() if i.filename.endswith((".xml", ".rels"))]
        wanted = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
        sheets = [n for n in xml if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
        assert sheets and "xl/workbook.xml" in xml
        assert sorted(parts) == sorted((wanted & set(xml)) | set(sheets))
        assert "[Content_Types].xml" in xml and "[Content_Types].xml" not in parts
        assert all(parts[n] == zf.read(n) for n in parts)
    assert scan_sheets(path, parts=parts) == scan_sheets(path)
    assert workbook_font_encoding(path, parts=parts) == workbook_font_encoding(path)
    monkeypatch.setattr(sniff, "KEEP_PART_BYTES", 0)
    none: dict[str, bytes] = {}
    check_workbook_file(path, parts=none)
    assert none == {}
    assert scan_sheets(path, parts=none) == scan_sheets(path)
    assert workbook_font_encoding(path, parts=none) == workbook_font_encoding(path)


def test_scan_results_are_not_trivial() -> None:
    """The workbooks above do exercise the scans (so the equalities are not all empty)."""
    from ntm_analysis.legacy import workbook_font_encoding
    from ntm_analysis.sheetxml import scan_sheets

    parts: dict[str, bytes] = {}
    check_workbook_file(CORPUS / "hidden-rows.xlsx", parts=parts)
    assert any(e.hidden_rows for e in scan_sheets(CORPUS / "hidden-rows.xlsx",
                                                  parts=parts).values())
    parts = {}
    check_workbook_file(CORPUS / "formulas-without-cached-values.xlsx", parts=parts)
    assert any(e.stale_formulas for e in scan_sheets(
        CORPUS / "formulas-without-cached-values.xlsx", parts=parts).values())
    parts = {}
    check_workbook_file(CORPUS / "legacy-tcvn3.xlsx", parts=parts)
    assert workbook_font_encoding(CORPUS / "legacy-tcvn3.xlsx", parts=parts) == "tcvn3"


def test_parts_of_a_repeated_member_name_are_the_ones_zipfile_reads(tmp_path: Path) -> None:
    """A zip may hold two members of one name; zipfile reads the last, and so must the scans."""
    import warnings

    from ntm_analysis import sniff

    src = CORPUS / "hidden-rows.xlsx"
    path = tmp_path / "twice.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        for name in names:
            zout.writestr(name, zin.read(name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name"
            zout.writestr("xl/styles.xml", zin.read("xl/styles.xml") + b" " * 64)
    parts: dict[str, bytes] = {}
    check_workbook_file(path, parts=parts)
    with zipfile.ZipFile(path) as zf:
        assert parts["xl/styles.xml"] == zf.read("xl/styles.xml")
    # when the last copy is not kept, no earlier copy stands in for it: room for every
    # member but the last (the second copy) keeps the first copy, then drops it
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert infos[-1].filename == "xl/styles.xml"
        room = sum(i.file_size for i in infos[:-1] if sniff._kept(i.filename))
        last = zf.read("xl/styles.xml")
    original = sniff.KEEP_PART_BYTES
    try:
        sniff.KEEP_PART_BYTES = room
        parts = {}
        check_workbook_file(path, parts=parts)
    finally:
        sniff.KEEP_PART_BYTES = original
    assert "xl/workbook.xml" in parts  # the room was used
    assert parts.get("xl/styles.xml", last) == last


def _inflate(whole: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A part inflated from the file's bytes as the check does, CRC-32 checked (None: zipfile's)."""
    import zlib

    from ntm_analysis import sniff

    data = sniff._inflate_unchecked(whole, sniff._entry(info, -1))
    return data if data is not None and zlib.crc32(data) == info.CRC else None


def _zip_corpus() -> list[Path]:
    root = CORPUS.parents[2]
    paths = sorted(CORPUS.glob("*.xls*")) + sorted((root / "data" / "raw").glob("*.xlsx"))
    return [p for p in paths if zipfile.is_zipfile(p)]


@pytest.mark.parametrize("path", _zip_corpus(), ids=lambda p: p.name)
def test_parts_inflated_from_memory_are_what_zipfile_reads(path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Inflating a part from the file's bytes gives zipfile's bytes (or defers to zipfile), and
    the check's verdict and kept parts are those of the streamed check."""
    from ntm_analysis import sniff

    whole = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data = _inflate(whole, info)
            if data is not None:
                assert data == zf.read(info)

    direct = _verdict_and_parts(path)
    monkeypatch.setattr(sniff, "DIRECT_READ_BYTES", -1)  # every part streamed
    assert direct == _verdict_and_parts(path)


def test_inflated_parts_cover_the_workbooks_and_refuse_entities() -> None:
    """The in-memory path is the one taken on ordinary workbooks, and it finds declarations."""
    from ntm_analysis import sniff

    for name in ("valid-minimal.xlsx", "xml-external-entity.xlsx",
                 "xml-external-entity-utf16.xlsx"):
        whole = (CORPUS / name).read_bytes()
        with zipfile.ZipFile(CORPUS / name) as zf:
            shared = zf.getinfo("xl/sharedStrings.xml")
            data = _inflate(whole, shared)
        assert data is not None
        assert sniff._declares_entities(data) == (name != "valid-minimal.xlsx")


@pytest.mark.parametrize("member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_a_damaged_part_is_left_to_zipfile(tmp_path: Path, member: str) -> None:
    """A part whose bytes do not match the directory's CRC is not inflated from memory (zipfile
    reads it, and the reader reports it), and its bytes are not handed on: neither a part the
    scans read (a worksheet, CRC-checked before it is kept) nor one they do not."""

    src = (CORPUS / "valid-minimal.xlsx").read_bytes()
    with zipfile.ZipFile(CORPUS / "valid-minimal.xlsx") as zf:
        info = zf.getinfo(member)
        assert info.compress_type == zipfile.ZIP_DEFLATED
    start = info.header_offset + 30 + len(info.orig_filename.encode()) + len(info.extra)
    damaged = bytearray(src)
    damaged[start + info.compress_size // 2] ^= 0x55
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(damaged))
    with zipfile.ZipFile(path) as zf:
        assert _inflate(bytes(damaged), zf.getinfo(member)) is None
        with pytest.raises(zipfile.BadZipFile):
            zf.read(member)
    parts: dict[str, bytes] = {}
    assert check_workbook_file(path, parts=parts) == "xlsx"  # the reader reports the damage
    assert member not in parts and "xl/workbook.xml" in parts


def test_a_part_in_a_method_zipfile_lacks_is_left_to_the_reader(tmp_path: Path) -> None:
    """A part marked Deflate64 (method 9, which zipfile cannot inflate) is not scanned or handed
    on; the check passes the rest and the loader answers with its own located error or rows."""
    from ntm_analysis import sniff
    from ntm_analysis.load import load_workbook

    data = bytearray((CORPUS / "valid-minimal.xlsx").read_bytes())
    name = b"xl/sharedStrings.xml"
    with zipfile.ZipFile(CORPUS / "valid-minimal.xlsx") as zf:
        info = zf.getinfo(name.decode())
    data[info.header_offset + 8:info.header_offset + 10] = (9).to_bytes(2, "little")
    central = data.index(b"PK\x01\x02")  # the first central directory record
    while True:
        size = int.from_bytes(data[central + 28:central + 30], "little")
        if data[central + 46:central + 46 + size] == name:
            data[central + 10:central + 12] = (9).to_bytes(2, "little")
            break
        extra = int.from_bytes(data[central + 30:central + 32], "little")
        comment = int.from_bytes(data[central + 32:central + 34], "little")
        central += 46 + size + extra + comment
    path = tmp_path / "deflate64.xlsx"
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:
        marked = zf.getinfo(name.decode())
        assert marked.compress_type == 9 and not sniff._zipfile_reads(marked)
        with pytest.raises(NotImplementedError):
            zf.read(marked)  # what the check no longer has to catch
    parts: dict[str, bytes] = {}
    assert check_workbook_file(path, parts=parts) == "xlsx"
    assert name.decode() not in parts and "xl/workbook.xml" in parts
    try:
        load_workbook(path)
    except NtmError as error:
        assert "deflate64.xlsx" in str(error)


def _with_part(src: Path, dst: Path, member: str, data: bytes) -> Path:
    """Copy the workbook ``src`` to ``dst`` with ``member``'s bytes replaced (or added)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            zout.writestr(name, data if name == member else zin.read(name))
        if member not in zin.namelist():
            zout.writestr(member, data)
    return dst


_DOCTYPE = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "lol">]>\n')
#: Where a declaration can hide in a part: after the XML declaration, after a long comment
#: (past any "first chunk"), as UTF-16 with a byte order mark or without one.
_HIDDEN_DECLARATIONS = {
    "plain": _DOCTYPE + b"<r>&a;</r>",
    "after-comment": (b'<?xml version="1.0"?><!--' + b"x" * 70_000 + b"-->"
                      b'<!ENTITY a SYSTEM "file:///etc/passwd"><r/>'),
    "utf16-bom": "\ufeff".encode("utf-16-le") + _DOCTYPE.decode().encode("utf-16-le"),
    "utf16-no-bom": _DOCTYPE.decode().encode("utf-16-le") + "<r/>".encode("utf-16-le"),
    "upper-lower": b"<r/><!eNtItY x 'y'>",
}


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/theme/theme1.xml",
                                    "docProps/core.xml", "xl/_rels/workbook.xml.rels",
                                    "xl/styles.xml"])
@pytest.mark.parametrize("kind", sorted(_HIDDEN_DECLARATIONS))
def test_a_declaration_in_any_xml_part_is_refused(tmp_path: Path, member: str,
                                                  kind: str) -> None:
    """Parts the scans read (kept) and parts nobody reads later (scanned, not kept) alike."""
    path = _with_part(CORPUS / "hidden-rows.xlsx", tmp_path / "attack.xlsx", member,
                      _HIDDEN_DECLARATIONS[kind])
    kept: dict[str, bytes] = {}
    for parts in (None, kept):
        with pytest.raises(InputError) as info:
            check_workbook_file(path, parts=parts)
        assert str(info.value) == f"attack.xlsx: {ENTITY_PROBLEM} (part '{member}')"


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/theme/theme1.xml"])
def test_exclamation_marks_without_a_declaration_are_accepted(tmp_path: Path,
                                                              member: str) -> None:
    """A "!" (a comment, a formula's sheet reference, text) sends a part to the full scan, which
    finds no declaration; the part is kept when the scans read it."""
    src = CORPUS / "hidden-rows.xlsx"
    with zipfile.ZipFile(src) as zf:
        original = zf.read(member)
    root = original.index(b">", original.index(b"<", 1)) + 1  # after the root element's tag
    data = original[:root] + b"<!-- Chu y! Hello! --><!-- ENTITY -->" + original[root:]
    path = _with_part(src, tmp_path / "bang.xlsx", member, data)
    parts: dict[str, bytes] = {}
    assert check_workbook_file(path, parts=parts) == "xlsx"
    assert parts.get(member) == (data if member.startswith("xl/worksheets/") else None)


class _Unseekable(io.RawIOBase):
    """A write-only stream zipfile cannot seek in: it writes data descriptors after each part."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        return len(b)


def _zip_variant(kind: str, dst: Path) -> Path:
    """hidden-rows.xlsx rewritten with one zip feature the directory reader must get right."""
    with zipfile.ZipFile(CORPUS / "hidden-rows.xlsx") as zin:
        members = [(info, zin.read(info)) for info in zin.infolist()]
    method = zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED
    stream = _Unseekable() if kind == "data-descriptors" else None
    with zipfile.ZipFile(stream if stream is not None else dst, "w", method) as zout:
        for info, data in members:
            new = zipfile.ZipInfo(info.filename, info.date_time)
            new.compress_type = method
            if kind == "extra-fields":  # an extended timestamp, as Info-ZIP writes
                new.extra = b"UT\x05\x00\x01\x00\x00\x00\x00"
            if kind == "corrupt-extra-field":
                new.extra = b"UT\x09\x00\x01"
            if kind == "zip64":
                with zout.open(new, "w", force_zip64=True) as fh:
                    fh.write(data)
            else:
                zout.writestr(new, data)
        if kind == "utf8-names":
            zout.writestr("docProps/ghi-chú.xml", "<ghi-chú>Xóm Ao Sen</ghi-chú>")
            zout.writestr("xl/worksheets/_rels/ghi-chú.xml.rels", "<Relationships/>")
        if kind == "comment":
            zout.comment = b"Saved by the commune office"
    if stream is not None:
        dst.write_bytes(bytes(stream.data))
    return dst


_ZIP_VARIANTS = ["comment", "corrupt-extra-field", "data-descriptors", "extra-fields", "stored",
                 "utf8-names", "zip64"]


@pytest.mark.parametrize("kind", _ZIP_VARIANTS)
def test_the_directory_is_read_as_zipfile_reads_it(tmp_path: Path, kind: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's own reading of the central directory gives zipfile's members (or defers to
    zipfile), and the verdict and kept parts are those of the check through zipfile alone."""
    from ntm_analysis import sniff

    path = _zip_variant(kind, tmp_path / f"{kind}.xlsx")
    entries = sniff._read_directory(path.read_bytes())
    try:
        with zipfile.ZipFile(path) as zf:
            expected = [sniff._entry(info, n) for n, info in enumerate(zf.infolist())]
    except zipfile.BadZipFile:
        expected = None
    if kind in ("comment", "corrupt-extra-field"):
        assert entries is None  # left to zipfile
    else:
        assert entries is not None and entries == expected

    direct = _verdict_and_parts(path)
    assert direct[0] == ("xlsx" if expected is not None else
                         f"{kind}.xlsx: the file starts like a zip-based workbook but is damaged"
                         " or truncated; save it again from Excel")
    assert (direct[1].get("xl/worksheets/sheet1.xml") is not None) == (expected is not None)
    monkeypatch.setattr(sniff, "DIRECT_READ_BYTES", -1)  # zipfile reads the directory and parts
    assert direct == _verdict_and_parts(path)


def test_the_directory_reader_defers_what_it_does_not_read_plainly() -> None:
    from ntm_analysis import sniff

    whole = (CORPUS / "hidden-rows.xlsx").read_bytes()
    assert sniff._read_directory(whole) is not None
    assert sniff._read_directory(b"PK\x03\x04" * 4 + whole) is None  # data before the zip
    assert sniff._read_directory(whole[:-30] + whole[-22:]) is None  # directory cut short
    assert sniff._read_directory(whole[:-1]) is None  # end record cut short
    assert sniff._read_directory(b"") is None
    broken = bytearray(whole)
    broken[broken.index(b"PK\x01\x02") + 1] ^= 0xFF  # the first directory record's signature
    assert sniff._read_directory(bytes(broken)) is None
    for odd in (b"\0", b"\\"):  # a name zipfile cuts at a NUL or rewrites on Windows
        name = whole.index(b"xl/workbook.xml", whole.index(b"PK\x01\x02"))
        assert sniff._read_directory(whole[:name + 2] + odd + whole[name + 3:]) is None


def test_a_part_that_inflates_past_its_promised_size_is_not_inflated_further(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory that promises 100 bytes for a part holding 1 MB: the inflate stops one byte
    past the promise, the part is left to zipfile and not kept, and the check answers as it does
    through zipfile alone."""
    from ntm_analysis import sniff

    member = "xl/worksheets/sheet1.xml"
    body = b'<worksheet><sheetData/></worksheet>' + b" " * 1_000_000
    path = _with_part(CORPUS / "hidden-rows.xlsx", tmp_path / "lying.xlsx", member, body)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        count = len(zf.infolist())
    central = data.index(b"PK\x01\x02")
    for _ in range(count):  # patch the promised size in the member's directory record
        size = int.from_bytes(data[central + 28:central + 30], "little")
        if data[central + 46:central + 46 + size] == member.encode():
            data[central + 24:central + 28] = (100).to_bytes(4, "little")
            break
        extra = int.from_bytes(data[central + 30:central + 32], "little")
        comment = int.from_bytes(data[central + 32:central + 34], "little")
        central += 46 + size + extra + comment
    path.write_bytes(bytes(data))
    whole = bytes(data)
    entries = sniff._read_directory(whole)
    assert entries is not None
    entry = next(e for e in entries if e.filename == member)
    assert entry.file_size == 100 and entry.compress_size < 10_000
    assert sniff._inflate_unchecked(whole, entry) is None

    direct = _verdict_and_parts(path)
    assert member not in direct[1] and "xl/workbook.xml" in direct[1]
    monkeypatch.setattr(sniff, "DIRECT_READ_BYTES", -1)
    assert direct == _verdict_and_parts(path)


def _unpacked(path: Path) -> bytes | None:
    """The package copy ``check_workbook_file`` hands on with ``unpacked`` (None: none)."""
    copies: list[bytes] = []
    check_workbook_file(path, unpacked=copies)
    assert len(copies) <= 1
    return copies[0] if copies else None


def _members(package: Path | bytes) -> list[tuple[str, int, bytes]]:
    """Each member of a zip as zipfile reads it (CRC-32 checked): name, CRC, bytes."""
    with zipfile.ZipFile(io.BytesIO(package) if isinstance(package, bytes) else package) as zf:
        assert zf.testzip() is None
        return [(i.filename, i.CRC, zf.read(i)) for i in zf.infolist()]


@pytest.mark.parametrize("path", _zip_corpus(), ids=lambda p: p.name)
def test_the_unpacked_copy_is_the_package_with_its_xml_parts_stored(path: Path) -> None:
    """The copy for the cell reader holds the file's members in its order with the same bytes
    and CRC-32, the XML parts stored (nothing left to inflate), other members as they were."""
    from ntm_analysis import sniff

    try:
        copy = _unpacked(path)
    except InputError:
        return  # refused files (entities, passwords...) have no copy: the check raised first
    assert copy is not None  # every accepted workbook of the corpus has the plain layout
    assert _members(copy) == _members(path)
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(io.BytesIO(copy)) as zf:
        for info, was in zip(zf.infolist(), original.infolist(), strict=True):
            xml = info.filename.endswith(sniff._XML_SUFFIXES)
            assert info.compress_type == (zipfile.ZIP_STORED if xml else was.compress_type)
            assert info.date_time == was.date_time


@pytest.mark.parametrize("kind", _ZIP_VARIANTS)
def test_the_unpacked_copy_of_each_zip_layout(tmp_path: Path, kind: str) -> None:
    """Layouts the directory reader reads plainly get a copy equal member by member; the others
    (left to zipfile) get none, and the cell reader reads the file."""
    from ntm_analysis import sniff

    path = _zip_variant(kind, tmp_path / f"{kind}.xlsx")
    try:
        copy = _unpacked(path)
    except InputError:
        assert kind == "corrupt-extra-field"  # zipfile calls it damaged: no copy either
        return
    if sniff._read_directory(path.read_bytes()) is None:
        assert copy is None
    else:
        assert copy is not None and _members(copy) == _members(path)
    assert (copy is not None) == (kind not in ("comment", "corrupt-extra-field"))


@pytest.mark.parametrize("damage", ["data", "crc"])
def test_a_damaged_part_stays_damaged_in_the_unpacked_copy(tmp_path: Path, damage: str) -> None:
    """A part that fails its CRC-32 (its data damaged, or the directory's CRC-32 wrong) is
    copied as it is, still compressed, so whoever reads the copy finds the damage as in the
    file; the other XML parts are stored."""
    member = "xl/worksheets/sheet1.xml" if damage == "data" else "xl/sharedStrings.xml"
    damaged = bytearray((CORPUS / "valid-minimal.xlsx").read_bytes())
    with zipfile.ZipFile(CORPUS / "valid-minimal.xlsx") as zf:
        info = zf.getinfo(member)
    if damage == "data":
        start = info.header_offset + 30 + len(info.orig_filename.encode()) + len(info.extra)
        damaged[start + info.compress_size // 2] ^= 0x55
    else:  # the CRC-32 field of the member's directory record
        record = damaged.index(b"PK\x01\x02")
        while True:
            name, extra, comment = struct.unpack_from("<3H", damaged, record + 28)
            if damaged[record + 46:record + 46 + name] == member.encode():
                break
            record += 46 + name + extra + comment
        damaged[record + 16] ^= 0x01
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(damaged))
    with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile):
        zf.read(member)
    copy = _unpacked(path)
    assert copy is not None
    with zipfile.ZipFile(io.BytesIO(copy)) as zf:
        assert zf.getinfo(member).compress_type == zipfile.ZIP_DEFLATED
        other = "xl/workbook.xml"
        assert zf.getinfo(other).compress_type == zipfile.ZIP_STORED
        with pytest.raises(zipfile.BadZipFile):
            zf.read(member)
