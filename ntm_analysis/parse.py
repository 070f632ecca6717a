"""Parse cell values, target texts and self-assessments written in Vietnamese conventions.

Vietnamese writes a decimal comma and a thousands dot ("54,03", "4.122", "1.250,5"), percentages
as "95,6%", and yes/no as words ("Có", "Chưa có", "Không"). Targets are short legal phrases
("≥ 90%", "Không có hộ nghèo", "≥ 01 mô hình", "≥ 1,1 lần"). A target that cannot be reduced to a
comparison keeps its text and is judged by the unit's self-assessment.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ntm_analysis.text import fold, nfc

# Comparators a parsed target may carry.
GE, GT, LE, LT, EQ, TRUE, TEXT = ">=", ">", "<=", "<", "==", "is_true", "text"

PERCENT = "%"
BOOL = "bool"
#: Unit of a ratio ("≥ 1,5 lần": times a baseline).
TIMES = "lần"
#: Unit of a result cell that states compliance ("Đạt", "Chưa đạt") rather than a quantity.
COMPLIANCE = "compliance"
_COMPLIANT = {"dat", "da dat", "dat chuan", "dat yeu cau"}
_NOT_COMPLIANT = {"chua dat", "khong dat", "chua dat chuan", "chua dat yeu cau"}

#: A number: digits with dots and commas, or thousands grouped by spaces ("54 030 000",
#: "4\u00a0122", as a copied page or another locale writes them; "4 122,5").
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)(?:[.,]\d+)?|\d[\d.,]*)")
_GROUPED_DOT = re.compile(r"^\d{1,3}(\.\d{3})+$")
_GROUPED_COMMA = re.compile(r"^\d{1,3}(,\d{3})+$")

# Words, after ``fold``, that mean yes / no when they are the whole cell.
_YES = {"co", "dat", "x", "v", "yes", "true", "da co", "da dat", "ok", "✓", "✔", "roi", "da"}
_NO = {"khong", "chua", "chua co", "khong co", "chua dat", "khong dat", "no", "false",
       "chua hoan thanh", "khong dam bao", "chua dam bao"}
#: Both assessments in one cell (folded), the choice left to whoever fills the template.
_BOTH_WORDS = re.compile(r"dat (?:hoac )?(?:chua|khong) dat|(?:chua|khong) dat (?:hoac )?dat"
                         r"|co (?:hoac )?(?:khong|chua)(?: co)?")  # "Có/Không", "Có/Chưa có"
_NA = {"", "-", "--", "—", "…", "...", "n a", "na", "khong ap dung", "kxd", "k x d"}
#: The words of the yes/no and assessment vocabularies as they are written. A folded match
#: counts only where the cell's word is that word, or is typed without any diacritics ("Co",
#: "Dat"): not another word that folds alike ("Cơ bản hoàn thành" is no "Có", "Đất" no "Đạt",
#: "Chứa" no "Chưa").
_WRITTEN = {"co": "có", "da": "đã", "dat": "đạt", "chuan": "chuẩn", "yeu": "yêu", "cau": "cầu",
            "hoan": "hoàn", "thanh": "thành", "roi": "rồi", "chua": "chưa", "khong": "không",
            "d": "đ", "cd": "cđ", "kd": "kđ", "dam": "đảm", "bao": "bảo", "hoac": "hoặc"}
_WORD = re.compile(r"\w+")
#: The rest of a range after its first number ("90-95%", "90 – 95 %").
_RANGE_END = re.compile(r"\s*[-–—]\s*\d")
#: The year a target is for, in brackets after it ("≥ 95% (năm 2024)").
_YEAR_AFTER = re.compile(r"\s*\(\s*(?:n[aă]m\s+)?(?:19|20)\d\d\s*\)\s*$", re.IGNORECASE)
#: A year leading a result ("Năm 2023: 95%", "năm 2024 đạt 96%", "Năm học 2023-2024: 98%").
_YEAR_FIRST = re.compile(r"\s*(?:n[aă]m(?:\s+h[oọ]c)?\s+(?:19|20)\d\d(?:\s*[-–/]\s*(?:19|20)\d\d)?"
                         r"(?!\d)\s*[:,.–-]?|(?:19|20)\d\d\s*:)\s*", re.IGNORECASE)
#: A year a figure of the cell is given for: "năm 2023", "Năm học 2023-2024", "2023:".
_YEAR_TAG = re.compile(r"\bn[aă]m(?:\s+h[oọ]c)?\s+((?:19|20)\d\d)(?!\d)|\b((?:19|20)\d\d)\s*:",
                       re.IGNORECASE)


def years_given(text: str) -> list[int]:
    """The years a result cell gives figures for, when it gives more than one ("Năm 2023: 85%,
    năm 2024: 92%": a series, no one value); ``[]`` otherwise.

    >>> years_given("Năm 2023: 85%, năm 2024: 92%"), years_given("2023: 85%; 2024: 92%")
    ([2023, 2024], [2023, 2024])
    >>> years_given("Năm 2023: 95%"), years_given("90% (năm 2023: 85%)")
    ([], [])
    """
    years = list(dict.fromkeys(int(a or b) for a, b in _YEAR_TAG.findall(nfc(text))))
    return years if len(years) > 1 and len(_NUMBER.findall(_YEAR_TAG.sub(" ", text))) > 1 \
        else []


def _as_written(text: str, phrase: str) -> bool:
    """Whether the first words of ``text`` are the folded vocabulary ``phrase``'s words as they
    are written (or written without diacritics), not other words that fold alike.

    >>> _as_written("Cơ bản hoàn thành", "co"), _as_written("Có 02 mô hình", "co")
    (False, True)
    >>> _as_written("CHUA DAT", "chua dat"), _as_written("Đất ở", "dat")
    (True, False)
    """
    for word in _WORD.findall(nfc(text).casefold())[:len(phrase.split())]:
        meant = _WRITTEN.get(plain := fold(word))
        if meant is not None and word != meant and word != plain:
            return False
    return True


def _written_prefix(text: str, key: str, prefixes: tuple[str, ...]) -> bool:
    """``key.startswith(prefixes)`` for the prefix the text's words are written as."""
    return any(key.startswith(p) and _as_written(text, p) for p in prefixes)


@dataclass(frozen=True)
class Value:
    """A parsed cell value: ``number`` for numbers, percentages (in percent) and booleans (1/0)."""

    kind: str  # "number" | "percent" | "bool" | "text" | "empty" | "date"
    number: float | None = None
    unit: str | None = None
    text: str = ""

    @property
    def judgeable(self) -> bool:
        return self.number is not None


@dataclass(frozen=True)
class Target:
    """A parsed target: ``comparator`` is one of >=, >, <=, <, ==, is_true or text."""

    comparator: str
    value: float | None = None
    unit: str | None = None
    text: str = ""

    @property
    def judgeable(self) -> bool:
        return self.comparator != TEXT


def parse_number(text: str) -> float | None:
    """Parse a number written in Vietnamese (or plain) conventions; ``None`` if it is not one.

    Examples
    --------
    >>> parse_number("54,03"), parse_number("4.122"), parse_number("1.250,5")
    (54.03, 4122.0, 1250.5)
    >>> parse_number("3.432.000"), parse_number("0.95"), parse_number("abc") is None
    (3432000.0, 0.95, True)
    """
    s = nfc(text).replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    if not s:
        return None
    sign = -1.0 if s[0] == "-" else 1.0
    s = s.lstrip("+-")
    if not s or not s[0].isdigit() or not re.fullmatch(r"[\d.,]+", s):
        return None
    if "." in s and "," in s:
        # the later separator is the decimal mark
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "." in s:
        if _GROUPED_DOT.match(s):
            s = s.replace(".", "")
        elif s.count(".") > 1:
            return None
    elif "," in s:
        if s.count(",") > 1 and _GROUPED_COMMA.match(s):
            s = s.replace(",", "")
        elif s.count(",") == 1:
            s = s.replace(",", ".")
        else:
            return None
    try:
        out = sign * float(s)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def _unit_after(text: str, end: int) -> str | None:
    # "Có (02 mô hình)": the unit is "mô hình", not "mô hình)"
    rest = text[end:].strip().strip(".;:()[] ")
    if not rest:
        return None
    if rest.startswith("%"):
        return PERCENT
    return nfc(rest)[:60] or None


def parse_value(raw: object) -> Value:
    """Parse a result cell ("Hiện trạng") into a number, percentage, yes/no or text.

    Examples
    --------
    >>> parse_value("95,6%")
    Value(kind='percent', number=95.6, unit='%', text='95,6%')
    >>> parse_value("Chưa có").number, parse_value(" CÓ ").number
    (0.0, 1.0)
    >>> parse_value("54,03 triệu đồng").unit
    'triệu đồng'
    >>> parse_value(12).kind, parse_value(None).kind
    ('number', 'empty')
    >>> parse_value(54030000.0).text, parse_value(0.95).text
    ('54030000', '0.95')
    """
    if type(raw) is str:  # the common case first: a text cell, parsed once per distinct text
        return _parse_value_text(raw)
    if raw is None:
        return Value("empty")
    if isinstance(raw, bool):
        return Value(BOOL, 1.0 if raw else 0.0, BOOL, str(raw))
    if isinstance(raw, int | float):
        number = float(raw)
        if not math.isfinite(number):
            return Value("text", None, None, str(raw))
        # a whole number read as a float (calamine's numbers) is written as Excel shows it:
        # "54030000", not "54030000.0"
        if not isinstance(raw, float):
            text = str(raw)
        else:
            text = str(int(raw)) if raw.is_integer() and abs(raw) < 1e15 else repr(raw)
        return Value("number", number, None, text)
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        return Value("date", None, None, raw.isoformat())
    return _parse_value_text(str(raw))


@lru_cache(maxsize=1 << 14)
def _parse_value_text(raw: str) -> Value:
    # result cells repeat ("Đạt", "Có", "100%") across hamlets: parse each distinct text once
    text = nfc(raw)
    key = fold(text)
    if not key and text.strip(" \t\r\n-–—…."):  # symbols only, no word or digit
        if text.strip() in _TICKS:  # a tick, as "x" is
            return Value(BOOL, 1.0, BOOL, text)
        return Value("text", None, None, text)  # ("?", "★★★": told, not taken for empty)
    if key in _NA:
        return Value("empty", None, None, text)
    written = _as_written(text, key)  # (every word: for the exact matches below)
    if _BOTH_WORDS.fullmatch(key) and written:  # "Đạt/Chưa đạt": the choice never made
        return Value("text", None, None, text)
    if key in _COMPLIANT and written:
        return Value(BOOL, 1.0, COMPLIANCE, text)
    if key in _NOT_COMPLIANT and written:
        return Value(BOOL, 0.0, COMPLIANCE, text)
    if key in _YES and written:
        return Value(BOOL, 1.0, BOOL, text)
    if (key in _NO and written) or _written_prefix(
            text, key, ("khong co ", "chua co ", "chua dat", "khong dat")):
        if key.startswith(("khong co ", "chua co ")) and _NUMBER.search(text):
            pass  # e.g. "Không có 2 hộ" is odd; fall through to the number
        else:
            return Value(BOOL, 0.0, BOOL, text)
    if years_given(text):  # figures of several years: no one value
        return Value("text", None, None, text)
    # the year a figure is of is no figure: "Năm 2023: 95%" is 95% (it was 2023)
    year = _YEAR_FIRST.match(text)
    match = _NUMBER.search(text, year.end() if year else 0)
    if match:
        found = parse_number(match.group(0).rstrip(".,"))
        if found is not None:
            number = found
            unit = _unit_after(text, match.end())
            if unit and _RANGE_END.match(unit):
                return Value("text", None, None, text)  # "90-95%": a range is no one value
            # a number must lead the cell, or follow a short word ("Đạt 95%", "Có 02 mô hình")
            prefix = fold(text[year.end() if year else 0: match.start()])
            if len(prefix.split()) <= 2:
                if unit == PERCENT:
                    return Value("percent", number, PERCENT, text)
                if unit and unit.startswith("/"):
                    denominator = parse_number(unit[1:].split()[0]) if unit[1:].split() else None
                    if denominator:
                        return Value("percent", 100.0 * number / denominator, PERCENT, text)
                return Value("number", number, unit, text)
    if _written_prefix(text, key, ("co ", "da co ", "dat ")):
        return Value(BOOL, 1.0, BOOL, text)
    return Value("text", None, None, text)


_CMP_WORDS = sorted([
    # (folded prefix, comparator); sorted longest first, so "lớn hơn hoặc bằng" is not read
    # as "lớn hơn". A bare "cao hơn" / "thấp hơn" is left out: "cao hơn 10%" is as often a
    # growth as a bound
    ("tu", GE),  # "Từ 90% trở lên"
    ("toi thieu", GE),
    ("it nhat", GE),
    ("co it nhat", GE),  # "Có ít nhất 01 mô hình"
    ("co toi thieu", GE),
    ("khong it hon", GE),
    ("khong duoi", GE),
    ("khong thap hon", GE),
    ("khong nho hon", GE),
    ("lon hon hoac bang", GE),
    ("bang hoac lon hon", GE),
    ("tren", GT),
    ("lon hon", GT),
    ("khong qua", LE),
    ("khong vuot qua", LE),
    ("khong vuot", LE),
    ("khong lon hon", LE),
    ("khong cao hon", LE),
    ("toi da", LE),
    ("nho hon hoac bang", LE),
    ("bang hoac nho hon", LE),
    ("duoi", LT),
    ("nho hon", LT),
], key=lambda pair: -len(pair[0]))
#: A comparator typed with a space inside ("> = 90%", "< = 3%").
_SPACED_SYMBOL = re.compile(r"^([<>=])\s+([<>=])")
_SYMBOLS = {"≥": GE, ">=": GE, "=>": GE, ">": GT, "≤": LE, "<=": LE, "=<": LE, "<": LT, "=": EQ}


def parse_target(raw: object) -> Target:
    """Parse a target text ("Chỉ tiêu theo quy định") into a comparison.

    Compound or relative texts ("Hoàn thành tiểu học 100%; tốt nghiệp THCS ≥ 98%", "Cao hơn 10%
    so với ...") keep their text with comparator ``text``.

    Examples
    --------
    >>> parse_target("≥ 90%")
    Target(comparator='>=', value=90.0, unit='%', text='≥ 90%')
    >>> parse_target("Không có hộ nghèo").comparator, parse_target("Không có hộ nghèo").value
    ('==', 0.0)
    >>> parse_target("≥ 1,1 lần").value, parse_target("Đạt").comparator
    (1.1, 'is_true')
    >>> parse_target("≥ 70 triệu đồng/người/năm").unit
    'triệu đồng/người/năm'
    """
    if raw is None:
        return Target(TEXT, None, None, "")
    if isinstance(raw, bool):
        return Target(TRUE, 1.0, BOOL, str(raw))
    if isinstance(raw, int | float):
        return Target(GE, float(raw), None, str(raw)) if math.isfinite(raw) else Target(TEXT)
    text = nfc(str(raw))
    key = fold(text)
    if not key:
        return Target(TEXT, None, None, text)
    written = _as_written(text, key)  # ("Cỏ" is no "Có")
    if (key in _YES or key in {"dat chuan", "co dat", "hoan thanh", "dat yeu cau"}) and written:
        return Target(TRUE, 1.0, BOOL, text)
    if key in {"khong", "khong co"} and written:  # "must be none": "Không" (0) meets it
        return Target(EQ, 0.0, BOOL, text)
    # compound legal texts: judged by the self-assessment
    if ";" in text or "\n" in text or re.search(r"\bso voi\b", key) or key.count("%") > 1:
        return Target(TEXT, None, None, text)
    if key.startswith(("khong co", "khong con", "khong phat sinh")) and not _NUMBER.search(text):
        tail = text.split()[2:]
        return Target(EQ, 0.0, tail[0] if tail else None, text)

    comparator = EQ
    stated = True  # a comparator written in symbols or words
    # the year a target is for, after it: "≥ 95% (năm 2024)"
    text_only = _YEAR_AFTER.sub("", text) if "(" in text else text
    body = _SPACED_SYMBOL.sub(r"\1\2", text_only)
    for symbol in sorted(_SYMBOLS, key=len, reverse=True):
        if body.startswith(symbol):
            comparator = _SYMBOLS[symbol]
            body = body[len(symbol):].strip()
            break
    else:
        for words, cmp_ in _CMP_WORDS:
            if key == words or key.startswith(words + " "):
                comparator = cmp_
                n_words = len(words.split())
                body = " ".join(text_only.split()[n_words:])
                break
        else:
            stated = False
    match = _NUMBER.match(body.strip())
    if not match:
        return Target(TEXT, None, None, text)
    number = parse_number(match.group(0).rstrip(".,"))
    if number is None:
        return Target(TEXT, None, None, text)
    rest = body.strip()[match.end():].strip()
    rest_key = fold(rest)
    if rest_key.endswith("tro len"):
        comparator = GE
        rest = rest[: rest.lower().rfind("trở lên")].strip() if "trở lên" in rest.lower() else rest
    elif rest_key.endswith("tro xuong"):
        comparator = LE
        if "trở xuống" in rest.lower():
            rest = rest[: rest.lower().rfind("trở xuống")].strip()
    unit: str | None
    if rest.startswith("%"):
        unit = PERCENT
        extra = fold(rest[1:])
        # "≥ 50% số thôn", "100% số hộ": a share of what the words name; "100% đạt chuẩn …"
        # is compound
        if extra and extra not in {"tro len", "tro xuong"} and not extra.startswith("so "):
            return Target(TEXT, None, None, text)
    else:
        unit = nfc(rest).strip(" .") or None
        if not stated and unit and number > 0 and comparator == EQ:
            # a bare count or amount is what to reach at least ("01 mô hình", "70 triệu
            # đồng/người/năm"); a bare percentage stays as it is (a rate such as "1%" of poor
            # households is a most, "95%" a least)
            comparator = GE
    return Target(comparator, number, unit, text)


_ASSESS_MET = {"dat", "da dat", "dat chuan", "x dat", "hoan thanh", "d", "co"}
_ASSESS_NOT = {"chua dat", "khong dat", "chua", "chua hoan thanh", "cd", "kd", "khong"}


def parse_assessment(raw: object) -> str | None:
    """Parse a self-assessment ("Đánh giá") cell into "met", "not_met" or ``None``.

    Examples
    --------
    >>> parse_assessment(" ĐẠT "), parse_assessment("Chưa  đạt"), parse_assessment("Không đạt")
    ('met', 'not_met', 'not_met')
    >>> parse_assessment("") is None, parse_assessment("Đạt (cơ bản)") is None
    (True, True)
    """
    if type(raw) is str:
        return _parse_assessment_text(raw)
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "met" if raw else "not_met"
    return _parse_assessment_text(str(raw))


def is_unfilled_choice(text: str) -> bool:
    """Whether an assessment cell holds both words, as a template offers them ("Đạt/Chưa đạt").

    >>> is_unfilled_choice("Đạt/Chưa đạt"), is_unfilled_choice("Chưa đạt")
    (True, False)
    """
    return bool(_BOTH_WORDS.fullmatch(fold(nfc(text))))


@lru_cache(maxsize=1 << 12)  # a handful of words ("Đạt", "Chưa đạt") on every indicator row
def _parse_assessment_text(raw: str) -> str | None:
    key = fold(nfc(raw))
    if not key:
        return None
    written = _as_written(raw, key)
    if _BOTH_WORDS.fullmatch(key) and written:  # is_unfilled_choice
        return None  # a template never filled in: "Đạt/Chưa đạt", "Đạt hoặc không đạt"
    if (key in _ASSESS_NOT and written) or _written_prefix(
            raw, key, ("chua dat", "khong dat", "chua hoan thanh")):
        return "not_met"
    if "co ban" in key:  # "Cơ bản đạt", "Đạt (cơ bản)": basically met is not met
        return None
    if (key in _ASSESS_MET and written) or _written_prefix(raw, key, ("dat ", "da dat",
                                                                      "dat chuan")):
        return "met"
    return None


def is_mark(raw: object) -> bool:
    """True when a cell holds a tick mark ("x", "X", "✓", "1") as used in "Đạt | Chưa đạt" columns.

    Examples
    --------
    >>> is_mark(" x "), is_mark("✓"), is_mark(""), is_mark(None)
    (True, True, False, False)
    """
    if type(raw) is str:
        return _is_mark_text(raw)
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return raw == 1
    return _is_mark_text(str(raw))


#: Tick marks (symbols a result cell may hold for "yes", as it may hold "x").
_TICKS = {"✓", "✔", "☑", "✅", "√"}


@lru_cache(maxsize=1 << 12)  # the same few marks and words on every row of a marks table
def _is_mark_text(raw: str) -> bool:
    return fold(nfc(raw)) in {"x", "v", "1", "dat", "chua dat", "co"} or \
        nfc(raw).strip() in _TICKS | {"●", "•", "+"}


#: Money units (folded) and their worth in đồng, longest first: a result in đồng is judged
#: against a target in triệu đồng after conversion. The same words read a table's stated unit
#: (``money_unit_named``).
_MONEY_UNITS = (("nghin dong", 1e3), ("ngan dong", 1e3), ("nghin vnd", 1e3), ("ngan vnd", 1e3),
                ("trieu dong", 1e6), ("tr dong", 1e6), ("ty dong", 1e9), ("nghin d", 1e3),
                ("ngan d", 1e3), ("trieu", 1e6), ("tr d", 1e6), ("trd", 1e6), ("tr", 1e6),
                ("ty", 1e9), ("dong", 1.0), ("vnd", 1.0), ("d", 1.0))
#: Of those, the words that say money wherever a title or header has them; the others
#: ("đồng", "tỷ", "tr", "đ": a place name, "cộng đồng", an abbreviation) only right after a
#: unit label ("ĐVT:", "Đơn vị tính:") or before "/người".
_BARE_MONEY = frozenset({"tr", "ty", "dong", "vnd", "d"})
_MONEY_ALTERNATIVES = "|".join(re.escape(w) for w, _ in _MONEY_UNITS)
_STATED_MONEY = re.compile(
    r"(?:^|\s)(?P<label>(?:dvt|don vi(?: tinh)?) )?"
    r"(?:(?P<times>1 000 000 000|1000000000|1 000 000|1000000|1 000|1000) ?)?"
    rf"(?P<unit>{_MONEY_ALTERNATIVES})(?P<per> (?:nguoi|ng|khau)\b)?(?=\s|$)")
_MONEY_WORTH = dict(_MONEY_UNITS)


def money_unit_named(texts: Iterable[str]) -> float | None:
    """Worth in đồng of the money unit a table's title or header states ("ĐVT: triệu đồng",
    "(Tr.đ)", "Đơn vị tính: 1.000 đồng", "(đồng/người/năm)"), the first text that states one
    deciding; ``None`` when none does. Words that also mean other things ("đồng", "tỷ")
    count only after a unit label or before "/người".

    Examples
    --------
    >>> money_unit_named(["KINH PHÍ", "ĐVT: 1.000 đồng"]), money_unit_named(["(Tr.đ)"])
    (1000.0, 1000000.0)
    >>> money_unit_named(["ĐVT: Nghìn VNĐ"]), money_unit_named(["Đơn vị: tỷ"])
    (1000.0, 1000000000.0)
    >>> money_unit_named(["Thu nhập (đồng/người/năm)"]), money_unit_named(["ĐVT: đồng"])
    (1.0, 1.0)
    >>> money_unit_named(["Cộng đồng đóng góp"]) is None, money_unit_named(["Tỷ lệ (%)"]) is None
    (True, True)
    """
    for text in texts:
        for found in _STATED_MONEY.finditer(fold(text)):
            unit = found["unit"]
            times = found["times"]
            if unit in _BARE_MONEY and not (found["label"] or found["per"] or times):
                continue
            if times and unit not in ("dong", "vnd", "d"):
                continue  # "1.000 triệu": a number, not a unit
            return _MONEY_WORTH[unit] * (float(times.replace(" ", "")) if times else 1.0)
    return None


@lru_cache(maxsize=1024)
def money_scale(unit: str | None) -> float | None:
    """Worth in đồng of one ``unit`` of a value or target ("triệu đồng/người/năm" → 10⁶), a
    month's amount counted for a year ("triệu đồng/người/tháng" → 12 × 10⁶); ``None`` when the
    unit is no money.

    Examples
    --------
    >>> money_scale("triệu đồng/người/năm"), money_scale("đồng"), money_scale("nghìn đồng")
    (1000000.0, 1.0, 1000.0)
    >>> money_scale("triệu đồng/người/tháng")
    12000000.0
    >>> money_scale("%") is None, money_scale("mô hình") is None, money_scale(None) is None
    (True, True, True)
    >>> money_scale("tỷ lệ hộ") is None, money_scale("tỷ đồng")
    (True, 1000000000.0)
    """
    if not unit:
        return None
    key = fold(unit)
    if key.startswith("ty le"):  # "tỷ lệ" is a ratio, not "tỷ" (a billion)
        return None
    for words, scale in _MONEY_UNITS:
        if key == words or key.startswith(words + " "):
            return scale * 12 if "thang" in key.split() else scale
    return None


def names_period(unit: str) -> bool:
    """Whether a unit says per month or per year ("triệu/tháng", "đồng/người/năm").

    >>> names_period("triệu đồng/người/tháng"), names_period("54,03 triệu")
    (True, False)
    """
    return bool({"thang", "nam"} & set(fold(unit).split()))


def is_times(unit: object) -> bool:
    """Whether a unit is a ratio's, "lần" (times) as written ("Lần" in a unit column too).

    >>> is_times("lần"), is_times("Lần"), is_times("lần/năm"), is_times(None)
    (True, True, False, False)
    """
    return isinstance(unit, str) and unit.casefold() == TIMES


def comparable(value: Value, target: Target) -> bool:
    """Whether a value's unit can be compared with its target's: not a count against a
    percentage ("120 hộ" against "≥ 90%"), a percentage against a count or money, a count
    against money, or a count or money against a ratio ("≥ 1,5 lần")
    (``compute_attainment`` applies the same rule to whole columns).

    >>> comparable(parse_value("120 hộ"), parse_target("≥ 90%"))
    False
    >>> comparable(parse_value("02 sản phẩm"), parse_target("≥ 01 mô hình"))
    True
    """
    v_other = value.unit not in (None, PERCENT, BOOL, COMPLIANCE)
    v_percent = value.unit == PERCENT
    t_other = target.unit not in (None, PERCENT, BOOL)
    if target.unit == PERCENT and v_other:
        return False
    if t_other and v_percent:
        return False
    if is_times(target.unit) and v_other and not is_times(value.unit):
        return False  # "75 triệu đồng" against "≥ 1,5 lần": a ratio, not an amount
    return not (money_scale(target.unit) and v_other and not money_scale(value.unit))


def judge(value: Value, target: Target) -> tuple[str | None, float | None]:
    """Judge a value against a target: ("met" | "not_met" | None, gap to the target).

    The gap is how far the value is from the target in the target's units (0 when met);
    ``None`` when the pair cannot be judged.

    Examples
    --------
    >>> judge(parse_value("85%"), parse_target("≥ 90%"))
    ('not_met', 5.0)
    >>> judge(parse_value("Chưa có"), parse_target("Có"))
    ('not_met', 1.0)
    >>> judge(parse_value("0 hộ"), parse_target("Không có hộ nghèo"))
    ('met', 0.0)
    >>> judge(parse_value("54.030.000 đồng"), parse_target("≥ 70 triệu đồng/người/năm"))[0]
    'not_met'
    """
    if not target.judgeable or value.number is None or not comparable(value, target):
        return None, None
    number = value.number
    if (v_scale := money_scale(value.unit)) and (t_scale := money_scale(target.unit)):
        number *= v_scale / t_scale  # "54.030.000 đồng" against "≥ 70 triệu đồng"
    return compare(number, target.comparator, target.value)


def compare(v: float, comparator: str, t: float | None) -> tuple[str | None, float | None]:
    """Compare one number with a target; see ``judge``."""
    if comparator == TRUE:
        met = v >= 1.0 or (v > 0 and v != 0.0)
        return ("met", 0.0) if met else ("not_met", 1.0)
    if t is None:
        return None, None
    eps = 1e-9 * max(1.0, abs(t))
    if comparator == GE:
        ok = v >= t - eps
        gap = max(0.0, t - v)
    elif comparator == GT:
        ok = v > t + eps
        gap = 0.0 if ok else t - v
    elif comparator == LE:
        ok = v <= t + eps
        gap = max(0.0, v - t)
    elif comparator == LT:
        ok = v < t - eps
        gap = 0.0 if ok else v - t
    elif comparator == EQ:
        ok = abs(v - t) <= eps
        gap = abs(v - t)
    else:
        return None, None
    return ("met" if ok else "not_met"), (0.0 if ok else gap)
