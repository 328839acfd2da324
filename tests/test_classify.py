"""The decision procedure: which evidence wins, and that doubt resolves to a request.

The mails are written here; see ``watchdog/classify/decide.py`` for the
procedure these tests pin down.
"""

from __future__ import annotations

from typing import get_args

from tests.mail import SHOP, bundled_rules, decide, delivery_report, letter
from watchdog.classify import CATEGORIES, Category, ClassifyContext, FiredRule, classify
from watchdog.classify.decide import decide as decide_fired
from watchdog.ingest.message import Message

TILDA_RELAY = letter(
    "Request details:\n\nName: Анна\nPhone: +7 916 555-12-34\nComment: Здравствуйте! А подскажите, "
    "платье в горошек есть в размере M?\n\nForm Name: Заказать звонок\nhttps://shop-test.ru/",
    frm="Tilda Publishing <robot@tilda.ws>",
    subject="Автоматическое сообщение из формы на сайте shop-test.ru",
    headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
)


def fired(name: str, concludes: str, strength: str = "strong") -> FiredRule:
    return FiredRule(name, concludes, strength, "ru", "en", "test.toml")  # type: ignore[arg-type]


def test_categories_are_exactly_the_seven_of_the_design() -> None:
    assert CATEGORIES == (
        "customer",
        "form",
        "autoreply",
        "bounce",
        "bulk",
        "notification",
        "staff",
    )
    assert set(get_args(Category)) == set(CATEGORIES)


def test_form_relay_with_auto_submitted_and_noreply_sender_is_a_form() -> None:
    decision = decide(TILDA_RELAY)
    assert (decision.category, decision.request) == ("form", True)
    assert "rfc3834-auto-generated" in decision.rule_names  # seen, and outweighed
    assert "tilda-form" in decision.decisive


def test_unknown_form_relay_from_a_robot_with_a_customers_words_is_a_form() -> None:
    raw = letter(
        "Здравствуйте! А подскажите, можно ли забрать заказ сегодня после 19:00?",
        frm="Магазин <noreply@shop-test.ru>",
        subject="Автоматическое сообщение из формы обратной связи",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert decide(raw).category == "form"


def test_human_reply_posted_to_a_mailing_list_stays_bulk() -> None:
    raw = letter(
        "Здравствуйте! Подскажите, кто работает с СДЭК через API? Можно ли считать ПВЗ?",
        frm="Павел Орлов <p.orlov@mail.ru>",
        to="club@googlegroups.com",
        subject="Re: СДЭК",
        headers={"List-Id": "<club.googlegroups.com>", "In-Reply-To": "<a@b>"},
    )
    assert decide(raw).category == "bulk"


def test_a_group_on_our_own_domain_is_not_a_mailing_list() -> None:
    raw = letter(
        "Здравствуйте! Можно ли оплатить при получении?",
        to="support@shop-test.ru",
        headers={"List-Id": "<support.shop-test.ru>"},
    )
    assert decide(raw).category == "customer"


def test_x_auto_response_suppress_alone_is_no_evidence() -> None:
    raw = letter(
        "Hi, I found your shop through Instagram. Do you ship to Germany?",
        frm="Lukas Brenner <lukas.brenner@outlook.com>",
        subject="Shipping to Germany",
        headers={"X-Auto-Response-Suppress": "All", "X-Mailer": "Microsoft Outlook 16.0"},
    )
    decision = decide(raw)
    assert (decision.category, decision.doubt) == ("customer", None)


def test_noreply_looking_sender_alone_does_not_hide_a_customers_question() -> None:
    raw = letter(
        "Здравствуйте, заказ не пришёл. Когда будет доставка?",
        frm="Ирина <noreply@irina-home.ru>",
        subject="Где заказ?",
    )
    decision = decide(raw)
    assert decision.request
    assert decision.doubt is not None and "noreply-sender" in decision.doubt


def test_weak_robot_signs_that_agree_decide() -> None:
    raw = letter(
        "Отправление 80110589234617 вручено адресату.",
        frm="Почта России <noreply@pochta.ru>",
        subject="Отправление 80110589234617 вручено адресату",
        headers={"Precedence": "bulk"},
    )
    assert decide(raw).category == "notification"


def test_broken_message_is_a_request_in_doubt() -> None:
    decision = classify(Message(raw_size=10, broken="no headers"), bundled_rules(), SHOP)
    assert (decision.category, decision.request) == ("customer", True)
    assert decision.doubt and "could not be read" in decision.doubt
    assert "nobody misses it" in decision.summary("en")


def test_bounce_wins_even_though_it_carries_a_customers_text() -> None:
    assert decide(delivery_report()).category == "bounce"


def test_out_of_office_with_precedence_bulk_is_an_autoreply() -> None:
    raw = letter(
        "I'm out of the office until Monday.",
        frm="sarah@linenworks.co.uk",
        subject="Out of office",
        headers={"Auto-Submitted": "auto-replied", "Precedence": "bulk"},
    )
    assert decide(raw).category == "autoreply"


def test_colleagues_forward_of_a_customers_question_is_staff() -> None:
    raw = letter(
        "Дима, глянь остатки.\n\n-------- Пересылаемое сообщение --------\nЗдравствуйте! Есть платье в M?",
        frm="Елена <elena@shop-test.ru>",
        to="sklad@shop-test.ru",
        subject="Fwd: Платье",
    )
    assert decide(raw).category == "staff"


def test_staff_address_on_a_public_provider_counts_as_ours() -> None:
    raw = letter(
        "Аня, я сегодня до пяти.",
        frm="anna.shop@gmail.com",
        to="elena@shop-test.ru",
        subject="График",
    )
    assert decide(raw).category == "staff"


def test_without_our_domains_a_customer_is_never_staff() -> None:
    raw = letter(CUSTOMER := "Здравствуйте! Есть ли доставка в Химки?", frm="r.efremov@yandex.ru")
    assert CUSTOMER and decide(raw, ClassifyContext()).category == "customer"


def test_marketplace_buyer_question_is_a_form_not_a_notification() -> None:
    raw = letter(
        "Покупатель задал вопрос о товаре.\n\nВопрос: Подойдёт для ребёнка?",
        frm="Ozon Seller <noreply@seller.ozon.ru>",
        subject="Новый вопрос о товаре «Плед»",
        headers={"Auto-Submitted": "auto-generated"},
    )
    assert decide(raw).category == "form"


def test_order_status_and_password_mail_are_notifications() -> None:
    shipped = letter(
        "Ваш заказ передан в доставку.",
        frm="noreply@supplier.example.ru",
        subject="Ваш заказ №77 отправлен",
    )
    reset = letter("Код: 1234", frm="no-reply@accounts.example.com", subject="Password reset")
    assert [decide(shipped).category, decide(reset).category] == ["notification", "notification"]


def test_decide_weak_votes_need_one_more_for_each_human_sign() -> None:
    votes = [fired("a", "notification", "weak"), fired("b", "automatic", "weak")]
    assert decide_fired(votes).category == "notification"
    assert decide_fired([*votes, fired("h", "human", "weak")]).category == "customer"


def test_decide_with_nothing_fired_is_a_customer_without_doubt() -> None:
    verdict = decide_fired([])
    assert (verdict.category, verdict.doubt) == ("customer", None)


def test_decide_strong_customer_rule_beats_robot_headers() -> None:
    verdict = decide_fired([fired("vip", "customer"), fired("auto", "notification")])
    assert verdict.category == "customer"


def test_decide_lone_strong_form_signal_is_a_form_in_doubt() -> None:
    verdict = decide_fired(
        [fired("subject", "form-source"), fired("noreply", "notification", "weak")]
    )
    assert verdict.category == "form" and verdict.doubt


def test_decide_strong_robot_evidence_beats_a_lone_form_signal() -> None:
    verdict = decide_fired([fired("subject", "form-source"), fired("auto", "notification")])
    assert verdict.category == "notification"
