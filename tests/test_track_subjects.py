"""Subjects of one conversation normalise to the same text, whatever the mail client did."""

from __future__ import annotations

import pytest

from watchdog.track.subjects import normalize_subject


@pytest.mark.parametrize(
    "subject",
    [
        "Заказ 1234",
        "Re: Заказ 1234",
        "RE: Fwd: заказ 1234",
        "Отв: Заказ 1234",
        "Ответ: Пересл: Заказ  1234",
        "AW: WG: Заказ 1234",
        "SV: Заказ 1234",
        "Re[2]: Заказ 1234",
        "RE(3): Заказ 1234",
        "Re: [#98765] Заказ 1234",
        "[Ticket#2025110310000011] Re: Заказ 1234",
    ],
)
def test_prefixes_and_ticket_tags_do_not_split_a_conversation(subject: str) -> None:
    assert normalize_subject(subject) == "заказ 1234"


def test_a_list_tag_without_a_number_is_kept() -> None:
    assert normalize_subject("Re: [shop] вопрос") == "[shop] вопрос"


def test_a_subject_that_merely_starts_with_re_is_not_cut() -> None:
    assert normalize_subject("Refund for order 12") == "refund for order 12"
    assert normalize_subject("Отвёртка в наличии?") == "отвёртка в наличии?"
