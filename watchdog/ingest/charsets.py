"""Bytes to text when the declared charset is missing, unknown or wrong.

Russian shop mail arrives in utf-8, windows-1251 or koi8-r, and mailers lie:
"us-ascii" parts full of 8-bit bytes, "utf-8" parts that are really cp1251,
headers with raw 8-bit bytes and no RFC 2047 at all. Every decode in ingest
goes through :func:`decode_bytes`, which never raises and never returns
surrogates or mojibake when a cheap guess can avoid it.
"""

from __future__ import annotations

import codecs
from functools import lru_cache

# Declared names that mean "a superset of": decoding with the superset keeps
# every byte the sender's software really produced (WHATWG does the same).
_SUPERSETS: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso_8859-1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "unicode-1-1-utf-7": "utf-7",
}

# Lower-case Cyrillic letters that make up about 60 % of Russian text. The
# right one of cp1251 / koi8-r decodes a Russian string into many of them; the
# wrong one maps lower case to upper case (the two put the cases in opposite
# halves of 0xC0-0xFF) and to other letters (koi8-r orders the alphabet by
# Latin transliteration, cp1251 alphabetically).
_FREQUENT = "оеаинтсрвл"
# The bytes that decode to them: in a one-byte charset a text's score is a count of bytes,
# taken without decoding (every byte is one character, an undefined one U+FFFD).
_FREQUENT_BYTES = {codec: _FREQUENT.encode(codec) for codec in ("cp1251", "koi8-r")}


@lru_cache(maxsize=256)
def codec_name(declared: str | None) -> str | None:
    """Return the Python codec for a declared MIME charset, or None if unknown.

    Handles case, stray quotes and spaces, RFC 2231 language suffixes
    ("utf-8*ru") and the superset substitutions above.
    """
    if not declared:
        return None
    name = declared.strip().strip("\"'").split("*", 1)[0].strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def guess_cyrillic(data: bytes) -> str:
    """Decode 8-bit bytes that are not utf-8 as cp1251 or koi8-r, whichever reads as Russian."""
    if _russian_score(data, "cp1251") >= _russian_score(data, "koi8-r"):
        return data.decode("cp1251", errors="replace")
    return data.decode("koi8_r", errors="replace")


def _russian_score(data: bytes, codec: str) -> int:
    """How many of ``data``'s characters in ``codec`` (cp1251 or koi8-r) are frequent letters."""
    return len(data) - len(data.translate(None, _FREQUENT_BYTES[codec]))


def decode_undeclared(data: bytes) -> str:
    """Decode bytes whose charset nobody declared: utf-8 if valid, else a Cyrillic guess."""
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return guess_cyrillic(data)


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode ``data`` in its declared charset, falling back when that is wrong.

    Order: the declared charset (strict); then utf-8; then the cp1251/koi8-r
    guess. The guess never fails, so this never raises. A declared charset
    that decodes without error is trusted, with one exception: cp1251 and
    koi8-r are swapped when the other reads as Russian and the declared one
    clearly does not (see ``_recheck_cyrillic``).
    """
    if data.isascii():
        return data.decode("ascii")
    codec = codec_name(declared)
    if codec is not None and codec != "ascii":
        try:
            text = data.decode(codec)
        except Exception:  # UnicodeDecodeError; some CJK codecs raise odd errors on garbage
            pass
        else:
            return _recheck_cyrillic(data, codec, text)
    return decode_undeclared(data)


def _recheck_cyrillic(data: bytes, codec: str, text: str) -> str:
    """Swap cp1251 and koi8-r when the declared one reads as gibberish and the other as Russian.

    Both decode any byte string without error, so a wrong declaration (a
    misconfigured shop engine sending cp1251 labelled koi8-r) would otherwise
    pass silently; the swap needs the other reading to be clearly better.
    """
    other = {"cp1251": "koi8-r", "koi8-r": "cp1251"}.get(codec)
    if other is None:
        return text
    if _russian_score(data, other) > 2 * _russian_score(data, codec) + 2:
        return data.decode(other, errors="replace")
    return text


def decode_prefix(data: bytes, declared: str | None) -> str:
    """Like :func:`decode_bytes` for a prefix cut at an arbitrary byte.

    A multi-byte character cut in half at the end would otherwise make a
    valid declaration look wrong, so up to three trailing bytes are dropped
    first when they do not decode.
    """
    codec = codec_name(declared) or "utf-8"
    for trim in range(4):
        candidate = data[: len(data) - trim] if trim else data
        try:
            return candidate.decode(codec)
        except Exception:
            continue
    return decode_bytes(data, declared)
