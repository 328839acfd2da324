"""Why a mail server could not be used, told apart: name, network, TLS, certificate, login.

The IMAP and SMTP edges translate every failure into SourceError/SendError
``from`` the original exception, and keep it as ``__cause__``. The doctor
reads that chain to tell the owner *which* of these happened, since each has
a different fix:

=============  ============================================  ==========================
trouble        seen as (the first match along the chain)      the owner checks
=============  ============================================  ==========================
unknown host   ``socket.gaierror``                            the spelling of ``host``
refused        ``ConnectionRefusedError``                     host, port, the server
timeout        ``TimeoutError``                               host, port, a firewall
certificate    ``ssl.SSLCertVerificationError``               the name the cert is for
not tls        ``ssl.SSLError`` WRONG_VERSION_NUMBER: the     ``security`` against ``port``
               server answered in plain text
tls            any other ``ssl.SSLError``                     ``security`` against ``port``
login          imapclient's ``LoginError``, smtplib's         username and password
               ``SMTPAuthenticationError``
no login       smtplib's ``SMTPNotSupportedError``            ``username``, ``security``
network        any other ``OSError`` or ``EOFError``          the network, later
=============  ============================================  ==========================

The library exceptions are recognised by their class name: the doctor must
not import imapclient or smtplib (only their edge modules do), and the name
is all it needs. Anything else is shown in the edge's own words.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from watchdog.config.types import Language
from watchdog.doctor.i18n import Phrasebook

Trouble = Literal[
    "unknown_host", "refused", "timeout", "certificate", "not_tls", "tls", "login", "no_login",
    "network", "other",
]  # fmt: skip

_LOGIN_REFUSED = frozenset({"LoginError", "SMTPAuthenticationError"})
_NO_LOGIN = frozenset({"SMTPNotSupportedError"})
_BYTES_REPR = re.compile(r"""\bb(['"])(.*?)\1""")

_T = Phrasebook(
    {
        "security.tls": ("TLS", "TLS"),
        "security.starttls": ("STARTTLS", "STARTTLS"),
        "security.none": ("no encryption", "без шифрования"),
        "unknown_host": ("the host name {host} is not known (DNS)", "имя {host} не найдено (DNS)"),
        "unknown_host.fix": (
            "check the spelling of host in {section}",
            "проверьте написание host в {section}",
        ),
        "refused": (
            "nothing answers at {host}:{port}: the connection was refused",
            "по адресу {host}:{port} никто не отвечает: соединение отклонено",
        ),
        "refused.fix": (
            (
                "check host and port in {section} ({ports}), that the server is running, "
                "and that no firewall stands between"
            ),
            (
                "проверьте host и port в {section} ({ports}), что сервер запущен "
                "и что его не закрывает файрвол"
            ),
        ),
        "timeout": (
            "no answer from {host}:{port} in time ({seconds} s)",
            "{host}:{port} не ответил вовремя ({seconds} с)",
        ),
        "timeout.fix": (
            (
                "check host, port and security in {section} ({ports}); a firewall that "
                "drops the connection looks exactly like this"
            ),
            (
                "проверьте host, port и security в {section} ({ports}); файрвол, который "
                "молча отбрасывает соединение, выглядит именно так"
            ),
        ),
        "certificate": (
            "the server's certificate is not trusted: {reason}",
            "сертификату сервера нельзя доверять: {reason}",
        ),
        "certificate.fix": (
            (
                "use in {section} the host name the certificate was issued for; a self-signed "
                "certificate must first be added to this machine's trusted certificates"
            ),
            (
                "укажите в {section} то имя, на которое выдан сертификат; самоподписанный "
                "сертификат сначала добавьте в доверенные на этой машине"
            ),
        ),
        "not_tls": (
            "{host}:{port} answered without encryption, so TLS cannot start there",
            "{host}:{port} ответил без шифрования, TLS там не начать",
        ),
        "not_tls.fix": (
            "security and port in {section} must go together: {ports}",
            "security и port в {section} должны подходить друг к другу: {ports}",
        ),
        "tls": (
            "the encrypted connection (TLS) failed: {reason}",
            "шифрованное соединение (TLS) не установилось: {reason}",
        ),
        "tls.fix": (
            "security and port in {section} must go together: {ports}",
            "security и port в {section} должны подходить друг к другу: {ports}",
        ),
        "login": (
            "the server refused the login as {user}: {said}",
            "сервер не принял вход как {user}: {said}",
        ),
        "login.fix": (
            (
                "check username in {section} and the password, {secret}; Gmail, Yandex and "
                "Mail.ru want an app password here, not the account's own"
            ),
            (
                "проверьте username в {section} и пароль, {secret}; Gmail, Яндекс и Mail.ru "
                "требуют здесь пароль приложения, а не пароль от почты"
            ),
        ),
        "no_login": (
            "the server offers no login (AUTH) here: {said}",
            "сервер не предлагает здесь вход (AUTH): {said}",
        ),
        "no_login.fix": (
            (
                "leave username out of {section} if the server needs no login; many relays "
                'offer AUTH only after STARTTLS (security = "starttls")'
            ),
            (
                "уберите username из {section}, если серверу не нужен вход; многие серверы "
                'предлагают AUTH только после STARTTLS (security = "starttls")'
            ),
        ),
        "network": (
            "the connection to {host}:{port} broke: {reason}",
            "соединение с {host}:{port} оборвалось: {reason}",
        ),
        "network.fix": (
            "try again; if it keeps happening, check the network between this machine and {host}",
            "попробуйте ещё раз; если повторяется, проверьте сеть между этой машиной и {host}",
        ),
        "other": ("{said}", "{said}"),
        "other.fix": (
            (
                "read the server's answer above; if it does not say enough, ask the mail "
                "provider about it"
            ),
            "прочтите ответ сервера выше; если из него неясно, спросите почтового провайдера",
        ),
    }
)


@dataclass(frozen=True)
class Server:
    """The server a failure is about, as the config names it, for the words of the diagnosis."""

    host: str
    port: int
    section: str  # where the owner fixes it: '[[mailbox]] "orders"', '[smtp]'
    ports: str  # which port goes with which security, in words
    user: str | None
    secret: str  # where the password comes from, in words
    timeout_s: float


def security_words(lang: Language, security: str) -> str:
    """Say how a connection is secured ("tls", "starttls", "none" in the config), in ``lang``."""
    return _T(lang, f"security.{security}")


def trouble_of(error: BaseException) -> Trouble:
    """Return which kind of trouble ``error`` (or an exception it was raised from) is."""
    for cause in _chain(error):
        name = type(cause).__name__
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "certificate"
        if isinstance(cause, ssl.SSLError):
            return "not_tls" if cause.reason == "WRONG_VERSION_NUMBER" else "tls"
        if isinstance(cause, socket.gaierror):
            return "unknown_host"
        if isinstance(cause, ConnectionRefusedError):
            return "refused"
        if isinstance(cause, TimeoutError):
            return "timeout"
        if name in _LOGIN_REFUSED:
            return "login"
        if name in _NO_LOGIN:
            return "no_login"
        if isinstance(cause, OSError | EOFError):
            return "network"
    return "other"


def explain(error: BaseException, server: Server, lang: Language) -> tuple[str, str]:
    """Return (what happened, how to fix it) for a failure to use ``server``, in ``lang``."""
    trouble = trouble_of(error)
    root = _root(error)
    reason = getattr(root, "verify_message", None) or _plain(root)
    values = {
        "host": server.host,
        "port": server.port,
        "section": server.section,
        "ports": server.ports,
        "user": server.user or "",
        "secret": server.secret,
        "seconds": f"{server.timeout_s:g}",
        "reason": reason,
        "said": _plain(error) if trouble == "other" else reason,
    }
    return _T(lang, trouble, **values), _T(lang, f"{trouble}.fix", **values)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and every exception it was raised from, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _root(error: BaseException) -> BaseException:
    """Return the innermost cause: the library's own words about what went wrong."""
    *_, last = _chain(error)
    return last


def _plain(error: BaseException) -> str:
    """Return an error's text without Python's b'...' around a server's answer."""
    text = str(error) or type(error).__name__
    return _BYTES_REPR.sub(lambda match: match.group(2), text)
