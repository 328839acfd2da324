"""Header values to text, addresses, ids and dates, forgiving every known sin.

The stdlib's ``policy.default`` header classes are strict and slow, so ingest
parses with ``compat32`` and decodes here: raw 8-bit bytes (common in Russian
mail without RFC 2047) are guessed, encoded-words are decoded by a small
tolerant decoder (bad base64 stays as written instead of raising), and dates
and addresses that cannot be read become None or are skipped.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_to_datetime

from watchdog.ingest.charsets import decode_bytes, decode_undeclared
from watchdog.ingest.message import Address

# An RFC 2047 encoded-word. Encoded text may not hold '?' or whitespace by the
# RFC; some mailers put spaces in Q words anyway, so spaces are tolerated.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*?)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n")
# One address alone: "a@b", "Name <a@b>" or "\"Name\" <a@b>", nothing getaddresses would
# read differently (no commas, quotes, comments, groups or route syntax).
_SIMPLE_ADDRESS = re.compile(
    r"""\s*(?:(?P<bare>(?P<email>[^\s<>()\[\]",;:\\@]+@[^\s<>()\[\]",;:\\@]+))"""
    r"""|(?:"(?P<quoted>[^"\\]*)"|(?P<name>[^"<>()\[\],;:\\@]*?))\s*"""
    r"""<(?P<email2>[^\s<>()\[\]",;:\\@]+@[^\s<>()\[\]",;:\\@]+)>)\s*$"""
)
MAX_ADDRESS_CHARS = 64_000  # of one address header: thousands of recipients is an attack, not mail
_SPACE = re.compile(r"\s")
_ANGLE_ID = re.compile(r"<\s*([^<>\s]+?)\s*>")


def raw_to_text(value: str) -> str:
    """Turn a compat32 raw header value (8-bit bytes as surrogates) into real text.

    The bytes parser smuggles undeclared 8-bit bytes through as lone
    surrogates; they are turned back into bytes and decoded as utf-8 or a
    guessed Cyrillic charset.
    """
    if value.isascii():
        return value
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # already real text (a str-built message)
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return decode_undeclared(data)


def unfold(value: str) -> str:
    """Remove folding line breaks (RFC 5322 section 2.2.3), keeping the spaces."""
    if "\n" not in value:
        return value
    return _FOLD.sub("", value)


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words in ``text``; anything undecodable stays as written.

    Whitespace between two encoded-words is dropped (RFC 2047 section 6.2),
    and adjacent words in the same charset are joined as bytes before
    decoding, so a character split across two words comes out whole.
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    last_end = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[last_end : match.start()]
        decoded = _word_bytes(match.group(2), match.group(3))
        if decoded is None:
            continue  # leave the bad word in the literal text
        if between and not (between.isspace() and pending_charset is not None):
            _flush(out, pending, pending_charset)
            pending_charset = None
            out.append(between)
        charset = match.group(1).lower()
        if pending_charset is not None and charset != pending_charset:
            _flush(out, pending, pending_charset)
        pending_charset = charset
        pending += decoded
        last_end = match.end()
    _flush(out, pending, pending_charset)
    out.append(text[last_end:])
    return "".join(out)


def _flush(out: list[str], pending: bytearray, charset: str | None) -> None:
    if pending:
        out.append(decode_bytes(bytes(pending), charset))
        pending.clear()


def _word_bytes(encoding: str, encoded: str) -> bytes | None:
    """Return an encoded-word's bytes, or None when its payload is not valid."""
    try:
        data = encoded.encode("ascii")
    except UnicodeEncodeError:
        return None
    if encoding in "Qq":
        return binascii.a2b_qp(data, header=True)
    data = data.rstrip(b"=")
    data += b"=" * (-len(data) % 4)
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return None


def decode_value(raw: str) -> str:
    """Return a header value as text: 8-bit guessed, unfolded, RFC 2047 decoded, stripped."""
    if raw.isascii() and "\n" not in raw and "=?" not in raw:
        return raw.strip()  # nothing to guess, unfold or decode: most values
    return decode_words(unfold(raw_to_text(raw))).strip()


def parse_addresses(raw_values: list[str]) -> tuple[Address, ...]:
    """Parse address headers into Addresses, skipping entries without an e-mail.

    Addresses are split on the undecoded text (so a comma inside an encoded
    display name cannot split it) and display names are decoded afterwards.
    The stdlib's ``getaddresses`` is pure Python and a sixth of the parse
    time, so the common one-address forms take a regex shortcut.
    """
    result: list[Address] = []
    for raw in raw_values:
        text = unfold(raw_to_text(raw[:MAX_ADDRESS_CHARS]))
        simple = _SIMPLE_ADDRESS.match(text)
        pairs = [_simple_pair(simple)] if simple else None
        for name, email in pairs or getaddresses([text]):
            email = email.strip().lower()
            if email and not _SPACE.search(email):
                result.append(Address(name=decode_words(name).strip(), email=email))
    return tuple(result)


def _simple_pair(match: re.Match[str]) -> tuple[str, str]:
    name = (
        match["quoted"] if match["quoted"] is not None else " ".join((match["name"] or "").split())
    )
    return name, match["email"] or match["email2"]


def first_address(raw_values: list[str]) -> Address | None:
    """Return the first address in these header values, or None.

    The null sender of bounces, "MAILER-DAEMON <>", comes back as
    ``Address("MAILER-DAEMON", "")``: the name is what tells a bounce apart.
    """
    addresses = parse_addresses(raw_values[:1])
    if addresses:
        return addresses[0]
    if raw_values:
        text = unfold(raw_to_text(raw_values[0][:MAX_ADDRESS_CHARS]))
        for name, email in getaddresses([text]):
            if name.strip() and not email.strip():
                return Address(name=decode_words(name).strip(), email="")
    return None


def parse_ids(value: str) -> tuple[str, ...]:
    """Return message ids in canonical form: angle brackets and spaces removed, case kept.

    Values without any ``<...>`` (some mailers omit them) are split on
    whitespace and the parts that look like ids (contain '@') are kept.
    """
    ids = _ANGLE_ID.findall(value)
    if ids:
        return tuple(ids)
    return tuple(part for part in value.split() if "@" in part)


def parse_date(value: str | None) -> datetime | None:
    """Return the Date header as an aware UTC datetime, or None when it cannot be read.

    A date without a zone ("-0000" or none) is taken to be UTC: it is the
    only reading that does not depend on where the watchdog runs.
    """
    if not value:
        return None
    common = _common_date(value)
    if common is not None:
        return common
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # ValueError, TypeError, OverflowError on hostile input
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# The form nearly every mailer writes ("Mon, 3 Nov 2025 12:00:00 +0300 (MSK)"), read
# without the stdlib's general parser; anything else goes to it. Years below 1000
# are left to it too (it reads "0099" as 1999).
_COMMON_DATE = re.compile(
    r"(?:[A-Za-z]{3}, )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([1-9]\d{3}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)(?: \([^()]*\))?\Z"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def _common_date(value: str) -> datetime | None:
    """Read the common Date form as ``parsedate_to_datetime`` would, in UTC; None otherwise."""
    match = _COMMON_DATE.match(value)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
    offset = int(zone_h) * 3600 + int(zone_m) * 60  # as email._parseaddr computes it
    try:
        zone = timezone(timedelta(seconds=-offset if sign == "-" else offset))
        when = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
        return when.replace(tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None  # out of range: the general parser decides
