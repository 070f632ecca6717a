# ruff: noqa: E501  (XML parts are kept on one line each, as Office writes them)
"""Regenerate the file-level defect corpus in this folder: one defect per file, named after it.

Run from the repository root:

    .venv/bin/python tests/data/with-problems/make_corpus.py

Everything is deterministic (fixed seeds, fixed zip timestamps). ``password-protected.xlsx``
needs ``msoffcrypto-tool`` (dev extra) and ``legacy-format.xls`` and ``excel-errors.xls`` need
``xlwt`` (install it by hand; when it is missing the committed files are kept).
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from ntm_analysis.legacy import from_unicode  # noqa: E402

FIXED_DATE = (2024, 1, 1, 0, 0, 0)

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Xa" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>95</v></c></row></sheetData>{pad}
</worksheet>"""
SHARED_STRINGS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>Tỷ lệ hộ nghèo</t></si></sst>"""

BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE sst [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&lol9;</t></si></sst>"""

EXTERNAL_ENTITY = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">
<si><t>&xxe;</t></si></sst>"""


def _zip(path: Path, members: dict[str, bytes | str]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    path.write_bytes(buf.getvalue())


def minimal_xlsx(path: Path, *, shared_strings: bytes | str = SHARED_STRINGS,
                 sheet_pad: str = "") -> None:
    """Write a hand-made one-sheet workbook whose XML parts are exactly as given."""
    _zip(path, {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": SHEET.format(pad=sheet_pad),
        "xl/sharedStrings.xml": shared_strings,
    })


def legacy_workbook(path: Path, encoding: str, font: str) -> None:
    """A small appendix table typed in a legacy encoding with its legacy font."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rows = [
        ["TT", "Tên chỉ tiêu", "Kết quả rà soát", "Tự đánh giá"],
        ["1", "Thu nhập bình quân đầu người", "52,5 triệu đồng", "Đạt"],
        ["2", "Tỷ lệ hộ nghèo đa chiều", "3,2%", "Chưa đạt"],
        ["3", "Xóm Cạm Phước có nhà văn hóa", "Có", "Đạt"],
    ]
    wb = Workbook()
    ws = wb.active
    ws.title = "Xa"
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=from_unicode(text, encoding))
            cell.font = Font(name=font)
    buf = io.BytesIO()
    wb.save(buf)
    _normalise_zip(buf.getvalue(), path)


def _normalise_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip with fixed timestamps so regenerated files do not churn in git."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        members = {i.filename: src.read(i) for i in src.infolist()}
    docprops = members.get("docProps/core.xml")
    if docprops is not None:
        import re

        members["docProps/core.xml"] = re.sub(
            rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>",
            rb"", docprops)
    _zip(path, members)


def password_protected(path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "Tỷ lệ hộ nghèo"
    plain = io.BytesIO()
    wb.save(plain)
    plain.seek(0)
    out = io.BytesIO()
    OOXMLFile(plain).encrypt("matkhau", out)
    path.write_bytes(out.getvalue())


def legacy_xls(path: Path) -> bool:
    try:
        import xlwt  # type: ignore[import-not-found]
    except ImportError:
        return False
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Xa")
    for c, text in enumerate(["TT", "Tên chỉ tiêu", "Kết quả rà soát", "Tự đánh giá"]):
        sheet.write(0, c, text)
    sheet.write(1, 0, "1")
    sheet.write(1, 1, "Tỷ lệ hộ nghèo đa chiều")
    sheet.write(1, 2, 3.2)
    sheet.write(1, 3, "Đạt")
    buf = io.BytesIO()
    book.save(buf)
    path.write_bytes(buf.getvalue())
    return True


#: The cached result of a FORMULA record as xlwt writes it (an empty string) and as Excel saves
#: a formula that gave #DIV/0! (MS-XLS FormulaValue: 02 00 <error code> 00 00 00 FF FF).
XLWT_EMPTY_RESULT = b"\x03\x00\x00\x00\x00\x00\xff\xff"
DIV0_RESULT = b"\x02\x00\x07\x00\x00\x00\xff\xff"


def xls_errors(path: Path) -> bool:
    """An old-format (BIFF8) appendix table of Xóm Bản Lác with what calamine reads as empty or
    not at all: D10 a formula whose saved result is #DIV/0! (xlwt saves no result, so the
    record's result bytes are set as Excel writes them), D12 a #N/A typed as a value, and row
    11 hidden."""
    try:
        import xlwt  # type: ignore[import-not-found]
    except ImportError:
        return False
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Phụ biểu 02")
    rows: list[list[object]] = [
        ["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG"],
        ["KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024"],
        ["XÓM BẢN LÁC - XÃ KIM PHƯỢNG"], [],
        ["TT", "Nội dung tiêu chí/chỉ tiêu", "Chỉ tiêu theo quy định", "Hiện trạng",
         "Tự đánh giá", "Ghi chú"],
        ["1", "Quy hoạch"],
        ["1.1", "Có quy hoạch chi tiết xóm", "Có", "Có", "Đạt"],
        ["1.2", "Có bảng tên xóm", "Đạt", "Đạt", "Đạt"],
        ["2", "Giao thông"],
        ["2.1", "Đường trục xóm được cứng hóa", "100%", None, "Đạt"],
        ["2.2", "Đường ngõ, xóm sạch và đảm bảo đi lại", "≥ 90%", "86,5%", "Chưa đạt"],
        ["2.3", "Tỷ lệ đường có rãnh thoát nước", "≥ 70%", None, "Đạt"],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    sheet.write(9, 3, xlwt.Formula("D11/0"))
    sheet.row(11).set_cell_error(3, 0x2A)  # #N/A (xlwt knows it by its code only)
    sheet.row(10).hidden = True
    buf = io.BytesIO()
    book.save(buf)
    data = buf.getvalue()
    assert data.count(XLWT_EMPTY_RESULT) == 1, "xlwt wrote the formula differently"
    path.write_bytes(data.replace(XLWT_EMPTY_RESULT, DIV0_RESULT))
    return True


ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" '
          'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"')
ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" \
manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" \
manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, str) and value.startswith("<"):
        return value  # written out already
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return (f'<table:table-cell office:value-type="string" calcext:value-type="string">'
            f"<text:p>{text}</text:p></table:table-cell>")


def ods_errors(path: Path) -> None:
    """The appendix table of Xóm Bản Lác as an OpenDocument spreadsheet, in LibreOffice's
    markup: D10 a formula whose result is #DIV/0! (an error cell holding an empty string, as
    LibreOffice saves it), D12 #N/A from =NA() saved with a number beside it (0, as a writer may
    give an error cell: calamine reads that number), row 11 hidden, the sheet padded with
    repeated empty rows and columns to its end."""
    def error(formula: str, shown: str, number: bool) -> str:
        kind = 'office:value-type="float" office:value="0"' if number else \
            'office:value-type="string" office:string-value=""'
        return (f'<table:table-cell table:formula="{formula}" {kind} '
                f'calcext:value-type="error"><text:p>{shown}</text:p></table:table-cell>')

    title = ("ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG",
             "KẾT QUẢ RÀ SOÁT TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024",
             "XÓM BẢN LÁC - XÃ KIM PHƯỢNG")
    rows = [
        ''.join([f'<table:table-cell table:number-columns-spanned="6" '
                 f'office:value-type="string"><text:p>{line}</text:p></table:table-cell>',
                 '<table:covered-table-cell table:number-columns-repeated="5"/>'])
        for line in title]
    rows.append('<table:table-cell table:number-columns-repeated="6"/>')
    body: list[list[object]] = [
        ["TT", "Nội dung tiêu chí/chỉ tiêu", "Chỉ tiêu theo quy định", "Hiện trạng",
         "Tự đánh giá", "Ghi chú"],
        ["1", "Quy hoạch", '<table:table-cell table:number-columns-repeated="4"/>'],
        ["1.1", "Có quy hoạch chi tiết xóm", "Có", "Có", "Đạt", None],
        ["1.2", "Có bảng tên xóm", "Đạt", "Đạt", "Đạt", None],
        ["2", "Giao thông", '<table:table-cell table:number-columns-repeated="4"/>'],
        ["2.1", "Đường trục xóm được cứng hóa", "100%", error("of:=[.D11]/0", "#DIV/0!", False),
         "Đạt", None],
        ["2.2", "Đường ngõ, xóm sạch và đảm bảo đi lại", "≥ 90%", "86,5%", "Chưa đạt", None],
        ["2.3", "Tỷ lệ đường có rãnh thoát nước", "≥ 70%", error("of:=NA()", "#N/A", True),
         "Đạt", None],
    ]
    rows += ["".join(map(_ods_cell, row)) for row in body]
    xml_rows = [f'<table:table-row table:visibility="collapse">{cells}</table:table-row>'
                if i == 10 else f"<table:table-row>{cells}</table:table-row>"
                for i, cells in enumerate(rows)]
    xml_rows.append('<table:table-row table:number-rows-repeated="1048564">'
                    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODS_NS} '
               'office:version="1.3"><office:body><office:spreadsheet>'
               '<table:table table:name="Phụ biểu 02"><table:table-column '
               'table:number-columns-repeated="1024"/>' + "".join(xml_rows) +
               "</table:table></office:spreadsheet></office:body></office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # "mimetype" first and stored, as the format asks
        zf.writestr(zipfile.ZipInfo("mimetype", date_time=FIXED_DATE),
                    "application/vnd.oasis.opendocument.spreadsheet")
        for name, data in (("content.xml", content), ("META-INF/manifest.xml", ODS_MANIFEST)):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    path.write_bytes(buf.getvalue())


def build(out: Path = HERE) -> list[str]:
    """Write every corpus file into ``out`` and return their names."""
    rng = random.Random(46)
    made: dict[str, bytes | None] = {}

    def put(name: str, data: bytes) -> None:
        (out / name).write_bytes(data)
        made[name] = None

    put("empty-file.xlsx", b"")
    noise = bytes(rng.randrange(256) for _ in range(2048))
    put("not-a-workbook-random-bytes.xlsx", b"\x8f\x3a" + noise[2:])
    put("pdf-renamed.xlsx", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
    put("csv-renamed.xlsx", "TT,Tên chỉ tiêu,Kết quả\n1,Tỷ lệ hộ nghèo,\"3,2%\"\n".encode())
    put("html-renamed.xls", "<html><head><meta charset='utf-8'></head><body><table><tr><td>"
        "Tỷ lệ hộ nghèo</td><td>3,2%</td></tr></table></body></html>\n".encode())
    put("png-renamed.xlsx", b"\x89PNG\r\n\x1a\n" + noise[:64])
    put("excel-2003-xml.xls", b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-'
        b'com:office:spreadsheet"><Worksheet ss:Name="Xa"/></Workbook>\n')
    _zip(out / "zip-not-a-workbook.xlsx", {"ghi-chu.txt": "Báo cáo 46/BC-UBND\n"})
    made["zip-not-a-workbook.xlsx"] = None
    _zip(out / "word-document-renamed.xlsx", {
        "[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w:document/>"})
    made["word-document-renamed.xlsx"] = None
    minimal_xlsx(out / "valid-minimal.xlsx")
    made["valid-minimal.xlsx"] = None
    whole = (out / "valid-minimal.xlsx").read_bytes()
    put("truncated-workbook.xlsx", whole[: len(whole) // 2])
    minimal_xlsx(out / "xml-entity-expansion.xlsx", shared_strings=BILLION_LAUGHS)
    made["xml-entity-expansion.xlsx"] = None
    minimal_xlsx(out / "xml-external-entity.xlsx", shared_strings=EXTERNAL_ENTITY)
    made["xml-external-entity.xlsx"] = None
    utf16 = EXTERNAL_ENTITY.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    minimal_xlsx(out / "xml-external-entity-utf16.xlsx",
                 shared_strings=b"\xff\xfe" + utf16.encode("utf-16-le"))
    made["xml-external-entity-utf16.xlsx"] = None
    # 20 MB of whitespace inside the sheet XML: about 20 KB on disk, ratio about 1000 to 1.
    minimal_xlsx(out / "zip-bomb.xlsx", sheet_pad=" " * 20_000_000)
    made["zip-bomb.xlsx"] = None
    password_protected(out / "password-protected.xlsx")
    made["password-protected.xlsx"] = None
    legacy_workbook(out / "legacy-tcvn3.xlsx", "tcvn3", ".VnTime")
    made["legacy-tcvn3.xlsx"] = None
    legacy_workbook(out / "legacy-vni.xlsx", "vni", "VNI-Times")
    made["legacy-vni.xlsx"] = None
    if legacy_xls(out / "legacy-format.xls"):
        made["legacy-format.xls"] = None
    if xls_errors(out / "excel-errors.xls"):
        made["excel-errors.xls"] = None
    ods_errors(out / "excel-errors.ods")
    made["excel-errors.ods"] = None
    return sorted(made)


if __name__ == "__main__":
    for name in build():
        print(name)
