"""Telegram chats: is the bot token good (getMe), and can the bot reach the chat (getChat)?

Nothing is posted to the chat. The token is never shown: the Bot API client
builds its errors without it, and the "how to fix" line names the variable
or file the token comes from, not its value.
"""

from __future__ import annotations

from collections.abc import Iterator

from watchdog.config.schema import TelegramConfig
from watchdog.doctor.i18n import Phrasebook
from watchdog.doctor.report import Checkup, Finding
from watchdog.errors import SendError
from watchdog.notify.telegram import TelegramBot

_T = Phrasebook(
    {
        "chat": ("Telegram {name} (chat {chat})", "Telegram {name} (чат {chat})"),
        "ok": (
            "the bot {bot} can write to “{title}”; nothing was posted",
            "бот {bot} может писать в «{title}»; ничего не отправлено",
        ),
        "token": (
            "Telegram does not accept the bot token ({said})",
            "Telegram не принимает токен бота ({said})",
        ),
        "token.fix": (
            "check the token, {secret}; @BotFather shows it (/mybots, the bot, API Token)",
            "проверьте токен, {secret}; его показывает @BotFather (/mybots, бот, API Token)",
        ),
        "chat.refused": (
            "the bot {bot} cannot reach the chat ({said})",
            "бот {bot} не может писать в этот чат ({said})",
        ),
        "chat.fix": (
            (
                "send /start to the bot from that chat, or add the bot to the group; chat_id "
                "must be the id the bot sees (a group's begins with -100)"
            ),
            (
                "напишите боту /start из этого чата или добавьте бота в группу; chat_id должен "
                "быть тем номером, который видит бот (у группы он начинается с -100)"
            ),
        ),
        "unreachable": (
            "no answer from the Bot API at {url} ({said})",
            "Bot API по адресу {url} не отвечает ({said})",
        ),
        "unreachable.fix": (
            (
                "check that this machine can reach {url} (a firewall or a missing proxy blocks "
                "it); if Telegram itself was in trouble, try again later"
            ),
            (
                "проверьте, что эта машина может достучаться до {url} (мешает файрвол или "
                "нужен прокси); если сбой был у самого Telegram, повторите позже"
            ),
        ),
    }
)


def check_telegram(checkup: Checkup) -> Iterator[Finding]:
    """Ask the Bot API about every ``[[notify.telegram]]`` chat; post nothing."""
    for chat in checkup.config.notify.telegram:
        yield _check_chat(chat, checkup)


def _check_chat(chat: TelegramConfig, checkup: Checkup) -> Finding:
    lang = checkup.lang
    subject = _T(lang, "chat", name=chat.name, chat=chat.chat_id)
    bot = TelegramBot(chat, transport=checkup.http)
    secret = checkup.secrets.describe(lang, ("telegram", chat.name, "bot_token"))
    try:
        me = bot.get_me()
    except SendError as exc:
        return _failure(subject, exc, "token", chat, checkup, bot="", secret=secret)
    try:
        title = bot.get_chat()
    except SendError as exc:
        return _failure(subject, exc, "chat.refused", chat, checkup, bot=me, secret=secret)
    return Finding(subject, "ok", _T(lang, "ok", bot=me, title=title))


def _failure(
    subject: str,
    error: SendError,
    refused: str,
    chat: TelegramConfig,
    checkup: Checkup,
    **values: str,
) -> Finding:
    """Say what failed: a refusal (``refused``, with its fix) or no answer at all."""
    lang = checkup.lang
    said = str(error).removeprefix(f"telegram {chat.name}: ")
    if not error.permanent:
        url = chat.api_url
        detail = _T(lang, "unreachable", url=url, said=said)
        return Finding(subject, "fail", detail, fix=_T(lang, "unreachable.fix", url=url))
    fix_key = "token.fix" if refused == "token" else "chat.fix"
    detail = _T(lang, refused, said=said, **values)
    return Finding(subject, "fail", detail, fix=_T(lang, fix_key, **values))
