"""Body text: HTML to text, and the new part of a reply cut from its quoted history.

Quote separation uses quotequail's knowledge of reply and forward intros
("On ... wrote:", "... написал(а):", "-----Original Message-----",
"-------- Пересылаемое сообщение --------", ...) plus a few Russian forms it
does not know (see ``_EXTRA_INTROS``), and drops ``>``-quoted lines.

quotequail tests some thirty patterns on every line in pure Python, which
costs about 80 µs a line: far too slow for a 500 messages/s budget on long
newsletters. So candidate lines are first found by one C-level regex pass
(built from quotequail's own pattern list), and only a candidate is handed to
``quotequail.quote`` to confirm.
"""

from __future__ import annotations

import re

import inscriptis  # type: ignore[import-untyped]
import quotequail  # type: ignore[import-untyped]

# quotequail's intro patterns, used only to pre-select candidate lines. If a
# future version moves them, every line ending in ':' / '>' or made of dashes
# becomes a candidate: slower, never wrong, as quotequail still decides.
try:
    from quotequail import _patterns as _qq_patterns

    _QQ_GATE: re.Pattern[str] | None = re.compile(
        "|".join(f"(?:{p})" for p in (*_qq_patterns.REPLY_PATTERNS, *_qq_patterns.FORWARD_PATTERNS))
    )
except (ImportError, AttributeError, re.error):  # pragma: no cover - depends on the version
    _QQ_GATE = None

# Common Russian (and Outlook) intros quotequail 0.5 does not know. Each is
# matched against one stripped line.
_EXTRA_INTROS = re.compile(
    r"""(?ix)
    ^-{2,}\s*(?:Исходное\ сообщение|Пересланное\ сообщение|Перенаправленное\ сообщение
              |Переадресованное\ сообщение|Пересылаемое\ письмо|Forwarded\ message
              |Original\ message)\s*-{2,}$
    | ^Начало\ переадресованного\ (?:письма|сообщения):$
    | ^.*\b(?:написал|написала|пишет|wrote)\s*:$        # "Иван Петров написал:"
    | ^.*\d.*<[^<>\s@]+@[^<>\s@]+>\s*:$  # Yandex: '23.10.2025, 14:02, "Иван" <i@ya.ru>:'
    """
)

_VERB_ONLY = re.compile(r"(?i)^(?:написал|написала|написал\(а\)|пишет|wrote)\s*:$")

# Outlook's plain-text reply header: a "From:/От:" line, then "Sent:/Отправлено:"
# or "Date:/Дата:" (quotequail finds it only in HTML). Searched with str.find
# on the lower-cased text: sre would try a line-start pattern at every
# character, which costs ~0.1 ms per KB.
_OUTLOOK_SECOND = ("sent:", "date:", "отправлено:", "дата:", "gesendet:", "envoyé:", "enviado:")
_OUTLOOK_FROM = re.compile(r"[ \t>]*\*?(?:from|от|от кого|de|von)[ \t]*:\*?[ \t]*\S")
# ...and within the next three lines a "To:/Кому:" or "Subject:/Тема:", so that
# a site form's "От: Иван" / "Дата: 23.10" fields are not taken for a quote.
_OUTLOOK_MORE = re.compile(
    r"[ \t>]*\*?(?:to|cc|subject|кому|копия|тема|an|betreff|à|objet|para|asunto)[ \t]*:"
)

# The end of any line that could be (the last line of) an intro: its last
# visible character is ':' or '>' (reply intros) or '-' or '_' (separators).
_CANDIDATE = re.compile(r"[:>_-][ \t]*(?=\n|\Z)")
_TAG = re.compile(r"<[^>]*>")
_SIGNATURE = ("-- ", "--")

MAX_TEXT_CHARS = 200_000  # text beyond this is not kept: nobody reads it, it only costs time
MAX_QUOTE_LINES = 2_000  # intros are looked for in this many lines of a body


def html_to_text(html: str) -> str:
    """Render HTML as readable plain text (inscriptis: tables and lists laid out, MIT).

    When inscriptis fails or finds nothing (lxml gives up on some hostile
    markup, e.g. thousands of nested tags), the tags are stripped instead, so
    a customer's words are never lost to a rendering problem.
    """
    html = html[: MAX_TEXT_CHARS * 2]
    try:
        text: str = inscriptis.get_text(html)
    except Exception:
        text = ""
    return text if text.strip() else _TAG.sub(" ", html)


def new_part(text: str) -> str:
    """Return the new part of a body: quoted history, ``>`` lines and signature removed.

    1. Find the first reply/forward intro (see module docstring).
    2. If the intro introduces ``>``-quoted lines, the reply may be interleaved
       or written below, so only the intro is dropped; otherwise (Outlook and
       forwards quote without markers) everything from the intro on is dropped.
    3. Drop every line starting with ``>``.
    4. Cut at a signature delimiter line ("-- ").
    Falls back to the whole text when the result would be empty (a pure
    forward without a comment is still the customer's message).
    """
    lines = text.split("\n")
    intro = find_intro(lines)
    if intro is None and ">" not in text and "--" not in text:
        return text.strip()  # no intro, no quoted line, no signature: all of it is new
    if intro is not None:
        start, end = intro
        if _quoted_follows(lines, end + 1):
            lines = lines[:start] + lines[end + 1 :]
        else:
            lines = lines[:start]
    kept: list[str] = []
    for line in lines:
        if line.rstrip() in _SIGNATURE and line.startswith("--"):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    result = "\n".join(kept).strip()
    return result if result else text.strip()


def _quoted_follows(lines: list[str], index: int) -> bool:
    """Return True when the first non-blank line at or after ``index`` starts with '>'."""
    for line in lines[index : index + 3]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def find_intro(lines: list[str]) -> tuple[int, int] | None:
    """Return (first, last) line index of the first quote intro, or None."""
    joined = "\n".join(lines[:MAX_QUOTE_LINES])
    outlook = _find_outlook_header(joined)
    end = outlook[1] if outlook else len(joined)
    index = position = 0
    for match in _CANDIDATE.finditer(joined, 0, end):
        index += joined.count("\n", position, match.start())
        position = match.start()
        found = _intro_at(lines, index)
        if found is not None:
            return found
    return (outlook[0], outlook[0] + 1) if outlook else None


def _find_outlook_header(joined: str) -> tuple[int, int] | None:
    """Return (line index, character offset) of the first Outlook "From:" line, or None."""
    lower = joined.lower()  # never adds or removes a newline, so line numbers hold
    best: tuple[int, int] | None = None
    for key in _OUTLOOK_SECOND:
        pos = lower.find(key)
        while pos != -1 and (best is None or pos < best[1]):
            start = lower.rfind("\n", 0, pos) + 1
            if start and not lower[start:pos].strip(" \t>*"):
                prev = lower.rfind("\n", 0, start - 1) + 1
                if _OUTLOOK_FROM.match(lower, prev, start - 1) and _more_headers(lower, start):
                    best = (lower.count("\n", 0, prev), prev)
                    break
            pos = lower.find(key, pos + 1)
    return best


def _more_headers(lower: str, start: int) -> bool:
    """Return True when one of the three lines after offset ``start``'s line is To/Subject."""
    end = start
    for _ in range(4):
        end = lower.find("\n", end + 1)
        if end == -1:
            end = len(lower)
            break
    return any(_OUTLOOK_MORE.match(line) for line in lower[start:end].split("\n")[1:])


def _intro_at(lines: list[str], index: int) -> tuple[int, int] | None:
    """Return the intro's line range if line ``index`` ends one (alone or wrapped)."""
    line = _unquote(lines[index])
    if not line:
        return None
    prev = _unquote(lines[index - 1]) if index else ""
    found = _quotequail_intro(lines, index, line, prev)
    if found is not None:
        return found
    if _EXTRA_INTROS.match(line):
        # "Иван Петров <ivan@mail.ru>" / "написал:" wrapped onto two lines
        return (index - 1 if prev and _VERB_ONLY.match(line) else index), index
    return None


def _quotequail_intro(lines: list[str], index: int, line: str, prev: str) -> tuple[int, int] | None:
    """Ask quotequail whether line ``index`` (possibly with the line before) is an intro."""
    gate = _QQ_GATE
    if gate is not None and not (gate.match(line) or (prev and gate.match(f"{prev} {line}"))):
        return None
    start = index - 1 if prev else index
    window = "\n".join(lines[start : index + 1])
    chunks = quotequail.quote(window, quote_intro_line=True)
    if len(chunks) < 2:
        return None
    first = chunks[0][1]
    return start + (first.count("\n") + 1 if first else 0), index


def _unquote(line: str) -> str:
    line = line.strip()
    return line[1:].strip() if line.startswith(">") else line
