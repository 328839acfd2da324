"""Site forms: what to paste into each form service, and whether a pulled form's API answers.

For a webhook the doctor prints the address (``{public_url}/hooks/{name}``)
and how the token travels: the ``X-Watchdog-Token`` header where the service
can set headers, else ``?token=`` in the address. The token itself is never
printed, only where it comes from ("the value of $WATCHDOG_FORM_TOKEN"): the
report may be pasted into a chat or a support ticket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from watchdog.config.schema import FormConfig
from watchdog.doctor.i18n import Phrasebook
from watchdog.doctor.report import Checkup, Finding, Status
from watchdog.errors import SourceError
from watchdog.notify.text import duration
from watchdog.sources.formapi import Retry, open_form_api
from watchdog.web.hooks import TOKEN_HEADER

#: Presets whose service sends no header of ours: the token goes in the address.
URL_ONLY = frozenset(
    {"tilda", "wix", "elementor", "bitrix24", "jotform", "typeform", "google_forms"}
)

_T = Phrasebook(
    {
        "form": ("form {name} (preset {preset})", "форма {name} (формат {preset})"),
        "paste": (
            "paste this into the form service's webhook settings",
            "вставьте это в настройки вебхука у сервиса формы",
        ),
        "address": ("address: {url}", "адрес: {url}"),
        "header": ("header:  {header}: <{secret}>", "заголовок: {header}: <{secret}>"),
        "or_query": (
            "(a service that cannot send headers: {url}?token=<{secret}>)",
            "(если сервис не умеет заголовки: {url}?token=<{secret}>)",
        ),
        "preset.generic": (
            "any service: JSON or form fields; [form.fields] names the fields if guessing fails",
            "любой сервис: JSON или поля формы; [form.fields] укажет поля, если угадать не вышло",
        ),
        "preset.tilda": (
            (
                "Tilda: Site Settings, Forms, Webhook; Tilda's check (test=test) is answered, "
                "stored nowhere"
            ),
            (
                "Tilda: Настройки сайта, Формы, Webhook; проверочный запрос Tilda (test=test) "
                "принимается и никуда не пишется"
            ),
        ),
        "preset.wix": (
            "Wix: Automations, “Wix Forms: form submitted”, Send via webhook, all keys and values",
            (
                "Wix: Автоматизации, «Wix Forms: форма отправлена», Отправить через вебхук, "
                "все ключи и значения"
            ),
        ),
        "preset.cf7": (
            "Contact Form 7: a webhook add-on (CF7 to Webhook); the header if it takes one",
            (
                "Contact Form 7: дополнение для вебхуков (CF7 to Webhook); заголовок, если "
                "оно его поддерживает"
            ),
        ),
        "preset.elementor": (
            "Elementor Pro: the form's Actions After Submit, Webhook, with Advanced Data on",
            "Elementor Pro: Actions After Submit у формы, Webhook, с включённым Advanced Data",
        ),
        "preset.bitrix24": (
            "Bitrix24: an outgoing webhook; its test event (ONAPPTEST) stores nothing",
            "Битрикс24: исходящий вебхук; его проверочное событие (ONAPPTEST) ничего не создаёт",
        ),
        "preset.jotform": (
            "Jotform: Settings, Integrations, WebHooks",
            "Jotform: Settings, Integrations, WebHooks",
        ),
        "preset.typeform": ("Typeform: Connect, Webhooks", "Typeform: Connect, Webhooks"),
        "preset.google_forms": (
            "Google Forms: the Apps Script in docs/deployment.md, with this address in it",
            "Google Forms: скрипт Apps Script из docs/deployment.md с этим адресом",
        ),
        "no_web": (
            (
                "there is no [web] table, so no HTTP server runs and this form's submissions "
                "cannot arrive"
            ),
            (
                "в настройках нет раздела [web]: HTTP-сервер не запущен, и заявки с этой формы "
                "не могут прийти"
            ),
        ),
        "no_web.fix": (
            "add [web] (see config.example.toml) and publish it through your HTTPS proxy",
            "добавьте раздел [web] (см. config.example.toml) и опубликуйте его через HTTPS-прокси",
        ),
        "loopback.fix": (
            (
                "{url} is this machine only: a form service on the internet cannot reach it; set "
                "[web] public_url to the HTTPS address your proxy serves"
            ),
            (
                "{url} доступен только с этой машины, сервис формы из интернета до него не "
                "достучится; укажите в [web] public_url HTTPS-адрес, который обслуживает прокси"
            ),
        ),
        "plain_http.fix": (
            (
                "{url} is plain http: the token crosses the internet unencrypted; serve it over "
                'HTTPS at the proxy and set public_url = "https://..."'
            ),
            (
                "{url} без шифрования: токен идёт через интернет открытым текстом; включите HTTPS "
                'на прокси и укажите public_url = "https://..."'
            ),
        ),
        "api": ("form {name}: {service} API", "форма {name}: API {service}"),
        "api.ok": (
            "answers for form {form_id}; new submissions are fetched every {every}",
            "отвечает по форме {form_id}; новые заявки забираются каждые {every}",
        ),
        "api.fix": (
            "check form_id, base_url and the API key, {secret}",
            "проверьте form_id, base_url и ключ API, {secret}",
        ),
        "api.later": (
            "if it keeps failing, check that this machine can reach the service",
            "если повторяется, проверьте, что эта машина может достучаться до сервиса",
        ),
    }
)

_SERVICES = {"jotform": "Jotform", "typeform": "Typeform"}


def check_forms(checkup: Checkup) -> Iterator[Finding]:
    """For every form: the webhook address and token to paste; then ask a pulled form's API."""
    for form in checkup.config.forms:
        yield _webhook(form, checkup)
        if form.api is not None:
            yield _api(form, checkup)


def _webhook(form: FormConfig, checkup: Checkup) -> Finding:
    lang, web = checkup.lang, checkup.config.web
    subject = _T(lang, "form", name=form.name, preset=form.preset)
    if web is None:
        # A form that is also pulled through its API still gets its requests.
        status: Status = "warn" if form.api is not None else "fail"
        return Finding(subject, status, _T(lang, "no_web"), fix=_T(lang, "no_web.fix"))
    url = f"{web.public_url.rstrip('/')}/hooks/{form.name}"
    secret = checkup.secrets.describe(lang, ("form", form.name, "token"))
    if form.preset in URL_ONLY:
        lines = [_T(lang, "address", url=f"{url}?token=<{secret}>")]
    else:
        lines = [
            _T(lang, "address", url=url),
            _T(lang, "header", header=TOKEN_HEADER, secret=secret),
            _T(lang, "or_query", url=url, secret=secret),
        ]
    lines.append(_T(lang, f"preset.{form.preset}"))
    problem = _reachability(web.public_url)
    if problem:
        fix = _T(lang, problem, url=web.public_url)
        return Finding(subject, "warn", _T(lang, "paste"), tuple(lines), fix)
    return Finding(subject, "ok", _T(lang, "paste"), tuple(lines))


def _reachability(public_url: str) -> str | None:
    """Return why a form service may not reach ``public_url`` safely, as a phrase key, or None."""
    parts = urlsplit(public_url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return "loopback.fix"
    return "plain_http.fix" if parts.scheme == "http" else None


def _api(form: FormConfig, checkup: Checkup) -> Finding:
    """Ask the service for submissions newer than now: proves the key, the id and the way."""
    assert form.api is not None
    lang, api = checkup.lang, form.api
    subject = _T(lang, "api", name=form.name, service=_SERVICES[api.kind])
    client = open_form_api(form, transport=checkup.http, retry=Retry(attempts=1))
    try:
        client.fetch_since(checkup.now, now=checkup.now)
    except SourceError as exc:
        secret = checkup.secrets.describe(lang, ("form", form.name, "api", "api_key"))
        fix = _T(lang, "api.fix", secret=secret) if exc.permanent else _T(lang, "api.later")
        return Finding(subject, "fail", str(exc), fix=fix)
    every = duration(api.poll_every, lang)
    return Finding(subject, "ok", _T(lang, "api.ok", form_id=api.form_id, every=every))
