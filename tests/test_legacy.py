"""Tests of ntm_analysis.legacy: TCVN3 and VNI detection and conversion."""

from __future__ import annotations

import csv
import doctest
import unicodedata
from pathlib import Path

import pytest

import ntm_analysis
from ntm_analysis import legacy
from ntm_analysis.legacy import (
    TCVN3,
    VNI,
    detect_legacy,
    fix_text,
    from_unicode,
    scan_workbook,
    to_unicode,
)
from ntm_analysis.schema import Iss

DATA = Path(ntm_analysis.__file__).parent / "data"
CORPUS = Path(__file__).parent / "data" / "with-problems"
TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
BASES = "aăâeêioôơuưy"
LOWER = [unicodedata.normalize("NFC", b + t) for b in BASES for t in TONES] + ["đ"]
REALISTIC = ["Kết quả rà soát", "Xóm Cạm Phước", "Chưa đạt", "Thu nhập bình quân đầu người",
             "Tỷ lệ hộ nghèo đa chiều", "Nhà văn hóa xóm", "Trường học đạt chuẩn quốc gia"]


def test_doctests() -> None:
    result = doctest.testmod(legacy)
    assert result.attempted > 5 and result.failed == 0


def test_every_letter_has_a_distinct_code() -> None:
    for encoding in (TCVN3, VNI):
        codes = [from_unicode(ch, encoding) for ch in LOWER]
        assert len(set(codes)) == len(LOWER), encoding
        assert all(not c.isascii() or c in "aeiouy" for c in codes)


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_every_lower_case_letter_with_every_tone_round_trips(encoding: str) -> None:
    for ch in LOWER:
        for word in (ch, "x" + ch + "n", "ng" + ch):
            assert to_unicode(from_unicode(word, encoding), encoding) == word


def test_vni_round_trips_capitals_with_tones() -> None:
    for ch in LOWER:
        assert to_unicode(from_unicode(ch.upper(), VNI), VNI) == ch.upper()
        assert to_unicode(from_unicode("X" + ch.upper() + "N", VNI), VNI) == "X" + ch.upper() + "N"


def test_tcvn3_capitals() -> None:
    for ch in "ĂÂĐÊÔƠƯ":
        assert to_unicode(from_unicode(ch, TCVN3), TCVN3) == ch
    # capitals with a tone have no TCVN3 code: they come back in lower case (as .VnTimeH text)
    assert to_unicode(from_unicode("KẾT QUẢ", TCVN3), TCVN3) == "KếT QUả"
    assert fix_text(from_unicode("KẾT QUẢ", TCVN3), font_name=".VnTimeH") == ("KẾT QUẢ", TCVN3)


@pytest.mark.parametrize("text", REALISTIC)
@pytest.mark.parametrize("encoding", [TCVN3, VNI])
def test_realistic_strings(text: str, encoding: str) -> None:
    encoded = from_unicode(text, encoding)
    assert encoded != text
    assert detect_legacy(encoded) == encoding
    assert to_unicode(encoded, encoding) == text
    assert fix_text(encoded) == (text, encoding)


def test_known_legacy_spellings() -> None:
    assert to_unicode("Céng hoµ x· héi chñ nghÜa ViÖt Nam", TCVN3) == \
        "Cộng hoà xã hội chủ nghĩa Việt Nam"
    assert to_unicode("§éc lËp - Tù do - H¹nh phóc", TCVN3) == "Độc lập - Tự do - Hạnh phúc"
    assert to_unicode("Tröôøng Thöôïng Ñoàng", VNI) == "Trường Thượng Đồng"


def _catalogue_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((DATA / "criteria").glob("*.csv")) + sorted(DATA.glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                texts.extend(v for v in row.values() if v)
    return texts


def test_no_false_positive_on_catalogue_texts() -> None:
    texts = _catalogue_texts()
    assert len(texts) > 500
    found = [t for t in texts if detect_legacy(t) is not None]
    assert found == []
    assert all(fix_text(t) == (t, None) for t in texts)


@pytest.mark.parametrize("text", [
    "Production - Income - Poverty", "naïve Zürich Straße", "50 × 60 cm ©2024", "Hoà Bình",
    "Sài Gòn", "Thuê đất biên chế", "señor Müller", "", "95%", "Xã Kim Phượng",
])
def test_no_false_positive_on_unicode_and_english(text: str) -> None:
    assert detect_legacy(text) is None


def test_unknown_encoding_name() -> None:
    with pytest.raises(ValueError, match="unknown legacy encoding 'utf-7'"):
        to_unicode("x", "utf-7")


@pytest.mark.parametrize(("name", "encoding", "font_label"), [
    ("legacy-tcvn3.xlsx", TCVN3, "TCVN3 (ABC, .VnTime fonts)"),
    ("legacy-vni.xlsx", VNI, "VNI (VNI-Times fonts)"),
])
def test_scan_workbook_names_every_legacy_cell(name: str, encoding: str,
                                               font_label: str) -> None:
    issues = scan_workbook(CORPUS / name)
    assert list(issues.columns) == Iss.columns()
    assert set(issues[Iss.severity]) == {"warning"}
    assert set(issues[Iss.source_file]) == {name}
    cells = dict(zip(issues[Iss.column], issues[Iss.problem], strict=True))
    assert cells["B1"] == (f"text typed in the legacy {font_label} encoding; read as"
                           " 'Tên chỉ tiêu'")
    assert cells["D3"].endswith("read as 'Chưa đạt'")
    assert cells["B4"].endswith("read as 'Xóm Cạm Phước có nhà văn hóa'")
    # "TT", "1", "3,2%" are ASCII and are not reported
    assert "A1" not in cells and "C3" not in cells
    row = issues[issues[Iss.column] == "D3"].iloc[0]
    assert row[Iss.source_sheet] == "Xa" and row[Iss.source_row] == 3
    assert row[Iss.value] == from_unicode("Chưa đạt", encoding)


def test_scan_workbook_by_detection_without_legacy_font(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Thôn"
    ws["A1"] = "Xã Kim Phượng"  # Unicode: not reported
    ws["B2"] = from_unicode("Thu nhập bình quân đầu người", TCVN3)
    ws["C5"] = from_unicode("Kết quả rà soát", VNI)
    wb.save(tmp_path / "mixed.xlsx")
    issues = scan_workbook(tmp_path / "mixed.xlsx")
    assert issues[Iss.column].tolist() == ["B2", "C5"]
    assert issues[Iss.problem].str.contains("read as 'Thu nhập bình quân đầu người'").iloc[0]
    assert issues[Iss.problem].str.contains("VNI").iloc[1]
