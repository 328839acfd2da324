"""The mail relay: the only module that imports smtplib.

``Mailer.send(message)`` opens one connection per message (escalations are
few; a connection kept open would need keep-alive and reconnect logic for
nothing), speaks ``[smtp] security``, logs in when a username is set, and
returns the relay's final answer to DATA ("250 2.0.0 Ok: queued as 4F2A"),
which the outbox stores: it is the relay's receipt, the thing to search for
in its logs when someone says a notification never came.

Every failure becomes a :class:`~watchdog.errors.SendError`:

- permanent (retrying cannot help, the row fails and an alarm is raised):
  a 5xx reply, refused authentication, a relay without STARTTLS or AUTH
  when the config asks for them, a certificate that does not verify;
- transient (the outbox tries again later): a 4xx reply, a timeout, a
  refused or dropped connection.

A timeout after the whole message was sent (the relay stalls at the end of
DATA) is transient too, although the relay may have accepted the message:
that is the in-doubt window, and the outbox resends with the same
Message-ID (see ``watchdog.notify.outbox``).
"""

from __future__ import annotations

import copy
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

from watchdog.config.schema import SmtpConfig
from watchdog.errors import SendError


class Mailer:
    """Send e-mail through the relay of ``[smtp]``.

    ``ssl_context`` verifies the relay's certificate; the default trusts the
    system's CAs (tests pass one that trusts their self-signed certificate).
    """

    def __init__(self, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._config = config
        self._context = ssl_context or ssl.create_default_context()

    @property
    def envelope_sender(self) -> str:
        """Return the MAIL FROM address: the ``[smtp] from`` address."""
        return self._config.from_.email

    def send(self, message: EmailMessage) -> str:
        """Send ``message`` to its To/Cc/Bcc addresses; return the relay's reply to DATA.

        Raises SendError with ``permanent`` set as described in the module docstring.
        """
        recipients = _recipients(message)
        if not recipients:
            raise SendError("the message has no recipients", permanent=True)
        return self._in_session(
            lambda smtp: _transfer(smtp, self.envelope_sender, recipients, message)
        )

    def check(self) -> str:
        """Connect, secure and log in exactly as a send would, then quit without sending.

        Returns what was done, in words, for ``watchdog doctor``; raises
        SendError like ``send`` when the relay cannot be used.
        """

        def probe(smtp: smtplib.SMTP) -> str:
            smtp.noop()
            secured = {"tls": "TLS", "starttls": "STARTTLS", "none": "no encryption"}
            login = f", logged in as {self._config.username}" if self._config.username else ""
            return f"connected ({secured[self._config.security]}){login}"

        return self._in_session(probe)

    def _in_session(self, work: Callable[[smtplib.SMTP], str]) -> str:
        """Run ``work`` on a connected, secured, logged-in session; translate every failure."""
        try:
            with self._connect() as smtp:
                self._secure_and_login(smtp)
                return work(smtp)
        except SendError:
            raise
        except smtplib.SMTPException as exc:
            raise _from_smtp(exc, self._where()) from exc
        except ssl.SSLCertVerificationError as exc:
            raise SendError(
                f"{self._where()}: certificate not trusted: {exc.verify_message}", permanent=True
            ) from exc
        except (TimeoutError, OSError) as exc:
            raise SendError(f"{self._where()}: {_describe_os_error(exc)}") from exc

    def _connect(self) -> smtplib.SMTP:
        """Open the connection: TLS from the first byte for "tls", plain TCP otherwise."""
        timeout = self._config.timeout.total_seconds()
        if self._config.security == "tls":
            return smtplib.SMTP_SSL(
                self._config.host, self._config.port, timeout=timeout, context=self._context
            )
        return smtplib.SMTP(self._config.host, self._config.port, timeout=timeout)

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        """Say EHLO, start TLS if configured (then EHLO again), log in if a username is set."""
        smtp.ehlo()
        if self._config.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise SendError(
                    f"{self._where()}: the relay does not offer STARTTLS; "
                    'set smtp.security = "tls" or "none"',
                    permanent=True,
                )
            smtp.starttls(context=self._context)
            smtp.ehlo()
        if self._config.username:
            password = self._config.password.reveal() if self._config.password else ""
            smtp.login(self._config.username, password)

    def _where(self) -> str:
        """Return "smtp host:port" for error messages (never the password)."""
        return f"smtp {self._config.host}:{self._config.port}"


def _recipients(message: EmailMessage) -> list[str]:
    """Return the addresses of To, Cc and Bcc, in order, once each."""
    found: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        for value in message.get_all(header, []):
            for address in getattr(value, "addresses", ()):
                if address.addr_spec and address.addr_spec not in found:
                    found.append(address.addr_spec)
    return found


def _transfer(smtp: smtplib.SMTP, sender: str, recipients: list[str], message: EmailMessage) -> str:
    """Run MAIL, RCPT and DATA; return DATA's reply. Bcc is not sent in the headers.

    Done by hand rather than with ``send_message`` because that discards the
    reply to DATA, which is the relay's receipt (its queue id).
    """
    international = not all(part.isascii() for part in (sender, *recipients))
    options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
    raw = _serialise(message, international)
    code, reply = smtp.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.data(raw)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    receipt = f"{code} {reply.decode('utf-8', 'replace')}"
    if refused:
        receipt += "; refused: " + ", ".join(f"{r} ({c})" for r, (c, _) in refused.items())
    return receipt


def _serialise(message: EmailMessage, international: bool) -> bytes:
    """Return the message as SMTP wants it (CRLF line ends), without its Bcc header."""
    if "Bcc" in message:
        message = copy.deepcopy(message)
        del message["Bcc"]
    return message.as_bytes(policy=SMTPUTF8 if international else SMTP)


def _from_smtp(exc: smtplib.SMTPException, where: str) -> SendError:
    """Translate an smtplib error: 5xx and refused logins are permanent, the rest transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = ", ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in exc.recipients.items())
        return SendError(
            f"{where}: recipients refused: {text}", permanent=all(code >= 500 for code in codes)
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendError(
            f"{where}: login refused: {exc.smtp_code} {_text(exc.smtp_error)}", permanent=True
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendError(f"{where}: {exc}", permanent=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return SendError(f"{where}: {code} {_text(exc.smtp_error)}", permanent=500 <= code < 600)
    return SendError(f"{where}: {exc or type(exc).__name__}")  # disconnected and the like


def _text(reply: bytes | str) -> str:
    """Return a relay's reply text as str."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _describe_os_error(exc: OSError) -> str:
    """Return a short reason for a network error ("timed out", "connection refused")."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__
