"""The shape of ``watchdog.toml``: one frozen pydantic model per table.

Each key is declared once, here, with its type, its default and (as the
attribute docstring) its help text. Value rules live in
:mod:`watchdog.config.types`; secrets arrive already resolved (see
:mod:`watchdog.config.secrets`). Defaults that depend on another key (a port
on its security, a step's delivery on its audience) are filled by "before"
validators from the raw table, so the finished models hold plain values and
never ``None`` where the user wrote nothing.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from watchdog.config.secrets import Secret
from watchdog.config.types import (
    After,
    ChatId,
    ClockTime,
    DatabaseUrl,
    Day,
    Deliver,
    Domain,
    Duration,
    Email,
    Factor,
    FormApiKind,
    FormPreset,
    FromAddress,
    HolidayRegion,
    Holidays,
    ImapSecurity,
    Language,
    Listen,
    ListenAddress,
    Name,
    NotifyTarget,
    Port,
    PositiveInt,
    Shift,
    SmtpSecurity,
    Text,
    Timezone,
    Url,
    WorkingDays,
    WorkingHours,
    choice,
    expected,
    parse_domain,
    parse_listen,
    problem,
)
from watchdog.mailproviders import is_public_provider

SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
IMAP_PORTS = {"tls": 993, "starttls": 143, "none": 143}


class _Table(BaseModel):
    """Base of every table: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _with_default(data: Any, key: str, default: object) -> Any:
    """Return the raw table ``data`` with ``key`` set to ``default`` if it is absent."""
    if isinstance(data, dict) and key not in data:
        return {**data, key: default}
    return data


def _raw(data: Any, key: str) -> object:
    """Return ``data[key]`` when ``data`` is a table, else None (bad shapes are reported later)."""
    return data.get(key) if isinstance(data, dict) else None


def parse_rules_dir(value: object, info: ValidationInfo) -> Path:
    """Parse the folder of the user's own rule files; it must exist when the service starts.

    A relative path is relative to the config file, like ``*_file`` secrets.
    """
    if not isinstance(value, str) or not value.strip():
        raise expected("the path of a folder of rule files")
    base = (info.context or {}).get("base_dir", Path("."))
    path = Path(base) / Path(value).expanduser()
    if not path.is_dir():
        raise problem(f"folder {path} does not exist")
    return path


# --- top-level tables -------------------------------------------------------------


class DatabaseConfig(_Table):
    """``[database]``: where cases, messages and the outbox are stored."""

    url: DatabaseUrl = "sqlite:///watchdog.db"
    """SQLAlchemy URL: "sqlite:///watchdog.db" or "postgresql+psycopg://user@host/db"."""


class OwnerConfig(_Table):
    """``[owner]``: the person escalations and the digest go to."""

    email: Email
    """The owner's address: escalations and the daily digest are sent here."""
    language: Annotated[Language, choice(Language)] = "ru"
    """Language of the digest and escalation e-mails: ru or en."""
    name: Text | None = None
    """How e-mails address the owner; optional."""


class SmtpConfig(_Table):
    """``[smtp]``: the relay that sends escalations and digests."""

    host: Text
    """Host name of the mail relay."""
    port: Port = 587
    """Relay port; defaults to 587 for starttls, 465 for tls, 25 for none."""
    security: Annotated[SmtpSecurity, choice(SmtpSecurity)] = "starttls"
    """starttls, tls (implicit TLS) or none."""
    username: Text | None = None
    """Login at the relay; leave out for a relay without authentication."""
    password: Secret | None = None
    """Relay password (as password_env or password_file); optional."""
    from_: FromAddress = Field(alias="from")
    """Sender of our e-mails: "Watchdog <watchdog@example.com>" or a bare address."""
    timeout: Duration = timedelta(seconds=30)
    """How long to wait for the relay before giving up on this attempt."""

    @model_validator(mode="before")
    @classmethod
    def _port_follows_security(cls, data: Any) -> Any:
        security = _raw(data, "security") or "starttls"
        return _with_default(data, "port", SMTP_PORTS.get(str(security).lower(), 587))


class SlaConfig(_Table):
    """``[sla]``: the first-response deadline and the business calendar it is counted in."""

    first_response: Duration = timedelta(hours=2)
    """How soon a request must get its first human answer, in business time."""
    timezone: Timezone = ZoneInfo("Europe/Moscow")
    """IANA time zone of the working hours (and of digest.at)."""
    working_hours: WorkingHours = (Shift(time(9), time(18)),)
    """"09:00-18:00", or split shifts "09:00-13:00,14:00-18:00"; "24:00" ends the day."""
    working_days: WorkingDays = frozenset(range(5))
    """Weekdays at work: "mon-fri", "mon,wed,sat"; stored as 0=Monday ... 6=Sunday."""
    holidays: Holidays = HolidayRegion("RU")
    """Country (optionally "US-CA" with a subdivision) whose public holidays are days off, or "none"."""
    extra_days_off: tuple[Day, ...] = ()
    """Further days off (dates), e.g. a shop's own holiday."""
    extra_work_days: tuple[Day, ...] = ()
    """Days worked although the calendar says otherwise (a moved working Saturday)."""


class SlaOverride(_Table):
    """``[mailbox.sla]`` / ``[form.sla]``: any [sla] keys, overriding them for one source.

    A key left out (None) keeps the value of ``[sla]``; lists replace, not extend.
    """

    first_response: Duration | None = None
    timezone: Timezone | None = None
    working_hours: WorkingHours | None = None
    working_days: WorkingDays | None = None
    holidays: Holidays = None
    extra_days_off: tuple[Day, ...] | None = None
    extra_work_days: tuple[Day, ...] | None = None

    def apply_to(self, base: SlaConfig) -> SlaConfig:
        """Return ``base`` with the keys this table sets (holidays = "none" counts as set)."""
        return base.model_copy(update={key: getattr(self, key) for key in self.model_fields_set})


class EscalationStep(_Table):
    """``[[escalation.step]]``: when a waiting request is escalated, and to whom."""

    after: After
    """When the step fires: a share of the deadline ("100%", "200%") as a float
    (1.0 = the deadline), or business time after arrival ("30m") as a timedelta."""
    notify: NotifyTarget
    """team (the source's team), owner, telegram (every chat) or "telegram:<name>"."""
    repeat: Duration | None = None
    """Repeat the step this often while the request still waits; optional."""
    deliver: Annotated[Deliver, choice(Deliver)] = "any_time"
    """any_time or business_hours; defaults to business_hours for team, any_time otherwise."""

    @model_validator(mode="before")
    @classmethod
    def _deliver_follows_audience(cls, data: Any) -> Any:
        default = "business_hours" if _raw(data, "notify") == "team" else "any_time"
        return _with_default(data, "deliver", default)


def _default_steps() -> tuple[EscalationStep, ...]:
    """The policy of design.md: remind the team at the deadline, tell the owner at twice it."""
    return (
        EscalationStep.model_validate({"after": "100%", "notify": "team"}),
        EscalationStep.model_validate({"after": "200%", "notify": "owner", "repeat": "4h"}),
    )


class EscalationConfig(_Table):
    """``[escalation]``: the ordered steps; with none configured, the default policy."""

    steps: tuple[EscalationStep, ...] = Field(default_factory=_default_steps, alias="step")
    """The [[escalation.step]] tables in order."""

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("step") == []:
            return {key: value for key, value in data.items() if key != "step"}
        return data


class DigestConfig(_Table):
    """``[digest]``: the owner's daily summary of what was missed."""

    at: ClockTime = time(9)
    """Time of day ("09:00") the digest is sent, in sla.timezone."""
    skip_empty: StrictBool = False
    """Do not send a digest on days with nothing to report."""
    enabled: StrictBool = True
    """Send the daily digest at all."""


class ClassifyConfig(_Table):
    """``[classify]``: what the classifier needs to know about us."""

    rules_dir: Annotated[Path, PlainValidator(parse_rules_dir)] | None = None
    """A folder of extra rules/*.toml files of your own; must exist if given."""
    own_domains: tuple[Domain, ...] = ()
    """Our mail domains; defaults to the domains of the owner and every mailbox username."""
    staff: tuple[Email, ...] = ()
    """Addresses of our people, whose mail to each other is "staff", not a request."""


class DaemonConfig(_Table):
    """``[daemon]``: how often ``watchdog run`` does its routine work (polling is per source)."""

    tick_every: Duration = timedelta(seconds=60)
    """How often cases are tracked, escalations decided and the digest checked."""
    send_every: Duration = timedelta(seconds=5)
    """How often the outbox is looked at for notifications to send."""


class AlarmsConfig(_Table):
    """``[alarms]``: when a source itself is in trouble."""

    unreachable_after: Duration = timedelta(minutes=30)
    """Raise an alarm once a source has failed to answer for this long."""
    silence_factor: Factor = 3.0
    """Raise an alarm when a source is silent for this many times its usual gap."""


# --- sources ----------------------------------------------------------------------


class MailboxConfig(_Table):
    """``[[mailbox]]``: one IMAP account to watch (read-only: EXAMINE and BODY.PEEK)."""

    name: Name
    """Unique name of the source (among mailboxes and forms)."""
    host: Text
    """IMAP server host name."""
    port: Port = 993
    """IMAP port; defaults to 993 for tls, 143 otherwise."""
    security: Annotated[ImapSecurity, choice(ImapSecurity)] = "tls"
    """tls, starttls or none."""
    username: Text
    """IMAP login, usually the mailbox's address."""
    password: Secret
    """IMAP password (as password_env or password_file)."""
    team: tuple[Email, ...] = ()
    """Who answers this mailbox: they get the "team" escalation steps."""
    inbox: Text | None = None
    """Folder of incoming mail, if not found automatically."""
    sent: Text | None = None
    """Folder of sent mail, if not found automatically."""
    trash: Text | None = None
    """Trash folder, if not found automatically."""
    junk: Text | None = None
    """Junk (spam) folder, if not found automatically."""
    poll_every: Duration = timedelta(minutes=2)
    """How often the mailbox is read."""
    trust_answered_flag: StrictBool = False
    """Count the IMAP \\Answered flag as an answer even when no reply is found in Sent."""
    timeout: Duration = timedelta(seconds=30)
    """How long to wait for the IMAP server."""
    max_fetch_bytes: PositiveInt = 1_000_000
    """Largest part of one message that is downloaded."""
    sla: SlaOverride | None = None
    """Per-mailbox changes to [sla]; see Config.sla_for."""

    @model_validator(mode="before")
    @classmethod
    def _port_follows_security(cls, data: Any) -> Any:
        security = _raw(data, "security") or "tls"
        return _with_default(data, "port", IMAP_PORTS.get(str(security).lower(), 993))


class FormFields(_Table):
    """``[form.fields]``: which submission fields hold the customer's details."""

    name: Text | None = None
    email: Text | None = None
    phone: Text | None = None
    message: Text | None = None


class FormApiConfig(_Table):
    """``[form.api]``: poll a form service's API instead of (or besides) the webhook."""

    kind: Annotated[FormApiKind, choice(FormApiKind)]
    """jotform or typeform."""
    form_id: Text
    """The form's id at the service."""
    api_key: Secret
    """API key (as api_key_env or api_key_file)."""
    base_url: Url | None = None
    """Other API endpoint (EU region, tests); the service's default when left out."""
    poll_every: Duration = timedelta(minutes=5)
    """How often the API is asked for new submissions."""


class FormConfig(_Table):
    """``[[form]]``: one site form posting to POST /hooks/<name>."""

    name: Name
    """Unique name of the source; also the URL path segment of its webhook."""
    token: Secret
    """Token the form must send (X-Watchdog-Token header or ?token=)."""
    team: tuple[Email, ...] = ()
    """Who answers this form's requests: they get the "team" escalation steps."""
    preset: Annotated[FormPreset, choice(FormPreset)] = "generic"
    """Payload format: generic, tilda, wix, cf7, elementor, bitrix24, jotform, typeform, google_forms."""
    fields: FormFields = FormFields()
    """Submission field names of the customer's name, email, phone and message."""
    expect_every: Duration | None = None
    """Raise an alarm if no submission arrives for this long; optional."""
    sla: SlaOverride | None = None
    """Per-form changes to [sla]; see Config.sla_for."""
    api: FormApiConfig | None = None
    """Poll the form service's API too; optional."""


Source = MailboxConfig | FormConfig


# --- notification channels and the dashboard --------------------------------------


class TelegramConfig(_Table):
    """``[[notify.telegram]]``: a Telegram chat that escalations can go to."""

    name: Name
    """Unique channel name for "telegram:<name>"; the first defaults to "telegram"."""
    bot_token: Secret
    """The bot's token (as bot_token_env or bot_token_file)."""
    chat_id: ChatId
    """Chat to post to, as a string ("123456789", "-100...", "@channel")."""
    api_url: Url = "https://api.telegram.org"
    """Bot API endpoint (change only for a local Bot API server or tests)."""


class NotifyConfig(_Table):
    """``[notify]``: channels besides e-mail."""

    telegram: tuple[TelegramConfig, ...] = ()
    """The [[notify.telegram]] chats."""

    @model_validator(mode="before")
    @classmethod
    def _first_chat_is_named_telegram(cls, data: Any) -> Any:
        chats = _raw(data, "telegram")
        if isinstance(chats, list) and chats and isinstance(chats[0], dict):
            return {**data, "telegram": [_with_default(chats[0], "name", "telegram"), *chats[1:]]}
        return data


class WebConfig(_Table):
    """``[web]``: the HTTP server (webhooks, metrics, and the password-protected dashboard)."""

    listen: ListenAddress = Listen("127.0.0.1", 8080)
    """host:port to listen on."""
    username: Text = "owner"
    """Dashboard login."""
    password: Secret
    """Dashboard password (as password_env or password_file): it shows customers' mail."""
    public_url: Url = "http://127.0.0.1:8080"
    """The dashboard's address as seen by the owner, used in e-mail links; defaults to http://<listen>."""

    @model_validator(mode="before")
    @classmethod
    def _public_url_follows_listen(cls, data: Any) -> Any:
        try:
            listen = parse_listen(_raw(data, "listen") or "127.0.0.1:8080")
        except PydanticCustomError:
            return data
        return _with_default(data, "public_url", f"http://{listen}")


# --- the whole file -------------------------------------------------------------------


def _own_domains(data: dict[str, Any]) -> list[str]:
    """Return the valid domains of the owner's and the mailboxes' addresses, in file order.

    Public providers (gmail.com, mail.ru, ...) are left out: an owner writing
    from Gmail must not turn every Gmail customer into a colleague.
    """
    owner = data.get("owner")
    addresses = [owner.get("email")] if isinstance(owner, dict) else []
    mailboxes = data.get("mailbox")
    if isinstance(mailboxes, list):
        addresses += [box.get("username") for box in mailboxes if isinstance(box, dict)]
    domains: list[str] = []
    for address in addresses:
        if isinstance(address, str) and "@" in address:
            try:
                domain = parse_domain(address.rpartition("@")[2])
            except PydanticCustomError:
                continue
            if domain not in domains and not is_public_provider(domain):
                domains.append(domain)
    return domains


class Config(_Table):
    """The whole, validated configuration; build it with ``load_config``.

    ``warnings`` holds non-fatal notes (such as a password written in the
    file) for ``watchdog doctor`` and the start-up log.
    """

    database: DatabaseConfig = DatabaseConfig()
    owner: OwnerConfig
    smtp: SmtpConfig
    sla: SlaConfig = SlaConfig()
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    digest: DigestConfig = DigestConfig()
    classify: ClassifyConfig = ClassifyConfig()
    alarms: AlarmsConfig = AlarmsConfig()
    daemon: DaemonConfig = DaemonConfig()
    mailboxes: tuple[MailboxConfig, ...] = Field((), alias="mailbox")
    """The [[mailbox]] tables, in file order."""
    forms: tuple[FormConfig, ...] = Field((), alias="form")
    """The [[form]] tables, in file order."""
    notify: NotifyConfig = NotifyConfig()
    web: WebConfig | None = None
    """The [web] table; None when the file has none (no HTTP server is started)."""

    _warnings: tuple[str, ...] = ()

    def model_post_init(self, context: Any) -> None:
        """Take the loader's warnings from the validation context."""
        if isinstance(context, dict):
            self._warnings = tuple(context.get("warnings", ()))

    @property
    def warnings(self) -> tuple[str, ...]:
        """Non-fatal notes about the file, one line each, formatted like errors."""
        return self._warnings

    @model_validator(mode="before")
    @classmethod
    def _own_domains_follow_addresses(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        classify = data.get("classify", {})
        if isinstance(classify, dict) and "own_domains" not in classify:
            return {**data, "classify": {**classify, "own_domains": _own_domains(data)}}
        return data

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every source, mailboxes first, each in file order."""
        return (*self.mailboxes, *self.forms)

    def source(self, name: str) -> Source:
        """Return the mailbox or form called ``name``; raise KeyError if there is none."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def sla_for(self, source_name: str) -> SlaConfig:
        """Return the calendar and deadline of one source: [sla] with its own overrides.

        Raises KeyError for an unknown source name.
        """
        override = self.source(source_name).sla
        return override.apply_to(self.sla) if override else self.sla

    def telegram(self, name: str) -> TelegramConfig:
        """Return the [[notify.telegram]] chat called ``name``; raise KeyError if none."""
        for chat in self.notify.telegram:
            if chat.name == name:
                return chat
        raise KeyError(name)

    def telegram_chats_for(self, target: str) -> tuple[TelegramConfig, ...]:
        """Return the chats a step's ``notify`` means: all for "telegram", one for "telegram:x"."""
        if target == "telegram":
            return self.notify.telegram
        prefix, _, name = target.partition(":")
        return (self.telegram(name),) if prefix == "telegram" else ()
