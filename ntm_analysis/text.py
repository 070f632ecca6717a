"""Text helpers: Unicode NFC, whitespace, and accent-free keys for matching header words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_SPACE = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Normalise to Unicode NFC and collapse runs of white space.

    Examples
    --------
    >>> nfc("  Ha\u0300 \\n Nội ") == "Hà Nội"
    True
    """
    return _nfc(text)


@lru_cache(maxsize=1 << 16)
def _nfc(text: str) -> str:
    # workbooks repeat the same header, criterion and target texts: normalise each once
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


def unaccent(text: str) -> str:
    """Return lower-case NFC text without diacritics (đ → d), punctuation kept.

    Examples
    --------
    >>> unaccent("TC 6 - Giáo dục; chỉ tiêu 6.1")
    'tc 6 - giao duc; chi tieu 6.1'
    """
    text = unicodedata.normalize("NFD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def fold(text: str) -> str:
    """Return a matching key: lower case, no diacritics (đ → d), only letters, digits, spaces.

    Examples
    --------
    >>> fold("Tự đánh giá ")
    'tu danh gia'
    >>> fold("Tiêu chí / chỉ tiêu")
    'tieu chi chi tieu'
    """
    return _fold(text)


_NOT_KEY = re.compile(r"[^0-9a-z%]+")


#: The combining marks Vietnamese (and most Latin text) decomposes into; one C-level pass
#: removes them, and only text that is still not ASCII is checked character by character.
_COMMON_MARKS = re.compile("[\u0300-\u036f]+")


@lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    text = _COMMON_MARKS.sub("", unicodedata.normalize(
        "NFD", text.replace("đ", "d").replace("Đ", "D")))
    if not text.isascii():
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_KEY.sub(" ", text.lower()).strip()


#: The words naming a hamlet, lower case with their tones: "xóm", "thôn", "bản", "làng", and
#: "ấp" (the South), "buôn", "bon", "plei" (the Central Highlands), "sóc", "phum" (Khmer areas).
#: The loader's titles, the budget's lines and levels and ``closest`` all take them from here.
HAMLET_WORDS = ("xóm", "thôn", "bản", "làng", "ấp", "buôn", "bon", "plei", "sóc", "phum")
#: Unit words a name may start with, folded ("Xóm", "Buôn"…, "Xã"): a name is also compared
#: without it.
_UNIT_HEADS = {fold(w) for w in HAMLET_WORDS} | {"xa"}


def closest(name: str, candidates: Iterable[str], *, cutoff: float = 0.75) -> str | None:
    """The candidate most like ``name``, accents, case and a leading unit word ("Xóm",
    "Thôn", "Xã") aside; None when none is that close (``difflib``'s ratio ``cutoff``): what an
    "unknown unit" message suggests.

    >>> closest("Ao Sn", ["Xóm Ao Sen", "Xóm Bản Lác"])
    'Xóm Ao Sen'
    >>> closest("kim phuog", ["Kim Phượng", "Bảo Cường"])
    'Kim Phượng'
    >>> closest("Hà Nội", ["Xóm Ao Sen", "Kim Phượng"]) is None
    True
    >>> closest("Ko Sier", ["Buôn Ko Siêr", "Buôn Trấp"])
    'Buôn Ko Siêr'
    """
    import difflib

    def forms(text: str) -> set[str]:
        folded = fold(text)
        head, _, rest = folded.partition(" ")
        return {folded, rest} if head in _UNIT_HEADS and rest else {folded}

    best, score = None, cutoff
    wanted_forms = forms(name)
    for candidate in candidates:
        for wanted in wanted_forms:
            for form in forms(candidate):
                ratio = difflib.SequenceMatcher(None, wanted, form).ratio()
                if ratio > score or (ratio == score and best is None):
                    best, score = candidate, ratio
    return best


#: A period of years ("2021-2025", "2021 – 2025"): no single year of a table.
_PERIOD = re.compile(r"(?<!\d)(?:19|20)\d\d\s*[-–—]\s*(?:19|20)\d\d(?!\d)")


def without_periods(text: str) -> str:
    """``text`` with its periods of years left out, so that the year a title names is not
    taken from "GIAI ĐOẠN 2021-2025" (2021, or 2025 as the latest).

    >>> without_periods("NTM KIỂU MẪU NĂM 2024 (GIAI ĐOẠN 2021-2025)")
    'NTM KIỂU MẪU NĂM 2024 (GIAI ĐOẠN  )'
    """
    return _PERIOD.sub(" ", text) if "-" in text or "–" in text or "—" in text else text


def slug(text: str) -> str:
    """Return a file-name-safe slug.

    Examples
    --------
    >>> slug("Xóm Cạm Phước")
    'xom-cam-phuoc'
    """
    return re.sub(r"[^0-9a-z]+", "-", fold(text)).strip("-")


def cell_text(value: object) -> str:
    """Return the NFC text of a cell value ('' for empty); floats that are integers lose '.0'.

    Examples
    --------
    >>> cell_text(" Xóm  Ao Sen "), cell_text(3.0), cell_text(2.5), cell_text(None)
    ('Xóm Ao Sen', '3', '2.5', '')
    """
    if type(value) is str:  # the common case first: most cells are text
        return _nfc(value)
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return _nfc(value) if type(value) is str else nfc(str(value))


def cell_texts(values: Iterable[object]) -> list[str]:
    """Return ``cell_text`` of each value of a row, text cells straight from the NFC cache.

    Examples
    --------
    >>> cell_texts(["Xóm  Ao Sen", 3.0, None, ""])
    ['Xóm Ao Sen', '3', '', '']
    """
    if type(values) is list:
        try:  # a row of texts only (the usual row): the NFC cache called from C, per cell
            return list(map(_nfc, values))
        except TypeError:
            pass  # a number, date, bool or None among them (normalize refuses it)
    return [_nfc(v) if type(v) is str else cell_text(v) for v in values]


#: Characters Markdown or MathJax act on; "_" only where it could open or close emphasis
#: (CommonMark ignores it inside a word, so file names like kim_phuong.xlsx stay as they are).
_MD_SPECIAL = re.compile(r"([\\`*\[\]|$~]|(?<!\w)_|_(?!\w))")


def rows_phrase(rows: list[int]) -> str:
    """Name 0-based sheet rows as an issue does: "row 4", or "3 rows, 4–9" (first–last).

    >>> rows_phrase([3]), rows_phrase([3, 5, 8])
    ('row 4', '3 rows, 4–9')
    """
    return f"row {rows[0] + 1}" if len(rows) == 1 else \
        f"{len(rows)} rows, {rows[0] + 1}–{rows[-1] + 1}"


def joined(texts: Iterable[str], limit: int = 1000) -> str:
    """The non-empty ``texts`` of a row joined by " | ", as an issue shows a row that was not
    read as data (a note in full, up to ``limit`` characters, then "…").

    >>> joined(["", "Ghi chú:", " số liệu MINH HỌA"]), joined(["Ghi chú: số liệu"], limit=8)
    ('Ghi chú: |  số liệu MINH HỌA', 'Ghi chú…')
    """
    text = " | ".join(t for t in texts if t)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def escape_md(text: object) -> str:
    """Make workbook text safe to put in Markdown that a notebook renders as HTML.

    ``<``, ``>`` and ``&`` become HTML entities (so ``<script>`` or ``<img onerror=…>`` is
    shown, never run) and the characters that Markdown or MathJax would act on (``\\ ` * _ [ ]
    | $ ~``) get a backslash, so a name shows exactly as typed. Use it for every piece of
    workbook text (unit, criterion and indicator names, file and sheet names, notes) inserted
    into a ``Markdown(...)`` string; tables go through ``show_table``, which escapes its cells.

    Examples
    --------
    >>> escape_md('Xóm <img src=x onerror="alert(1)">')
    'Xóm &lt;img src=x onerror="alert(1)"&gt;'
    >>> escape_md("kim_phuong.xlsx [1] $5 *x* _y_")
    'kim_phuong.xlsx \\\\[1\\\\] \\\\$5 \\\\*x\\\\* \\\\_y\\\\_'
    """
    import html

    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(text)), quote=False)
