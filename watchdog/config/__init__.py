"""The configuration: find ``watchdog.toml``, validate all of it, hand out a frozen Config.

Usage::

    config = load_config(resolve_config_path(cli_value))
    config.smtp.password.reveal()        # secrets are masked everywhere else
    config.sla_for("orders").working_hours

Every problem in the file is reported at once as a ``ConfigError`` whose
lines read ``watchdog.toml: mailbox[2].port: expected an integer 1-65535, got "99x"``.
"""

from __future__ import annotations

from watchdog.config.loader import load_config, resolve_config_path
from watchdog.config.schema import (
    AlarmsConfig,
    ClassifyConfig,
    Config,
    DatabaseConfig,
    DigestConfig,
    EscalationConfig,
    EscalationStep,
    FormApiConfig,
    FormConfig,
    FormFields,
    MailboxConfig,
    NotifyConfig,
    OwnerConfig,
    SlaConfig,
    SlaOverride,
    SmtpConfig,
    Source,
    TelegramConfig,
    WebConfig,
)
from watchdog.config.secrets import Secret
from watchdog.config.types import Address, HolidayRegion, Listen, Shift

__all__ = [
    "Address",
    "AlarmsConfig",
    "ClassifyConfig",
    "Config",
    "DatabaseConfig",
    "DigestConfig",
    "EscalationConfig",
    "EscalationStep",
    "FormApiConfig",
    "FormConfig",
    "FormFields",
    "HolidayRegion",
    "Listen",
    "MailboxConfig",
    "NotifyConfig",
    "OwnerConfig",
    "Secret",
    "Shift",
    "SlaConfig",
    "SlaOverride",
    "SmtpConfig",
    "Source",
    "TelegramConfig",
    "WebConfig",
    "load_config",
    "resolve_config_path",
]
