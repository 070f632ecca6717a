"""Check that a file is a workbook we can safely read, before any reader touches it.

``check_workbook_file`` looks at a file's first bytes and, for zip-based workbooks, at the zip's
central directory; it reads a whole zip into memory only when it is small
(``DIRECT_READ_BYTES``), and then reads the directory from those bytes itself when its layout
is plain (zipfile otherwise). It returns the real format
(``"xlsx"``, ``"xlsm"``, ``"xls"`` or ``"ods"``, whatever the file's extension says) or raises
:class:`~ntm_analysis.errors.InputError` with a message that says what the file looks like
instead: a PDF, a CSV, an HTML page, random bytes, a password-protected workbook, a zip bomb, a
workbook carrying XML entity declarations (billion laughs, external entities).
"""

from __future__ import annotations

import codecs
import errno
import io
import logging
import os
import stat
import struct
import zipfile
from pathlib import Path
from typing import NamedTuple

from ntm_analysis.errors import InputError, Location
from ntm_analysis.fastzlib import ZLIB_ERROR as _ZLIB_ERROR
from ntm_analysis.fastzlib import zlib  # zlib-ng's inflate and CRC-32, about 1.8x zlib's

log = logging.getLogger(__name__)

#: Formats ``check_workbook_file`` can return.
FORMATS = ("xlsx", "xlsm", "xls", "ods")

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
#: Members smaller than this are never judged by their compression ratio alone.
RATIO_MIN_MEMBER = 1_000_000
#: Bytes read from the head of the file to recognise text formats.
HEAD_BYTES = 4096
#: Chunk size for streamed reads.
CHUNK = 1 << 16

PASSWORD_PROBLEM = "the workbook is password-protected; remove the password in Excel and save again"
ENTITY_PROBLEM = (
    "the workbook contains XML entity declarations (possible XML attack); refusing to read it"
)

#: Magic numbers of common non-workbook files and what to call them.
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)


#: The errors for which ``Path.exists()`` answers False (pathlib's ``_IGNORED_ERRNOS``).
_NOT_FOUND_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def _fail(label: str, problem: str, code: str = "not_a_workbook") -> InputError:
    return InputError(Location(file=label), problem, code=code)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"


def check_workbook_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = 50_000_000,
    max_uncompressed: int = 500_000_000,
    max_ratio: float = 200,
    parts: dict[str, bytes] | None = None,
    unpacked: list[bytes] | None = None,
) -> str:
    """Return the real format of the workbook at ``path`` or raise a located ``InputError``.

    Parameters
    ----------
    path
        The file to check.
    max_bytes
        Largest file size accepted, in bytes.
    max_uncompressed
        Largest total of the uncompressed sizes of a zip workbook's members (from the zip's
        directory, checked before anything is decompressed).
    max_ratio
        Largest compression ratio accepted for a member of more than 1 MB uncompressed.
    parts
        When given, the XML parts of a zip workbook that later readers use (the workbook, its
        relationships, the styles and the sheets: see ``KEPT_PARTS``) and that the entity scan
        read whole (each as its directory promised, CRC-32 checked, at most
        ``KEEP_PART_BYTES`` in all) are stored here by name, so that those readers need not
        decompress them again.
    unpacked
        When given, and the file is a zip read whole whose directory has the plain layout
        (``_read_directory``), a copy of the package is appended: the same members in the same
        order, each XML part the check inflated (exactly its promised size and CRC-32) stored
        uncompressed, the others (damaged parts too) as they are (see ``_stored_copy``). A
        reader opens the copy without inflating those parts again, and reads exactly what it
        would read from the file.

    Returns
    -------
    str
        ``"xlsx"``, ``"xlsm"``, ``"xls"`` or ``"ods"``.

    Raises
    ------
    InputError
        Naming the file and saying what it is instead of a readable workbook.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "report.xlsx"
    >>> _ = p.write_bytes(b"%PDF-1.7 ...")
    >>> check_workbook_file(p)
    Traceback (most recent call last):
    ...
    ntm_analysis.errors.InputError: report.xlsx: this is a PDF document, not an Excel workbook
    """
    p = Path(path)
    label = p.name or str(p)
    try:
        st = os.stat(p)
    except ValueError:  # e.g. a NUL in the name
        st = None
    except OSError as error:
        if error.errno not in _NOT_FOUND_ERRNOS:
            raise
        st = None
    if st is None:  # what Path.exists() calls missing
        raise _fail(label, f"file not found (looked for '{p}')", "unreadable")
    if stat.S_ISDIR(st.st_mode):
        raise _fail(label, "this is a folder, not a workbook file")
    size = st.st_size
    if size == 0:
        raise _fail(label, "the file is empty (0 bytes); expected an Excel workbook", "file_empty")
    if size > max_bytes:
        raise _fail(label, f"the file is {_mb(size)}, larger than the limit of {_mb(max_bytes)};"
                           " refusing to read it", "file_refused")
    whole = None
    with p.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        if head.startswith(ZIP_MAGICS) and size <= DIRECT_READ_BYTES:
            # a small zip is read once, whole: its directory and parts all come from these
            # bytes (zipfile's per-part file objects cost more than the decompression)
            whole = head + fh.read()
    if head.startswith(ZIP_MAGICS):
        fmt = _check_zip(p, label, max_uncompressed=max_uncompressed, max_ratio=max_ratio,
                         whole=whole, parts=parts, unpacked=unpacked)
    elif head.startswith(OLE2_MAGIC):
        fmt = _check_ole2(p, label)
    else:
        raise _fail(label, _describe_other(head))
    log.debug("%s: format %s", label, fmt)
    return fmt


# --------------------------------------------------------------------------------------- zip
class _Entry(NamedTuple):
    """What the check reads of a zip member's directory record (named as in ``ZipInfo``)."""

    filename: str
    raw_name: bytes  # the name's bytes, as the member's local header must repeat them
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int
    position: int  # in the directory (and in zipfile's ``infolist()``)


def _entry(info: zipfile.ZipInfo, index: int) -> _Entry:
    try:
        raw = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    except UnicodeEncodeError:
        raw = b""  # never equal to a local header's name: such a part is streamed by zipfile
    return _Entry(info.filename, raw, info.flag_bits, info.compress_type, info.CRC,
                  info.compress_size, info.file_size, info.header_offset, index)


_END = struct.Struct("<4s4H2LH")  # zipfile's structEndArchive
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir
#: Largest "version needed to extract" zipfile accepts (its MAX_EXTRACT_VERSION).
_MAX_EXTRACT_VERSION = 63


def _read_directory(whole: bytes) -> list[_Entry] | None:
    """The zip's central directory as zipfile would read it, or None to let zipfile read it.

    Only the plain layout is read here: the end record last in the file (no archive comment), no
    Zip64 records or values, nothing before the first member, no NUL or backslash in a name,
    every directory record where the previous one ends and the last one ending at the end
    record, extra fields that zipfile would not call corrupt. Anything else is zipfile's (with
    its own errors).
    """
    end = len(whole) - _END.size
    if end < 0 or whole[end:end + 4] != b"PK\x05\x06" or whole[-2:] != b"\0\0":
        return None
    if end >= 20 and whole[end - 20:end - 16] == b"PK\x06\x07":
        return None  # a Zip64 end record locator
    _, _, _, _, _, size_cd, offset_cd, _ = _END.unpack_from(whole, end)
    if offset_cd + size_cd != end:
        return None  # data before the zip ("concat") or a directory that does not fit
    entries: list[_Entry] = []
    unpack = _CENTRAL.unpack_from
    head = _CENTRAL.size
    pos = offset_cd
    while pos < end:
        if pos + head > end:
            return None
        rec = unpack(whole, pos)
        if rec[0] != b"PK\x01\x02" or rec[3] > _MAX_EXTRACT_VERSION:
            return None
        flags, method, crc, csize, size = rec[5], rec[6], rec[9], rec[10], rec[11]
        name_len, extra_len, comment_len, offset = rec[12], rec[13], rec[14], rec[18]
        if 0xFFFFFFFF in (csize, size, offset):
            return None  # Zip64 values in an extra field
        start = pos + head
        raw = whole[start:start + name_len]
        if b"\0" in raw or b"\\" in raw:
            return None  # names zipfile cuts (at a NUL) or rewrites (a backslash on Windows)
        if extra_len and not _plain_extra(whole[start + name_len:start + name_len + extra_len]):
            return None
        pos = start + name_len + extra_len + comment_len
        if pos > end:
            return None
        if raw.isascii():
            name = raw.decode("ascii")
        else:
            try:
                name = raw.decode("utf-8" if flags & 0x800 else "cp437")
            except UnicodeDecodeError:
                return None
        entries.append(_Entry(name, raw, flags, method, crc, csize, size, offset, len(entries)))
    return entries


def _plain_extra(extra: bytes) -> bool:
    """True when zipfile reads ``extra`` without complaint (its ``_decodeExtra``'s test)."""
    pos = 0
    while len(extra) - pos >= 4:
        length = int.from_bytes(extra[pos + 2:pos + 4], "little")
        if pos + 4 + length > len(extra):
            return False
        pos += 4 + length
    return True


def _damaged(label: str) -> InputError:
    return _fail(label, "the file starts like a zip-based workbook but is damaged or truncated;"
                        " save it again from Excel", "file_damaged")


class _Zip:
    """The ``zipfile.ZipFile`` of a package, opened only when a part needs it."""

    def __init__(self, p: Path, label: str, whole: bytes | None,
                 zf: zipfile.ZipFile | None = None) -> None:
        self._source: Path | io.BytesIO = p if whole is None else io.BytesIO(whole)
        self._label = label
        self._zf = zf

    def get(self) -> zipfile.ZipFile:
        if self._zf is None:
            try:
                self._zf = zipfile.ZipFile(self._source)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                raise _damaged(self._label) from None
        return self._zf

    def close(self) -> None:
        if self._zf is not None:
            self._zf.close()


def _check_zip(p: Path, label: str, *, max_uncompressed: int, max_ratio: float,
               whole: bytes | None, parts: dict[str, bytes] | None = None,
               unpacked: list[bytes] | None = None) -> str:
    entries = _read_directory(whole) if whole is not None else None
    package = _Zip(p, label, whole)
    # the parts the scan inflates, by position, for the uncompressed copy (plain layout only)
    inflated: list[bytes | None] | None = (
        [None] * len(entries) if unpacked is not None and entries is not None else None)
    if entries is None:
        entries = [_entry(info, n) for n, info in enumerate(package.get().infolist())]
    try:
        names = {e.filename for e in entries}
        total = sum(e.file_size for e in entries)
        if total > max_uncompressed:
            raise _fail(label, f"the workbook would unpack to {_mb(total)}, more than the limit of"
                               f" {_mb(max_uncompressed)} (possible zip bomb); refusing to read it",
                        "file_refused")
        for e in entries:
            if e.file_size > RATIO_MIN_MEMBER:
                ratio = e.file_size / max(e.compress_size, 1)
                if ratio > max_ratio:
                    raise _fail(label, f"part '{e.filename}' is compressed {ratio:,.0f} to 1,"
                                       f" more than the limit of {max_ratio:,.0f} to 1 (possible"
                                       " zip bomb); refusing to read it", "file_refused")
        if any(e.flag_bits & 0x1 for e in entries):
            raise _fail(label, PASSWORD_PROBLEM, "file_password")
        fmt = _zip_kind(package, names, label)
        _scan_xml_parts(package, entries, label, parts, whole, inflated)
    finally:
        package.close()
    if inflated is not None and whole is not None and unpacked is not None:
        copy = _stored_copy(whole, entries, inflated)
        if copy is not None:
            unpacked.append(copy)
    return fmt


def _zip_kind(package: _Zip, names: set[str], label: str) -> str:
    if "mimetype" in names:
        mime = package.get().read("mimetype")[:200].strip()
        if mime == ODS_MIMETYPE:
            return "ods"
        kind = mime.decode("ascii", "replace")
        raise _fail(label, f"this is an OpenDocument file of type '{kind}', not a spreadsheet")
    if "[Content_Types].xml" not in names:
        raise _fail(label, "this is a zip archive, not an Excel workbook (it has no"
                           " [Content_Types].xml)")
    if "word/document.xml" in names:
        raise _fail(label, "this is a Word document (.docx), not an Excel workbook")
    if "ppt/presentation.xml" in names:
        raise _fail(label, "this is a PowerPoint presentation (.pptx), not an Excel workbook")
    if "xl/workbook.bin" in names:
        raise _fail(label, "this is a binary Excel workbook (.xlsb), which cannot be read;"
                           " save it as .xlsx in Excel", "file_xlsb")
    if "xl/workbook.xml" not in names:
        raise _fail(label, "this is an Office zip package without a workbook part"
                           " (xl/workbook.xml); expected an Excel workbook")
    return "xlsm" if "xl/vbaProject.bin" in names else "xlsx"


#: Most bytes of decompressed parts ``check_workbook_file`` keeps for later readers.
KEEP_PART_BYTES = 64 * 1024 * 1024


#: Files up to this size are read whole: directory and parts come from those bytes.
DIRECT_READ_BYTES = 8 * 1024 * 1024
#: Largest part inflated whole from memory; larger parts are streamed.
DIRECT_PART_BYTES = 16 * 1024 * 1024


#: The parts later readers take from ``parts``: the workbook and its relationships (sheet
#: names and parts for ``sheetxml.scan_sheets``), the styles (``legacy.workbook_font_encoding``),
#: and the sheets (``_KEPT_FOLDERS``). The other XML parts are scanned, not kept.
KEPT_PARTS = frozenset({"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"})
#: Where the parts of the workbook's sheets are (every kind a ``<sheet>`` element can name).
_KEPT_FOLDERS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def _kept(name: str) -> bool:
    """True for a part later readers take from ``parts`` (see ``KEPT_PARTS``)."""
    return name in KEPT_PARTS or (name.startswith(_KEPT_FOLDERS) and name.endswith(".xml")
                                  and "/_rels/" not in name)


def _scan_xml_parts(package: _Zip, infos: list[_Entry], label: str,
                    parts: dict[str, bytes] | None = None, whole: bytes | None = None,
                    inflated: list[bytes | None] | None = None) -> None:
    """Refuse a package whose XML parts declare a DOCTYPE or entities (streamed, bounded).

    With ``parts``, each part later readers need (``KEPT_PARTS``, sheets) that was read
    whole (exactly its promised size and CRC-32) is kept there, within ``KEEP_PART_BYTES`` in
    all. With ``whole`` (the file's bytes), parts are inflated from it directly where that gives
    exactly what zipfile would read; others are streamed.

    Both declarations contain "!", so a part without a byte 0x21 declares nothing, in UTF-8 as
    in UTF-16 or UTF-32 (where "!" is 21 00, 00 21...): one ``memchr`` decides most parts. A
    part that is neither kept nor holds a "!" needs no CRC check either: zipfile would give the
    same bytes or refuse them, and in both cases nothing is declared.

    With ``inflated`` (one slot per member), each part inflated from ``whole`` (exactly its
    promised size and CRC-32: then every part is CRC-checked) is put in its member's slot,
    within ``UNPACKED_BYTES`` in all.
    """
    room = KEEP_PART_BYTES if parts is not None else 0
    unpacked_room = UNPACKED_BYTES
    for info in infos:
        filename = info.filename
        if not filename.lower().endswith(_XML_SUFFIXES):  # (so not a folder, "name/")
            continue
        keep = parts is not None and info.file_size <= room and _kept(filename)
        data = _inflate_unchecked(whole, info) if whole is not None else None
        if data is not None:
            suspect = b"!" in data
            # (a part handed on, in ``parts`` or the copy, is CRC-checked: never damaged)
            if (keep or suspect or inflated is not None) and zlib.crc32(data) != info.CRC:
                data = None  # damaged: zipfile reads it below and says so, as before
            elif suspect and _declares_entities(data):
                raise _fail(label, f"{ENTITY_PROBLEM} (part '{filename}')", "file_refused")
            if data is not None and inflated is not None and len(data) <= unpacked_room:
                inflated[info.position] = data
                unpacked_room -= len(data)
        if data is None:
            chunks: list[bytes] | None = [] if keep else None
            zf = package.get()
            if _part_declares_entities(zf, zf.infolist()[info.position], chunks):
                raise _fail(label, f"{ENTITY_PROBLEM} (part '{filename}')", "file_refused")
            data = b"".join(chunks) if chunks else b""
        if parts is None:
            continue
        if keep and data and len(data) == info.file_size:  # read to its end, CRC checked
            parts[filename] = data
            room -= len(data)
        else:
            # not kept (not needed, too large, empty, damaged): a reader goes to the zip, and an
            # earlier member of the same name must not stand in for this one (zipfile reads the
            # last)
            parts.pop(filename, None)


_NEEDLES = ("<!doctype", "<!entity")
_BYTE_NEEDLES = tuple(n.encode("ascii") for n in _NEEDLES)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader


def _member_span(whole: bytes, info: _Entry) -> tuple[int, int, tuple[int, ...]] | None:
    """Where a member's stored bytes are in the file's bytes: (start, end, local header
    fields), or None when its local header is not the plain one (naming the same member, its
    data inside the file)."""
    start = info.header_offset
    if start < 0:
        return None
    try:
        fields = _LOCAL_HEADER.unpack_from(whole, start)
    except struct.error:
        return None
    if fields[0] != b"PK\x03\x04":
        return None
    name_len, extra_len = fields[10], fields[11]
    begin = start + _LOCAL_HEADER.size
    if name_len != len(info.raw_name) or not whole.startswith(info.raw_name, begin):
        return None  # zipfile compares the names decoded alike: equal exactly when the bytes are
    begin += name_len + extra_len
    end = begin + info.compress_size
    if end > len(whole):
        return None
    return begin, end, fields


def _inflate_unchecked(whole: bytes, info: _Entry) -> bytes | None:
    """Return a part's bytes inflated from the file's bytes (exactly the promised size; its
    CRC-32 is the caller's to check), or None to let zipfile read it.

    Only the plain case is handled (stored or deflated, the local header naming the same
    member, exactly the promised size); anything else returns None and the part is streamed
    through zipfile, with its own checks and messages.
    """
    size = info.file_size
    if size > DIRECT_PART_BYTES:
        return None  # streamed in chunks instead of held whole
    span = _member_span(whole, info)
    if span is None:
        return None
    begin, end, _ = span
    if info.compress_type == zipfile.ZIP_DEFLATED:
        try:
            data = zlib.decompressobj(-15).decompress(memoryview(whole)[begin:end], size + 1)
        except _ZLIB_ERROR:
            return None
    elif info.compress_type == zipfile.ZIP_STORED:
        data = whole[begin:end]
    else:
        return None
    return data if len(data) == size else None


#: Most bytes of inflated parts an uncompressed copy of a package holds (``_stored_copy``).
UNPACKED_BYTES = 64 * 1024 * 1024
#: Flag bits a member of the uncompressed copy keeps: UTF-8 names (11); for a member copied as
#: it is, the deflate options too (1, 2). Its sizes are in its header (no data descriptor, 3).
_COPIED_FLAGS = 0x800 | 0x6


def _stored_copy(whole: bytes, entries: list[_Entry],
                 inflated: list[bytes | None]) -> bytes | None:
    """The zip package ``whole`` (of plain layout: ``_read_directory``'s ``entries``) with each
    member whose inflated bytes are in ``inflated`` stored as they are, the others copied
    compressed; None when a member is not plain enough to copy (then readers read the file).

    Each member keeps its name, its place, its date and time and its CRC-32 from the directory
    (the bytes in ``inflated`` match it: a damaged part is copied compressed, so that a reader
    finds the damage as in the file).
    """
    pack_local, pack_central = _LOCAL_HEADER.pack, _CENTRAL.pack
    out: list[bytes | memoryview] = []
    central: list[bytes] = []
    view = memoryview(whole)
    pos = 0
    for info, data in zip(entries, inflated, strict=True):
        span = _member_span(whole, info)
        if span is None or info.flag_bits & ~(_COPIED_FLAGS | 0x8):
            return None  # (encrypted, patched or other data: the file is read as it is)
        begin, end, fields = span
        time, date = fields[5], fields[6]
        name = info.raw_name
        if data is not None:
            flags, method, size = info.flag_bits & 0x800, zipfile.ZIP_STORED, len(data)
            body: bytes | memoryview = data
        elif info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            flags, method, size = info.flag_bits & _COPIED_FLAGS, info.compress_type, end - begin
            body = view[begin:end]
        else:
            return None
        out.append(pack_local(b"PK\x03\x04", 20, 0, flags, method, time, date, info.CRC,
                              size, info.file_size, len(name), 0))
        out.append(name)
        out.append(body)
        central.append(pack_central(b"PK\x01\x02", 20, 0, 20, 0, flags, method, time, date,
                                    info.CRC, size, info.file_size, len(name), 0, 0, 0, 0, 0,
                                    pos))
        central.append(name)
        pos += _LOCAL_HEADER.size + len(name) + size
    directory = b"".join(central)
    out.append(directory)
    out.append(_END.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory),
                         pos, 0))
    return b"".join(out)


def _declares_entities(data: bytes) -> bool:
    """True when a whole part declares a DOCTYPE or entity (``_part_declares_entities``'s test)."""
    decoder = _decoder_for(data)
    if decoder is None:
        return _has_markup_declaration(data) and any(n in data.lower() for n in _BYTE_NEEDLES)
    text = decoder.decode(data).lower()
    return any(n in text for n in _NEEDLES)


def _has_markup_declaration(data: bytes) -> bool:
    """``b"<!" in data``, by one numpy pass for "!" (rare in XML) and a look at the byte before
    each, instead of a substring search that stops at every "<"."""
    import numpy as np

    view = np.frombuffer(data, dtype=np.uint8)
    return bool((view[np.flatnonzero(view[1:] == 0x21)] == 0x3C).any())


#: Compression methods zipfile can inflate (bz2 and lzma may still be missing from a build: then
#: zipfile raises RuntimeError, handled as a damaged part).
_ZIPFILE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                              zipfile.ZIP_LZMA})
#: Flag bits of data zipfile refuses to read: compressed patched data (5), strong encryption (6).
_ZIPFILE_REFUSED_FLAGS = 0x20 | 0x40


def _zipfile_reads(info: zipfile.ZipInfo) -> bool:
    """True when zipfile can open the part ``info`` (its method and flags are ones it reads)."""
    return info.compress_type in _ZIPFILE_METHODS and not info.flag_bits & _ZIPFILE_REFUSED_FLAGS


def _part_declares_entities(zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                            keep: list[bytes] | None = None) -> bool:
    """True when the part declares a DOCTYPE or entity; its chunks are appended to ``keep``.

    On a read error ``keep`` is emptied (a damaged part is never handed on).
    """
    if not _zipfile_reads(info):
        # a method zipfile lacks (e.g. Deflate64) or patched/strongly encrypted data: nothing to
        # scan here; the reader says whether it can read the part
        if keep is not None:
            keep.clear()
        return False
    limit = info.file_size + 1  # never read more than the directory promised
    seen = 0
    tail = ""
    tail_bytes = b""
    decoder = None
    try:
        with zf.open(info) as fh:
            first = True
            while seen < limit:
                chunk = fh.read(min(CHUNK, limit - seen))
                if not chunk:
                    break
                seen += len(chunk)
                if keep is not None:
                    keep.append(chunk)
                if first:
                    decoder = _decoder_for(chunk)
                    first = False
                if decoder is None:
                    # single-byte view: both needles start with "<!", which most parts lack,
                    # so the case-folding copy is made only where "<!" occurs
                    raw = tail_bytes + chunk
                    if b"<!" in raw and any(n in raw.lower() for n in _BYTE_NEEDLES):
                        return True
                    tail_bytes = raw[-16:]
                    continue
                window = (tail + decoder.decode(chunk)).lower()
                if any(n in window for n in _NEEDLES):
                    return True
                tail = window[-16:]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        # A damaged part is reported by the reader with its own message; here we only look
        # for declarations.
        if keep is not None:
            keep.clear()
        return False
    return False


def _decoder_for(chunk: bytes) -> codecs.IncrementalDecoder | None:
    """UTF-16/32 XML would hide ASCII needles from a byte scan; decode those."""
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    for bom, enc in boms:
        if chunk.startswith(bom):
            return codecs.getincrementaldecoder(enc)(errors="replace")
    if chunk.startswith(b"<\x00?\x00"):
        return codecs.getincrementaldecoder("utf-16-le")(errors="replace")
    if chunk.startswith(b"\x00<\x00?"):
        return codecs.getincrementaldecoder("utf-16-be")(errors="replace")
    return None


# -------------------------------------------------------------------------------------- OLE2
def _check_ole2(p: Path, label: str) -> str:
    import olefile

    try:
        ole = olefile.OleFileIO(str(p))
    except (OSError, ValueError, struct.error, EOFError):
        raise _fail(label, "the file starts like an old Excel (.xls) or Office document but is"
                           " damaged; save it again from Excel", "file_damaged") from None
    with ole:
        streams = {"/".join(s) for s in ole.listdir(streams=True, storages=False)}
        if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
            raise _fail(label, PASSWORD_PROBLEM, "file_password")
        book = "Workbook" if "Workbook" in streams else "Book" if "Book" in streams else None
        if book is not None:
            with ole.openstream(book) as fh:
                head = fh.read(CHUNK)
            if _biff_has_filepass(head):
                raise _fail(label, PASSWORD_PROBLEM, "file_password")
            return "xls"
        if "WordDocument" in streams:
            raise _fail(label, "this is an old Word document (.doc), not an Excel workbook")
        if "PowerPoint Document" in streams:
            raise _fail(label, "this is an old PowerPoint presentation (.ppt), not an Excel"
                               " workbook")
    raise _fail(label, "this is an Office compound file that holds no workbook")


def _biff_has_filepass(data: bytes) -> bool:
    """True when the BIFF globals announce encryption (a FILEPASS record before EOF)."""
    pos = 0
    while pos + 4 <= len(data):
        rtype, rlen = struct.unpack_from("<HH", data, pos)
        if rtype == 0x002F:
            return True
        if rtype == 0x000A:  # EOF of the globals substream
            return False
        pos += 4 + rlen
    return False


# ------------------------------------------------------------------------------------- other
def _describe_other(head: bytes) -> str:
    for magic, what in _MAGICS:
        if head.startswith(magic):
            return f"this is {what}, not an Excel workbook"
    text = _as_text(head)
    if text is not None:
        low = text.lstrip("\ufeff \t\r\n").lower()
        if low.startswith(("<!doctype html", "<html", "<table", "<head", "<body", "<meta")):
            return ("this is an HTML page, not an Excel workbook (some systems export HTML with"
                    " an Excel name; open it in Excel and save it as .xlsx)")
        if low.startswith("<?xml"):
            if "urn:schemas-microsoft-com:office:spreadsheet" in low:
                return ("this is an Excel 2003 XML spreadsheet, which cannot be read; open it in"
                        " Excel and save it as .xlsx")
            return "this is an XML file, not an Excel workbook"
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if lines and any(sep in lines[0] for sep in (",", ";", "\t")):
            return ("this is a CSV text file, not an Excel workbook (open it in Excel and save it"
                    " as .xlsx)")
        return "this is a plain text file, not an Excel workbook"
    shown = " ".join(f"{b:02x}" for b in head[:8])
    return (f"the file is not an Excel workbook: its content is not a known format (it starts"
            f" with bytes {shown})")


def _as_text(head: bytes) -> str | None:
    """Decode ``head`` as text when it looks like text, else None."""
    for enc in ("utf-8-sig", "utf-16"):
        if enc == "utf-16" and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            continue
        try:
            text = head.decode(enc)
        except UnicodeDecodeError as exc:
            # the head may cut a multi-byte character in two
            if exc.start < len(head) - 4:
                continue
            text = head[: exc.start].decode(enc)
        if not text:
            return None
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if printable / len(text) > 0.95:
            return text
    return None
