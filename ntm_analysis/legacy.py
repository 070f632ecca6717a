"""Detect and convert text typed in legacy Vietnamese encodings (TCVN3/ABC and VNI).

Old government files were typed before Unicode with fonts that draw Vietnamese letters in place
of Latin-1 characters. Read as Unicode they look like noise:

* **TCVN3** (ABC, fonts ``.VnTime``, ``.VnArial``; ``.VnTimeH`` is the capitals-only twin): one
  byte per letter, e.g. ``"KÕt qu¶"`` for "Kết quả", ``"®¹t"`` for "đạt", ``"ng­êi"`` for
  "người". TCVN3 has codes for the capitals Ă Â Đ Ê Ô Ơ Ư only; capitals with a tone were typed
  with the lower-case codes in a ``...H`` font, so they convert to lower case unless the font
  name is given to :func:`fix_text`.
* **VNI** (VNI-Windows, fonts ``VNI-Times``, ``VNI-Helve``): a base letter followed by a mark
  character, e.g. ``"Vieät Nam"`` for "Việt Nam", ``"Thöôïng"`` for "Thượng", ``"ñ"`` for "đ",
  ``"Ñ"`` for "Đ".

:func:`detect_legacy` guesses the encoding of a text, :func:`to_unicode` converts it,
:func:`from_unicode` encodes Unicode back (for tests and for building sample files),
:func:`fix_text` does both for one cell (trusting the cell's font name when there is one) and
:func:`scan_workbook` lists every cell of a workbook that looks legacy-encoded, as issues.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from ntm_analysis.schema import Iss

log = logging.getLogger(__name__)

TCVN3 = "tcvn3"
VNI = "vni"
ENCODINGS = (TCVN3, VNI)
#: How each encoding is named in messages.
ENCODING_NAMES = {TCVN3: "TCVN3 (ABC, .VnTime fonts)", VNI: "VNI (VNI-Times fonts)"}
#: Issue code for cells found in a legacy encoding.
CODE = "legacy_encoding"

# Tone order used in the tables below: none, huyền, hỏi, ngã, sắc, nặng.
_TONE_MARKS = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
_BASES = "aăâeêioôơuưy"


def _toned(base: str, tone: int) -> str:
    return unicodedata.normalize("NFC", base + _TONE_MARKS[tone])


# ---------------------------------------------------------------------------------- TCVN3
# Codes (as Latin-1 characters) for each base vowel with tones in the order above.
_TCVN3_VOWELS: dict[str, tuple[int | str, ...]] = {
    "a": ("a", 0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xA8, 0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xA9, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": ("e", 0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xAA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": ("i", 0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": ("o", 0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xAB, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xAC, 0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": ("u", 0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xAD, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": ("y", 0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TCVN3_OTHERS = {"đ": 0xAE, "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6,
                 "Đ": 0xA7}


def _build_tcvn3() -> tuple[dict[str, str], dict[str, str]]:
    encode: dict[str, str] = {}
    for base, codes in _TCVN3_VOWELS.items():
        for tone, code in enumerate(codes):
            if isinstance(code, int):
                encode[_toned(base, tone)] = chr(code)
    for letter, code in _TCVN3_OTHERS.items():
        encode[letter] = chr(code)
    decode = {v: k for k, v in encode.items()}
    # Capitals with a tone have no code of their own: write them with the lower-case code.
    for base in _BASES:
        for tone in range(6):
            upper = _toned(base, tone).upper()
            lower = _toned(base, tone)
            if upper not in encode and lower in encode:
                encode[upper] = encode[lower]
    return encode, decode


_TCVN3_ENCODE, _TCVN3_DECODE = _build_tcvn3()

# ------------------------------------------------------------------------------------ VNI
_VNI_TONE = ("", "ø", "û", "õ", "ù", "ï")
_VNI_HAT = ("â", "à", "å", "ã", "á", "ä")  # â ê ô with tones
_VNI_BREVE = ("ê", "è", "ú", "ü", "é", "ë")  # ă with tones
_VNI_I = ("i", "ì", "æ", "ó", "í", "ò")  # i with tones: one character each


def _build_vni() -> tuple[dict[str, str], dict[str, str]]:
    lower: dict[str, str] = {}
    for tone in range(6):
        for base in "aeouy":
            lower[_toned(base, tone)] = base + _VNI_TONE[tone]
        for hatted, base in (("â", "a"), ("ê", "e"), ("ô", "o")):
            lower[_toned(hatted, tone)] = base + _VNI_HAT[tone]
        lower[_toned("ă", tone)] = "a" + _VNI_BREVE[tone]
        lower[_toned("i", tone)] = _VNI_I[tone]
        lower[_toned("ơ", tone)] = "ô" + _VNI_TONE[tone]
        lower[_toned("ư", tone)] = "ö" + _VNI_TONE[tone]
    lower["ỵ"] = "î"
    lower["đ"] = "ñ"
    encode: dict[str, str] = {}
    for uni, enc in lower.items():
        if uni in "aeiouy":
            continue  # plain letters are themselves
        encode[uni] = enc
        encode[uni.upper()] = enc.upper()
    decode: dict[str, str] = {}
    for uni, enc in encode.items():
        decode[enc] = uni
        if len(enc) == 2:
            # Tolerate a mark typed in the other case than its base letter.
            decode.setdefault(enc[0] + enc[1].swapcase(), uni)
    return encode, decode


_VNI_ENCODE, _VNI_DECODE = _build_vni()

#: Every Vietnamese letter, lower and upper case, NFC.
VIETNAMESE_LETTERS = frozenset(
    [_toned(b, t) for b in _BASES for t in range(6)]
    + [_toned(b, t).upper() for b in _BASES for t in range(6)]
    + ["đ", "Đ"]
)
_VIET_BEYOND_LATIN1 = frozenset(c for c in VIETNAMESE_LETTERS if ord(c) > 0xFF)
_VIET_LATIN1 = frozenset(c for c in VIETNAMESE_LETTERS if 0x7F < ord(c) <= 0xFF)
#: Characters that legacy text uses and Unicode Vietnamese never does.
_SUSPECT = frozenset(
    c for c in (set(_TCVN3_DECODE) | {ch for k in _VNI_DECODE for ch in k})
    if ord(c) > 0x7F and c not in _VIET_LATIN1
)

#: One of the ``_SUSPECT`` characters (a character class scans text faster than a set).
_SUSPECT_CHAR = re.compile("[" + re.escape("".join(sorted(_SUSPECT))) + "]")
#: A Latin-1 letter right after a or e: VNI writes "eá" for ế, Unicode never has such a pair.
_VNI_PAIR = re.compile("[aeAE][\u00c0-\u00ff]")
_SPLIT = re.compile(r"[\s0-9!-/:-@\[-`{-~]+")
_ONSETS = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
_NUCLEI_TEXT = (
    "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iu oi ôi ơi ui ưi ưu ua ưa iê yê uô ươ"
    " oa oă oe oo uâ uê uy uơ iêu yêu uôi ươi ươu oai oay oao oeo uây uya uyê uyu"
)
_NUCLEI = sorted(_NUCLEI_TEXT.split(), key=len, reverse=True)
_SYLLABLE = re.compile(
    rf"^(?:{_ONSETS})?(?:{'|'.join(_NUCLEI)})(?:ch|ng|nh|c|m|n|p|t)?$"
)
_TONE_SET = frozenset(_TONE_MARKS[1:])


def is_vietnamese_syllable(word: str) -> bool:
    """Return True when ``word`` is spelled like one Vietnamese syllable (at most one tone).

    Examples
    --------
    >>> is_vietnamese_syllable("người"), is_vietnamese_syllable("Straße")
    (True, False)
    """
    nfd = unicodedata.normalize("NFD", word.lower())
    if sum(ch in _TONE_SET for ch in nfd) > 1:
        return False
    toneless = unicodedata.normalize("NFC", "".join(ch for ch in nfd if ch not in _TONE_SET))
    return bool(_SYLLABLE.match(toneless))


def _decode(text: str, table: dict[str, str]) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        two = text[i:i + 2]
        if len(two) == 2 and two in table:
            out.append(table[two])
            i += 2
            continue
        out.append(table.get(text[i], text[i]))
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


def to_unicode(text: str, encoding: str) -> str:
    """Convert ``text`` typed in a legacy ``encoding`` (``"tcvn3"`` or ``"vni"``) to Unicode NFC.

    Examples
    --------
    >>> to_unicode("KÕt qu¶ rµ so¸t", "tcvn3")
    'Kết quả rà soát'
    >>> to_unicode("Xoùm Caïm Phöôùc", "vni")
    'Xóm Cạm Phước'
    """
    if encoding == TCVN3:
        return _decode(text, _TCVN3_DECODE)
    if encoding == VNI:
        return _decode(text, _VNI_DECODE)
    raise ValueError(f"unknown legacy encoding {encoding!r}; expected one of {ENCODINGS}")


def from_unicode(text: str, encoding: str) -> str:
    """Encode Unicode ``text`` as it would have been typed with a legacy ``encoding``.

    TCVN3 has no capitals with a tone; they are written with the lower-case codes (as in a
    ``.VnTimeH`` font), so they do not come back as capitals.

    Examples
    --------
    >>> from_unicode("Chưa đạt", "tcvn3")
    'Ch\\xada ®¹t'
    >>> from_unicode("Việt Nam", "vni")
    'Vieät Nam'
    """
    if encoding == TCVN3:
        table = _TCVN3_ENCODE
    elif encoding == VNI:
        table = _VNI_ENCODE
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}; expected one of {ENCODINGS}")
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def detect_legacy(text: str) -> str | None:
    """Guess whether ``text`` is typed in TCVN3 or VNI; None for Unicode, English or unsure.

    The guess is made on words that contain characters Unicode Vietnamese never uses: each
    candidate encoding converts them, and it wins when at least half of them become real
    Vietnamese syllables. Text holding any Unicode-only Vietnamese letter (ă, đ, ơ, ư, ạ, ...)
    is Unicode. Short texts can be undecidable (``"Cã"`` is "Có" in TCVN3 but looks like a
    name); pass many cells joined together for a surer guess.

    Examples
    --------
    >>> detect_legacy("KÕt qu¶ thùc hiÖn"), detect_legacy("Vieät Nam"), detect_legacy("Kết quả")
    ('tcvn3', 'vni', None)
    """
    if not text or text.isascii():
        return None
    if not _VIET_BEYOND_LATIN1.isdisjoint(text):
        return None
    words = [w for w in _SPLIT.split(text)
             if (any(ch in _SUSPECT for ch in w) or _VNI_PAIR.search(w))
             and any(ch.isascii() and ch.isalpha() for ch in w)]
    if not words:
        return None
    best: tuple[int, int, str] | None = None
    for encoding in ENCODINGS:
        converted = [to_unicode(w, encoding) for w in words]
        valid = sum(is_vietnamese_syllable(w) for w in converted)
        leftover = sum(ch in _SUSPECT for w in converted for ch in w)
        if valid == 0 or 2 * valid < len(words):
            continue
        score = (valid, -leftover, encoding)
        if best is None or score[:2] > best[:2]:
            best = score
    return best[2] if best else None


def encoding_of_font(font_name: str | None) -> str | None:
    """Return the legacy encoding a font name implies (``.VnTime`` → tcvn3, ``VNI-Times`` → vni).

    Examples
    --------
    >>> encoding_of_font(".VnTimeH"), encoding_of_font("VNI-Times"), encoding_of_font("Arial")
    ('tcvn3', 'vni', None)
    """
    if not font_name:
        return None
    name = font_name.strip().lower()
    if name.startswith(".vn") or name.startswith("vn") and not name.startswith("vni"):
        return TCVN3
    if name.startswith("vni"):
        return VNI
    return None


def fix_text(text: str, *, font_name: str | None = None) -> tuple[str, str | None]:
    """Return ``(unicode_text, encoding)`` for one cell; ``encoding`` is None when unchanged.

    A legacy font name (``.VnTime``, ``VNI-Times``) settles the encoding when the text has
    non-ASCII characters; otherwise :func:`detect_legacy` decides. Text in a capitals-only
    TCVN3 font (``.VnTimeH``) comes back in capitals.

    Examples
    --------
    >>> fix_text("Ch\\xada ®¹t")
    ('Chưa đạt', 'tcvn3')
    >>> fix_text("b¸o c¸o", font_name=".VnTimeH")
    ('BÁO CÁO', 'tcvn3')
    >>> fix_text("Đạt")
    ('Đạt', None)
    """
    if text.isascii():
        return text, None
    by_font = encoding_of_font(font_name)
    if by_font is not None and _VIET_BEYOND_LATIN1.isdisjoint(text):
        encoding: str | None = by_font
    else:
        encoding = detect_legacy(text)
    if encoding is None:
        return text, None
    converted = to_unicode(text, encoding)
    if encoding == TCVN3 and font_name and font_name.strip().lower().rstrip().endswith("h"):
        converted = converted.upper()
    if converted == text:
        return text, None
    return converted, encoding


def scan_workbook(path: str | os.PathLike[str], *, label: str | None = None) -> pd.DataFrame:
    """List every text cell of a workbook that looks legacy-encoded, as warning issues.

    Each issue names the sheet, row and cell, the encoding and the text read as Unicode, so a
    report can show it and a person can check the conversion.

    Parameters
    ----------
    path
        An .xlsx/.xlsm workbook (check it first with ``sniff.check_workbook_file``).
    label
        File name used in the issues (default: the file's name).

    Returns
    -------
    pandas.DataFrame
        Issues in the ``Iss`` schema (``column`` holds the cell, e.g. ``"B7"``), sorted by
        sheet order, row and column.
    """
    import openpyxl

    from ntm_analysis.safety import assert_defused

    assert_defused()
    name = label or Path(path).name
    records: list[dict[str, object]] = []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if not isinstance(value, str) or value.isascii():
                        continue
                    font = getattr(cell, "font", None)
                    converted, encoding = fix_text(value, font_name=getattr(font, "name", None))
                    if encoding is None:
                        continue
                    records.append({
                        Iss.source_file: name,
                        Iss.source_sheet: ws.title,
                        Iss.source_row: cell.row,
                        Iss.column: cell.coordinate,
                        Iss.value: value,
                        Iss.problem: (f"text typed in the legacy {ENCODING_NAMES[encoding]}"
                                      f" encoding; read as '{converted}'"),
                        Iss.severity: "warning",
                        Iss.code: CODE,
                    })
    finally:
        wb.close()
    return _issues_frame(records)


def _issues_frame(records: Iterable[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(records), columns=Iss.columns())
    return frame.astype(dict(Iss.dtypes)).reset_index(drop=True)


# ------------------------------------------------------------------------ whole sheets


@dataclass
class GridFix:
    """What :func:`fix_grid` did to one sheet's cells.

    ``rows`` is a new grid (the input is not modified); ``converted`` maps each encoding to the
    0-based ``(row, column)`` cells converted from it; ``unsure`` lists cells that hold
    characters Unicode Vietnamese never uses but could not be read in either legacy encoding
    (kept as written).
    """

    rows: list[list[Any]]
    converted: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    unsure: list[tuple[int, int]] = field(default_factory=list)


_DETECTED: dict[str, str | None] = {}
_DETECTED_MAX = 100_000


def _detect_memo(text: str) -> str | None:
    """``detect_legacy(text)``, remembered: the same cell texts recur on every sheet."""
    try:
        return _DETECTED[text]
    except KeyError:
        if len(_DETECTED) >= _DETECTED_MAX:
            _DETECTED.clear()
        guess = _DETECTED[text] = detect_legacy(text)
        return guess


def _words_valid(text: str) -> bool:
    words = [w for w in _SPLIT.split(text) if w and not w.isascii()]
    return bool(words) and all(is_vietnamese_syllable(w) for w in words)


def fix_grid(rows: list[list[Any]], *, font_encoding: str | None = None) -> GridFix:
    """Convert the legacy-encoded text cells of one sheet grid to Unicode.

    Each text cell is first judged alone (:func:`detect_legacy`). The sheet's encoding is then
    the one most cells were found in, else the guess on all its candidate cells together, else
    ``font_encoding`` (a legacy font the workbook declares, see :func:`workbook_font_encoding`)
    when no cell of the sheet is plainly Unicode and converting loses no Vietnamese word. Cells
    too short to judge alone ("Cã" for "Có") are converted with the sheet's encoding when every
    word they hold becomes a Vietnamese syllable. Cells holding Unicode-only Vietnamese letters
    are never touched.

    Examples
    --------
    >>> fix = fix_grid([["TT", "Tªn chØ tiªu", "KÕt qu¶"], ["1", "Cã", 5]])
    >>> fix.rows
    [['TT', 'Tên chỉ tiêu', 'Kết quả'], ['1', 'Có', 5]]
    >>> fix.converted, fix.unsure
    ({'tcvn3': [(0, 1), (0, 2), (1, 1)]}, [])
    >>> fix_grid([["Kết quả", "Có"]]).converted
    {}
    """
    if _plainly_unicode(rows, font_encoding):
        return GridFix(rows)  # the common case, decided without visiting cells one by one
    return _fix_cells(rows, font_encoding)


def _fix_cells(rows: list[list[Any]], font_encoding: str | None) -> GridFix:
    """``fix_grid`` judging every cell (what the sheet-wide test stands in for)."""
    candidates: list[tuple[int, int, str]] = []
    # a candidate is a text cell with non-ASCII characters none of which is a Vietnamese letter
    # beyond Latin-1; set.isdisjoint walks the text in C, and this visits every cell
    plain = _VIET_BEYOND_LATIN1.isdisjoint
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str) and not value.isascii() and plain(value):
                candidates.append((r, c, value))
    if not candidates:
        return GridFix(rows)
    guesses = [_detect_memo(text) for *_, text in candidates]
    tally = Counter(guesses)
    counts = {enc: tally.get(enc, 0) for enc in ENCODINGS}
    sheet: str | None = max(ENCODINGS, key=lambda e: counts[e]) if any(counts.values()) else None
    if sheet is None:
        sheet = detect_legacy(" ".join(text for *_, text in candidates))
    if sheet is None and font_encoding in ENCODINGS and not any(
            isinstance(v, str) and not _VIET_BEYOND_LATIN1.isdisjoint(v)
            for row in rows for v in row):
        before = sum(_words_valid(t) for *_, t in candidates)
        after = sum(_words_valid(to_unicode(t, font_encoding)) for *_, t in candidates)
        sheet = font_encoding if after and after >= before else None
    if sheet is None and not any(counts.values()):
        # nothing to convert (the common case: Unicode text with Latin-1 letters, "Có"): only
        # cells with characters Unicode Vietnamese never uses are reported; no copy of the grid
        return GridFix(rows, unsure=[(r, c) for r, c, text in candidates
                                     if not _SUSPECT.isdisjoint(text)])
    out = [list(row) for row in rows]
    fix = GridFix(out)
    for (r, c, text), encoding in zip(candidates, guesses, strict=True):
        if encoding is None and sheet is not None:
            trial = to_unicode(text, sheet)
            encoding = sheet if trial != text and _words_valid(trial) else None
        if encoding is not None:
            converted = to_unicode(text, encoding)
            if encoding == TCVN3:
                converted = _restore_capitals(converted)
            if converted != text:
                out[r][c] = converted
                fix.converted.setdefault(encoding, []).append((r, c))
                continue
        if not _SUSPECT.isdisjoint(text):
            fix.unsure.append((r, c))
    return fix


def _plainly_unicode(rows: list[list[Any]], font_encoding: str | None) -> bool:
    """True when no cell of the sheet can be legacy text: ``fix_grid`` would change nothing.

    The candidate texts are those non-ASCII with no Vietnamese letter beyond Latin-1: with
    none there is nothing to convert; without a legacy font, candidates with no character that
    only legacy text uses and no VNI pair ("eá") give no word to convert in any cell, nor in
    the cells taken together, so ``fix_grid`` would find nothing (and no unsure cell) either.
    The sheet's distinct values are gathered in C and each distinct text is judged once per
    process (``text_flag``): the same texts recur on every sheet.

    Examples
    --------
    >>> _plainly_unicode([["Kết quả", "Có", 5]], None), _plainly_unicode([["TT", 1.0]], "tcvn3")
    (True, True)
    >>> _plainly_unicode([["KÕt qu¶"]], None), _plainly_unicode([["Có"]], "tcvn3")
    (False, False)
    """
    try:  # the sheet's distinct values (in C: a sheet repeats its texts and empty cells)
        distinct = set(chain.from_iterable(rows))
    except TypeError:  # an unhashable cell: judge every text here, remembering none
        return _plainly_unicode_uncached(list(chain.from_iterable(rows)), font_encoding)
    # each distinct text judged once per process: the same texts recur on every sheet
    flags = set(map(_TEXT_FLAGS.get, distinct))
    if None in flags:  # texts not judged yet, or other values (numbers, dates: never text)
        flags.discard(None)
        if len(_TEXT_FLAGS) >= _TEXT_FLAGS_MAX:
            _TEXT_FLAGS.clear()
        for v in distinct.difference(_TEXT_FLAGS):
            if isinstance(v, str):
                flag = _TEXT_FLAGS[v] = text_flag(v)
                flags.add(flag)
    return plainly_unicode_by_flags({f for f in flags if f is not None}, font_encoding)


def _plainly_unicode_uncached(cells: list[Any], font_encoding: str | None) -> bool:
    return plainly_unicode_by_flags({text_flag(v) for v in cells if isinstance(v, str)},
                                    font_encoding)


def plainly_unicode_by_flags(flags: Iterable[int], font_encoding: str | None) -> bool:
    """``_plainly_unicode`` of a sheet from the ``text_flag`` of each of its distinct texts.

    For a caller that has judged the sheet's texts already (the loader judges each distinct
    cell value once per process for several purposes): True when ``fix_grid`` would change
    nothing and report nothing.

    Examples
    --------
    >>> plainly_unicode_by_flags({text_flag("Kết quả"), text_flag("Có")}, None)
    True
    >>> plainly_unicode_by_flags({text_flag("Có")}, "tcvn3")
    False
    """
    if font_encoding in ENCODINGS:
        # a legacy font may convert Latin-1 text the detection leaves alone
        return not set(flags) - {_NOT_CANDIDATE}
    return _TROUBLING not in set(flags)


#: What ``text_flag`` says of a text: not a candidate; a candidate; a candidate holding a
#: character only legacy text uses or a VNI pair (what ``_plainly_unicode`` looks for).
_NOT_CANDIDATE, _CANDIDATE, _TROUBLING = 0, 1, 2
_TEXT_FLAGS: dict[str, int] = {}
_TEXT_FLAGS_MAX = 1 << 17


def text_flag(text: str) -> int:
    """Judge one text for ``_plainly_unicode``: 0 no candidate, 1 a candidate, 2 troubling.

    Judging each text alone is judging the candidates joined by "\\x00": they hold a
    character or a pair exactly when one candidate does (no pair spans the separator).
    """
    if text.isascii() or not _VIET_BEYOND_LATIN1.isdisjoint(text):
        return _NOT_CANDIDATE
    if _SUSPECT_CHAR.search(text) is None and _VNI_PAIR.search(text) is None:
        return _CANDIDATE
    return _TROUBLING


_WORD = re.compile(r"\w+")


def _restore_capitals(text: str) -> str:
    """Write words typed in capitals wholly in capitals ("PHƯợNG" → "PHƯỢNG").

    TCVN3 has no codes for capitals with a tone; titles typed in a ``.VnTimeH`` font use the
    lower-case codes. A word with at least two ASCII capitals and no ASCII lower-case letter
    was typed in capitals.
    """
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        ascii_letters = [ch for ch in word if ch.isascii() and ch.isalpha()]
        if sum(ch.isupper() for ch in ascii_letters) >= 2 and not any(
                ch.islower() for ch in ascii_letters):
            return word.upper()
        return word

    return _WORD.sub(fix, text)


_FONT_NAME = re.compile(rb"<(?:\w+:)?name\s+val=\"([^\"]{1,64})\"")
#: Largest styles part read for font names (bytes).
MAX_STYLES_BYTES = 8 * 1024 * 1024


def workbook_font_encoding(path: str | os.PathLike[str], *,
                           parts: Mapping[str, bytes] | None = None) -> str | None:
    """Return the legacy encoding implied by the fonts an .xlsx declares, if exactly one is.

    The styles part is read as bytes and searched with a regular expression (no XML parser, so
    nothing in it is expanded); any failure means "no hint". ``parts`` holds decompressed parts
    already read (see ``sniff.check_workbook_file``); the zip is opened only when the styles
    part is not among them.
    """
    import zipfile

    data = parts.get("xl/styles.xml") if parts is not None else None
    if data is not None:
        return None if len(data) > MAX_STYLES_BYTES else _font_encoding(data)
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("xl/styles.xml")
            if info.file_size > MAX_STYLES_BYTES:
                return None
            data = zf.read(info)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError) as error:
        log.debug("no font names read from %s: %s", path, error)
        return None
    return _font_encoding(data)


def _font_encoding(data: bytes) -> str | None:
    encodings = {encoding_of_font(m.decode("utf-8", "replace"))
                 for m in _FONT_NAME.findall(data)} - {None}
    return encodings.pop() if len(encodings) == 1 else None


def cell_ranges(cells: Iterable[tuple[int, int]]) -> list[str]:
    """Name 0-based cells as Excel references, joining runs along a row into ranges.

    Examples
    --------
    >>> cell_ranges([(0, 0), (0, 1), (0, 2), (3, 1), (4, 1)])
    ['A1:C1', 'B4', 'B5']
    """
    from ntm_analysis.sheetxml import column_letters

    out: list[str] = []
    ordered = sorted(set(cells))
    i = 0
    while i < len(ordered):
        r, c = ordered[i]
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == (r, ordered[j][1] + 1):
            j += 1
        start = f"{column_letters(c + 1)}{r + 1}"
        end = f"{column_letters(ordered[j][1] + 1)}{r + 1}"
        out.append(start if j == i else f"{start}:{end}")
        i = j + 1
    return out
