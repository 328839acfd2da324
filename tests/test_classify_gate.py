"""Rule gates skip only rules that could not match: decisions are those of trying every rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchdog.classify import ClassifyContext, classify, load_rules
from watchdog.classify.decide import decide
from watchdog.classify.gate import LiteralFinder, required_literals
from watchdog.classify.match import Facts
from watchdog.classify.rules import RuleSet
from watchdog.ingest.message import Address, Attachment, Message

BUNDLED = load_rules()
CONTEXT = ClassifyContext(own_domains=frozenset({"shop.test"}), staff=frozenset({"anna@gmail.com"}))


def every_rule_tried(message: Message, rules: RuleSet) -> tuple[str, str, tuple[str, ...]]:
    """The reference: every rule tried, no gate; (category, tier, fired rule names)."""
    facts = Facts(message, CONTEXT, None)
    fired = tuple(rule.fired() for rule in rules.rules if rule.condition(facts))
    verdict = decide(fired)
    return verdict.category, verdict.tier, tuple(rule.name for rule in fired)


def gated(message: Message, rules: RuleSet) -> tuple[str, str, tuple[str, ...]]:
    decision = classify(message, rules, CONTEXT)
    return decision.category, decide(decision.fired).tier, decision.rule_names


# -- messages that make rules fire, and almost fire ---------------------------------

PHRASES = [
    "Здравствуйте! А подскажите, когда будет доставка?", "Sent from my iPhone", "Отправлено с iPhone",
    "Я в отпуске до 10 ноября", "I am out of the office until Monday", "автоматическое уведомление",
    "Это сообщение отправлено автоматически, не отвечайте на него", "Unsubscribe", "отписаться от рассылки",
    "click here", "Имя: Иван\nТелефон: +7 900 000-00-00", "Name: John\nE-mail: j@x.y",
    "This e-mail was sent from a contact form on shop", "Powered by: Elementor", "через форму обратной связи",
    "Вы получили новый заказ от", "please do not reply", "> quoted", "new submission", "",
]  # fmt: skip
SUBJECTS = [
    "Вопрос по заказу 17", "Re: заказ", "Автоответ: в отпуске", "Out of Office: away", "Undeliverable: hi",
    "Заявка с сайта", "Новая заявка", "[orders] list post", "СКИДКИ ДО 50%!!!", "Your order #123 has been shipped",
    "Ваше обращение принято", "Delivery Status Notification (Failure)", "cron <root@srv> job", "payid: 12345",
    "Новое сообщение от покупателя", "Re: [Ticket #5] help", "", "Hi",
]  # fmt: skip
SENDERS = [
    "ivan@mail.ru", "noreply@shop-cms.test", "mailer-daemon@mx.test", "postmaster@mx.test",
    "robot@forms.yandex.ru", "info@tilda.ws", "no-reply@wix.com", "anna@shop.test", "anna@gmail.com",
    "www-data@shop.test", "sale@spam.top", "notifications@github.com", "MAILER-DAEMON@MX.TEST", "",
    "forms-receipts-noreply@google.com", "crm@ours.bitrix24.ru", "x@vk.com",
]  # fmt: skip
HEADERS = [
    "auto-submitted", "precedence", "list-id", "list-unsubscribe", "list-unsubscribe-post", "x-autoreply",
    "feedback-id", "x-mailer", "sender", "errors-to", "x-event_name", "x-bitrix-posting", "x-cron-env",
    "x-github-reason", "x-campaign", "tls-report-domain", "List-Id",
]  # fmt: skip
HEADER_VALUES = [
    "auto-replied", "auto-generated", "bulk", "list", "auto_reply", "junk", "<l.shop.test>", "<l.other.test>",
    "owner-list@lists.test", "Mailchimp", "SALE_NEW_ORDER", "FEEDBACK_FORM", "yes",
]  # fmt: skip
TYPES = [
    "text/plain",
    "text/html",
    "multipart/report",
    "message/delivery-status",
    "text/calendar",
    "application/pdf",
]


def addresses(draw: st.DrawFn, most: int) -> tuple[Address, ...]:
    emails = draw(
        st.lists(st.sampled_from(SENDERS + ["orders@shop.test", "info@shop.test"]), max_size=most)
    )
    return tuple(Address("", email) for email in emails)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    sender = draw(st.sampled_from(SENDERS))
    body = "\n".join(draw(st.lists(st.sampled_from(PHRASES), max_size=4)))
    extra = draw(st.text(alphabet="аоеabc ?:\n>-[]", max_size=20))
    names = draw(st.lists(st.sampled_from(HEADERS), max_size=4))
    headers: dict[str, tuple[str, ...]] = {
        name: (draw(st.sampled_from(HEADER_VALUES)),) for name in names
    }
    types = tuple(draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3)))
    return Message(
        raw_size=1,
        from_=Address(draw(st.sampled_from(["", "Mail Delivery System", "Анна"])), sender)
        if sender
        else None,
        reply_to=addresses(draw, 1),
        to=addresses(draw, 9),
        cc=addresses(draw, 1),
        in_reply_to=draw(st.sampled_from([None, "a@b"])),
        subject=draw(st.sampled_from(SUBJECTS)),
        headers=headers,
        content_type=types[0],
        mime_types=types,
        attachments=tuple(
            Attachment(t, draw(st.sampled_from([None, "a.ics"])), 1) for t in types[1:]
        ),
        text=body + extra,
        full_text=body + extra + draw(st.sampled_from(["", "\nunsubscribe", "\nclick here"])),
        html_only=draw(st.booleans()),
        direction=draw(st.sampled_from(["incoming", "outgoing", "unknown"])),
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_gated_classification_equals_trying_every_rule(message: Message) -> None:
    assert gated(message, BUNDLED) == every_rule_tried(message, BUNDLED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_a_rule_that_matches_is_always_among_the_candidates(message: Message) -> None:
    facts = Facts(message, CONTEXT, None)
    tried = set(BUNDLED.gates.candidates(facts))
    for position, rule in enumerate(BUNDLED.rules):
        if rule.condition(facts):
            assert position in tried, rule.name


def test_a_message_with_no_sign_of_automation_tries_few_rules() -> None:
    plain = Message(
        raw_size=1, from_=Address("", "ivan@mail.ru"), to=(Address("", "orders@shop.test"),),
        subject="Hello", headers={"from": ("ivan@mail.ru",), "subject": ("Hello",)},
        text="Hello there", full_text="Hello there", direction="incoming",
    )  # fmt: skip
    assert len(BUNDLED.gates.candidates(Facts(plain, CONTEXT, None))) < len(BUNDLED.rules) / 3


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("unsubscribe", {"unsubscr"}),  # cut to 8 characters: still rare, cheaper to find
        ("^(abc|de)f", {"abcf", "def"}),
        ("(я |i am )(в отпуске|away)", {"в отпуск", "away"}),  # the longer of two choices
        ("ab?c", {"abc", "ac"}),
        (r"\d+ items", {" items"}),
        ("colou?r", {"colour", "color"}),
        ("[xy]z", {"xz", "yz"}),
        (r"(?i)abc", None),  # case-insensitive: its literals prove nothing
        (r"a*", None),
        (r"\w+@\w+", {"@"}),
    ],
)
def test_required_literals_are_what_every_match_must_contain(
    pattern: str, literals: set[str] | None
) -> None:
    assert required_literals(pattern) == (None if literals is None else frozenset(literals))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdeé ?:[]\n", max_size=30))
def test_every_match_of_a_bundled_regex_contains_one_of_its_literals(text: str) -> None:
    for rule in BUNDLED.rules:
        for need in rule.condition.needs or ():
            if need[0] == "regex":
                found = re.search(need[2], text, re.MULTILINE)
                literals = required_literals(need[2])
                if found and literals:
                    assert any(literal in text for literal in literals), (rule.name, text)


def test_user_rules_with_groups_and_negations_are_gated_soundly(tmp_path: Path) -> None:
    (tmp_path / "shop.toml").write_text(
        """
[[rule]]
name = "wholesale-portal"
concludes = "form"
explain.en = "Our wholesale portal."
explain.ru = "Наш оптовый портал."
match.any = [{ header_equals.x-portal = "yes" }, { subject_regex = 'опт|wholesale' }]
match.none = [{ from_domain = "shop.test" }]

[[rule]]
name = "anything-but-a-list"
concludes = "customer"
explain.en = "Not a list."
explain.ru = "Не рассылка."
match.none = [{ header_present = "list-id" }]
""",
        encoding="utf-8",
    )
    rules = load_rules([tmp_path])
    cases: list[tuple[str, dict[str, tuple[str, ...]]]] = [
        ("Опт", {}),
        ("hi", {"x-portal": ("YES",)}),
        ("hi", {}),
        ("hi", {"list-id": ("x",)}),
    ]
    for subject, headers in cases:
        message = Message(raw_size=1, from_=Address("", "a@b.c"), subject=subject, headers=headers)
        assert gated(message, rules) == every_rule_tried(message, rules)


# -- the literal finder: one scan finds what one ``in`` per literal would ---------

LITERAL_CHARS = "abcаб? .[\\é"
#: Texts in one script or several: the finder leaves out literals of a script a long text lacks.
TEXT_ALPHABETS = ["abc? .[", "аб? .ж", "abcаб? .[é\\X\n", " .?[\n", "é .é"]


@st.composite
def finder_cases(draw: st.DrawFn) -> tuple[dict[str, int], str]:
    literals = draw(
        st.lists(st.text(alphabet=LITERAL_CHARS, min_size=1, max_size=5), min_size=1, max_size=12)
    )
    rules = draw(st.integers(min_value=1, max_value=6))  # several literals share a rule's bit
    masks: dict[str, int] = {}
    for i, literal in enumerate(literals):
        masks[literal] = masks.get(literal, 0) | 1 << (i % rules)
    alphabet = draw(st.sampled_from(TEXT_ALPHABETS))
    return masks, draw(st.text(alphabet=alphabet, max_size=draw(st.sampled_from([8, 60, 400]))))


@settings(max_examples=600, deadline=None)
@given(finder_cases(), st.integers(min_value=0, max_value=7))
def test_the_literal_finder_finds_exactly_the_literals_in_would(
    case: tuple[dict[str, int], str], seen: int
) -> None:
    masks, text = case
    expected = seen
    for literal, mask in masks.items():
        if literal in text:
            expected |= mask
    assert LiteralFinder(masks).find(text, seen) == expected


def test_the_literal_finder_finds_literals_inside_and_across_each_other() -> None:
    masks = {"abcd": 1, "bc": 2, "cde": 4, "ab": 8, "[?": 16, "д.": 32}
    finder = LiteralFinder(masks)
    assert finder.find("xabcdex") == 1 | 2 | 4 | 8
    assert finder.find("abce") == 2 | 8
    assert finder.find("a[?b") == 16
    assert finder.find("код." * 40) == 32  # long, Cyrillic only: the Latin literals left out
    assert finder.find("abcd " * 40) == 1 | 2 | 8  # long, ASCII only: the Cyrillic one left out


def test_a_literal_finder_refuses_an_empty_literal() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        LiteralFinder({"": 1})


def test_rule_sets_do_not_share_the_decisions_they_remember(tmp_path: Path) -> None:
    """A decision is remembered by the positions of the rules that fired, per rule set."""
    verdicts = {}
    for concludes in ("bulk", "notification"):
        folder = tmp_path / concludes
        folder.mkdir()
        (folder / "only.toml").write_text(
            f"""
[[rule]]
name = "robot-subject"
concludes = "{concludes}"
explain.en = "A robot's subject."
explain.ru = "Тема от робота."
match.subject_regex = "robot"
""",
            encoding="utf-8",
        )
        rules = load_rules(bundled=folder)
        message = Message(raw_size=1, from_=Address("", "a@b.c"), subject="From a robot")
        first, again = classify(message, rules, CONTEXT), classify(message, rules, CONTEXT)
        assert first == again
        verdicts[concludes] = first.category
    assert verdicts == {"bulk": "bulk", "notification": "notification"}
