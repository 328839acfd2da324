"""Domains of public mail providers: an address there says nothing about an organisation.

The owner who writes from gmail.com does not make gmail.com "our" domain;
otherwise every customer on Gmail would look like a colleague. The bundled
rule ``same-organisation-people`` (rules/staff.toml) keeps its own copy of
this list, since rules are data a user may edit.
"""

from __future__ import annotations

PUBLIC_MAIL_DOMAINS: frozenset[str] = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.jp",
        "yahoo.co.uk",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "t-online.de",
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "internet.ru",
        "yandex.ru",
        "yandex.com",
        "yandex.by",
        "yandex.kz",
        "ya.ru",
        "rambler.ru",
        "lenta.ru",
        "autorambler.ru",
        "myrambler.ru",
        "ro.ru",
        "qip.ru",
        "qq.com",
        "163.com",
        "126.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "zoho.com",
        "ukr.net",
        "i.ua",
        "meta.ua",
        "tut.by",
        "mail.com",
    ]
)


def is_public_provider(domain: str) -> bool:
    """Return True for a public mail provider's domain (case-insensitive)."""
    return domain.lower() in PUBLIC_MAIL_DOMAINS
