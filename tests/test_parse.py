"""Vietnamese value, target and self-assessment parsing: a table of cases per function."""

from __future__ import annotations

import datetime as dt

import pytest

from ntm_analysis.parse import (
    BOOL,
    COMPLIANCE,
    EQ,
    GE,
    GT,
    LE,
    PERCENT,
    TEXT,
    TRUE,
    Target,
    Value,
    is_mark,
    judge,
    parse_assessment,
    parse_number,
    parse_target,
    parse_value,
)


@pytest.mark.parametrize(("text", "number"), [
    ("54,03", 54.03),  # decimal comma
    ("4.122", 4122.0),  # thousands dot
    ("1.250,5", 1250.5),  # both
    ("3.432.000", 3432000.0),
    ("1,5", 1.5),
    ("0,95", 0.95),
    ("0.95", 0.95),  # a plain decimal point
    ("3,432,000", 3432000.0),  # English thousands commas
    ("1,250.5", 1250.5),
    (" 7 ", 7.0),
    ("-3", -3.0),
    ("01", 1.0),
    ("abc", None),
    ("", None),
    ("1.2.3", None),
    ("95,6%", None),  # a percentage is a value, not a bare number
])
def test_parse_number(text: str, number: float | None) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(("raw", "kind", "number", "unit"), [
    ("95,6%", "percent", 95.6, PERCENT),
    ("100 %", "percent", 100.0, PERCENT),
    ("54,03 triệu đồng", "number", 54.03, "triệu đồng"),
    ("1.250,5 triệu đồng", "number", 1250.5, "triệu đồng"),
    ("4.122 người", "number", 4122.0, "người"),
    ("120 hộ", "number", 120.0, "hộ"),
    ("02 mô hình", "number", 2.0, "mô hình"),
    ("Có 02 mô hình", "number", 2.0, "mô hình"),
    ("Có (02 mô hình)", "number", 2.0, "mô hình"),  # the bracket is no part of the unit
    ("Chưa (0)", "number", 0.0, None),
    ("1,15 lần", "number", 1.15, "lần"),
    ("45/50", "percent", 90.0, PERCENT),
    ("Có", BOOL, 1.0, BOOL),
    (" CÓ ", BOOL, 1.0, BOOL),
    ("Chưa có", BOOL, 0.0, BOOL),
    ("Không", BOOL, 0.0, BOOL),
    ("không có", BOOL, 0.0, BOOL),
    ("Đạt", BOOL, 1.0, COMPLIANCE),
    ("Chưa đạt", BOOL, 0.0, COMPLIANCE),
    ("n/a", "empty", None, None),
    ("-", "empty", None, None),
    (None, "empty", None, None),
    (12, "number", 12.0, None),
    (0.95, "number", 0.95, None),
    (True, BOOL, 1.0, BOOL),
    ("Xem thuyết minh kèm theo", "text", None, None),
    ("Đạt/Chưa đạt", "text", None, None),  # the template's choice never made (was "Đạt")
    ("Có/Không", "text", None, None),  # (was "Có")
    ("Có/Chưa có", "text", None, None),
    ("Không có", BOOL, 0.0, BOOL),
    (dt.datetime(2024, 3, 1), "date", None, None),
    # words that fold like "Có", "Đạt", "Chưa" are no yes/no (each was): "Cơ bản hoàn thành"
    # (basically done) read as "Có", met
    ("Cơ bản hoàn thành", "text", None, None),
    ("Cơ bản đạt", "text", None, None),
    ("Cơ sở vật chất đảm bảo", "text", None, None),
    ("Đất sản xuất đã quy hoạch", "text", None, None),
    ("Chứa rác đúng nơi quy định", "text", None, None),
    # typed without diacritics, they still are
    ("Co", BOOL, 1.0, BOOL), ("Dat", BOOL, 1.0, COMPLIANCE), ("Chua dat", BOOL, 0.0, COMPLIANCE),
    ("co mo hinh", BOOL, 1.0, BOOL),
    # the year a figure is of leads it: the figure is the value (it was the year, 2023)
    ("Năm 2023: 95%", "percent", 95.0, PERCENT),
    ("năm 2024 đạt 96,5%", "percent", 96.5, PERCENT),
    ("NĂM HỌC 2023 – 2024: 98%", "percent", 98.0, PERCENT),
    ("Năm 2023 - 54,03 triệu đồng", "number", 54.03, "triệu đồng"),
    ("Năm 2023", "text", None, None), ("2023", "number", 2023.0, None),
    ("2023: 85%", "percent", 85.0, PERCENT),  # (it was 2023, in a unit ": 85%")
    ("2023 hộ", "number", 2023.0, "hộ"),  # a count of 2023, no year
    # figures of several years are no one value (the first year's was taken: 85)
    ("Năm 2023: 85%, năm 2024: 92%", "text", None, None),
    ("2023: 85%; 2024: 92%", "text", None, None),
    ("92% (năm 2023: 85%)", "percent", 92.0, PERCENT),
    # thousands grouped by spaces, as a copied page or another locale writes them (it was 54,
    # in a unit "030 000 đồng")
    ("54 030 000 đồng", "number", 54030000.0, "đồng"),
    ("54\u00a0030\u00a0000 đ", "number", 54030000.0, "đ"),
    ("4 122,5", "number", 4122.5, None),
    ("2 100 hộ", "number", 2100.0, "hộ"),
    ("2 mô hình", "number", 2.0, "mô hình"),  # a count and a word, not a group
    ("90-95%", "text", None, None),  # a range is no one value (it was 90 in a unit "-95%")
    # a tick is a yes, as "x" is; other symbols are text (each was an empty cell: no value,
    # no word said)
    ("✓", BOOL, 1.0, BOOL), (" ✔ ", BOOL, 1.0, BOOL), ("√", BOOL, 1.0, BOOL),
    ("?", "text", None, None), ("★★★", "text", None, None), ("(*)", "text", None, None),
    ("—", "empty", None, None), ("...", "empty", None, None),
    ("90 – 95 %", "text", None, None),
    ("-5%", "percent", -5.0, PERCENT),
])
def test_parse_value(raw: object, kind: str, number: float | None, unit: str | None) -> None:
    value = parse_value(raw)
    assert (value.kind, value.number, value.unit) == (kind, number, unit)


def test_parse_value_keeps_text_in_nfc() -> None:
    nfd = "Chu\u031ba co\u0301"  # "Chưa có" in NFD
    assert parse_value(nfd) == Value(BOOL, 0.0, BOOL, "Chưa có")


@pytest.mark.parametrize(("text", "comparator", "value", "unit"), [
    ("≥ 90%", GE, 90.0, PERCENT),
    (">=95%", GE, 95.0, PERCENT),
    ("100%", EQ, 100.0, PERCENT),
    ("≤ 3%", LE, 3.0, PERCENT),
    ("≤3%", LE, 3.0, PERCENT),
    ("Đạt", TRUE, 1.0, BOOL),
    ("Có", TRUE, 1.0, BOOL),
    ("Không", EQ, 0.0, BOOL),
    ("Không có hộ nghèo", EQ, 0.0, "hộ"),
    ("≥ 01 mô hình", GE, 1.0, "mô hình"),
    ("≥ 70 triệu đồng/người/năm", GE, 70.0, "triệu đồng/người/năm"),
    ("≥ 1,1 lần", GE, 1.1, "lần"),
    ("Từ 90% trở lên", GE, 90.0, PERCENT),
    ("Tối thiểu 02 mô hình", GE, 2.0, "mô hình"),
    ("≥ 03 năm liên tục", GE, 3.0, "năm liên tục"),
    # a comparator typed with a space, or spelt out in the words offices use
    ("> = 90%", GE, 90.0, PERCENT),
    ("< = 3%", LE, 3.0, PERCENT),
    ("Không thấp hơn 90%", GE, 90.0, PERCENT),
    ("Không nhỏ hơn 02 sản phẩm", GE, 2.0, "sản phẩm"),
    ("Lớn hơn hoặc bằng 90%", GE, 90.0, PERCENT),
    ("Lớn hơn 1 mô hình", GT, 1.0, "mô hình"),
    ("Nhỏ hơn hoặc bằng 3%", LE, 3.0, PERCENT),
    ("Không lớn hơn 3%", LE, 3.0, PERCENT),
    ("Không vượt quá 5%", LE, 5.0, PERCENT),
    ("Cao hơn 10%", TEXT, None, None),
    ("≥ 50% số thôn", GE, 50.0, PERCENT),  # a share of what the words name
    ("100% số hộ", EQ, 100.0, PERCENT),  # a growth as often as a bound: the assessment decides
    # compound or relative legal texts keep their text and are judged by the self-assessment
    ("Hoàn thành tiểu học 100%; tốt nghiệp THCS ≥ 98%", TEXT, None, None),
    ("Cao hơn từ 10% trở lên so với mức thu nhập bình quân của xã", TEXT, None, None),
    ("100% đạt chuẩn quốc gia; có trường đạt mức độ 2", TEXT, None, None),
    ("Theo quy định của Bộ Y tế", TEXT, None, None),
    ("", TEXT, None, None),
    # a bare count or amount is a least (it was "exactly": 02 mô hình missed "01 mô hình");
    # a bare percentage, or none of anything, stays as written
    ("01 mô hình", GE, 1.0, "mô hình"),
    ("70 triệu đồng/người/năm", GE, 70.0, "triệu đồng/người/năm"),
    ("0 vụ", EQ, 0.0, "vụ"),
    ("1%", EQ, 1.0, PERCENT),
    ("Có ít nhất 01 mô hình", GE, 1.0, "mô hình"),  # (it was text)
    ("≥ 95% (năm 2024)", GE, 95.0, PERCENT),  # the year it is for (it was text)
    ("Cỏ", TEXT, None, None), ("CO", TRUE, 1.0, BOOL),  # folds like "Có" / typed plain
])
def test_parse_target(text: str, comparator: str, value: float | None,
                      unit: str | None) -> None:
    target = parse_target(text)
    assert (target.comparator, target.value, target.unit) == (comparator, value, unit)
    assert target.text == text
    assert target.judgeable == (comparator != TEXT)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Đạt", "met"), (" ĐẠT ", "met"), ("đạt", "met"), ("Đạt chuẩn", "met"),
    ("Chưa đạt", "not_met"), ("CHƯA  ĐẠT", "not_met"), ("Không đạt", "not_met"),
    ("không   đạt", "not_met"), ("Chu\u031ba đa\u0323t", "not_met"),  # NFD
    ("", None), (None, None), ("Đang thực hiện", None),
    # the template's choice never made: neither (it read "met")
    ("Đạt/Chưa đạt", None), ("Đạt / Không đạt", None), ("Chưa đạt hoặc đạt", None),
    ("Chưa đạt, dự kiến đạt năm 2025", "not_met"),
    # folds like "Đạt" / "Chưa": neither (they were "met" and "not_met"); typed plain: both
    ("Đất", None), ("Chứa", None), ("DAT", "met"), ("chua dat", "not_met"),
])
def test_parse_assessment(raw: object, expected: str | None) -> None:
    assert parse_assessment(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("x", True), (" X ", True), ("✓", True), (1, True), ("", False), (None, False), (0, False),
])
def test_is_mark(raw: object, expected: bool) -> None:
    assert is_mark(raw) is expected


@pytest.mark.parametrize(("value", "target", "status", "gap"), [
    ("95,6%", "≥ 90%", "met", 0.0),
    ("85%", "≥ 90%", "not_met", 5.0),
    ("100%", "100%", "met", 0.0),
    ("98%", "100%", "not_met", 2.0),
    ("2,5%", "≤ 3%", "met", 0.0),
    ("4,5%", "≤ 3%", "not_met", 1.5),
    ("Có", "Có", "met", 0.0),
    ("Chưa có", "Có", "not_met", 1.0),
    ("Đạt", "Đạt", "met", 0.0),
    ("Không", "Không", "met", 0.0),
    ("Có", "Không", "not_met", 1.0),
    ("0 hộ", "Không có hộ nghèo", "met", 0.0),
    ("2 hộ", "Không có hộ nghèo", "not_met", 2.0),
    ("02 mô hình", "≥ 01 mô hình", "met", 0.0),
    ("Chưa có", "≥ 01 mô hình", "not_met", 1.0),
    ("71 triệu đồng", "≥ 70 triệu đồng/người/năm", "met", 0.0),
    ("54 triệu đồng", "≥ 70 triệu đồng/người/năm", "not_met", 16.0),
    ("1,1 lần", "≥ 1,1 lần", "met", 0.0),
    ("1,05 lần", "≥ 1,1 lần", "not_met", pytest.approx(0.05)),
    ("98%", "Hoàn thành tiểu học 100%; tốt nghiệp THCS ≥ 98%", None, None),
    ("Xem thuyết minh", "≥ 90%", None, None),
    ("02 mô hình", "01 mô hình", "met", 0.0),
])
def test_judge(value: str, target: str, status: str | None, gap: object) -> None:
    assert judge(parse_value(value), parse_target(target)) == (status, gap)


def test_target_dataclass_is_what_the_doc_says() -> None:
    assert parse_target("≥ 90%") == Target(GE, 90.0, PERCENT, "≥ 90%")
