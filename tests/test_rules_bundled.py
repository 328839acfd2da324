"""Every bundled rule fires on a mail written for it, and stays quiet on a near miss.

The mails are written here, not copied from the benchmark corpus, in the
Russian and English a small shop receives. A meta-test fails when a bundled
rule has no example, so a new rule cannot ship untested.
"""

from __future__ import annotations

import pytest

from tests.mail import bundled_rules, decide, delivery_report, letter

CUSTOMER_RU = (
    "Здравствуйте! Подскажите, пожалуйста, можно ли вернуть куртку, если не подошёл размер?"
)
CUSTOMER_EN = "Hi! Do you ship to Germany, and how long does it take?"
NEWS_RU = "Новая коллекция уже на сайте. Скидки на пледы и шарфы.\n\nОтписаться: https://news.example.ru/u/123"

EXAMPLES: dict[str, tuple[bytes, bytes]] = {
    # --- autoreply.toml -----------------------------------------------------
    "rfc3834-auto-replied": (
        letter(
            "I'm away until 10 November.",
            frm="Sarah Quinn <sarah@linenworks.co.uk>",
            subject="Away",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        letter(
            CUSTOMER_EN,
            frm="Sarah Quinn <sarah@linenworks.co.uk>",
            subject="Gift wrapping",
            headers={"Auto-Submitted": "no"},
        ),
    ),
    "autoreply-header": (
        letter(
            "Я в отпуске до 12 января.",
            frm="Наталья <n.fedorova77@mail.ru>",
            subject="Re: Заказ",
            headers={"X-Autoreply": "yes"},
        ),
        letter(
            CUSTOMER_RU,
            frm="Наталья <n.fedorova77@mail.ru>",
            headers={"X-Mailer": "Mail.Ru Mailer 1.0"},
        ),
    ),
    "precedence-auto-reply": (
        letter(
            "Ваше письмо получено.",
            frm="office@metiz-group.ru",
            headers={"Precedence": "auto_reply"},
        ),
        letter(CUSTOMER_RU, frm="office@metiz-group.ru", headers={"Precedence": "normal"}),
    ),
    "autoreply-subject": (
        letter(
            "Hi, I'm on holiday and will reply when I'm back.",
            frm="lukas.brenner@outlook.com",
            subject="Automatic reply: Re: Shipping to Germany",
        ),
        letter(
            CUSTOMER_EN,
            frm="lukas.brenner@outlook.com",
            subject="Re: Automatic reply: Shipping to Germany",
        ),
    ),
    "acknowledgement-subject": (
        letter(
            "Спасибо! Мы ответим в течение дня.",
            frm="support@tkani-opt.ru",
            subject="Ваше обращение №58231 зарегистрировано",
        ),
        letter(
            "Добрый день, ваше обращение зарегистрировано? Ответа нет.",
            frm="client@yandex.ru",
            subject="Обращение по заказу 4493",
        ),
    ),
    "vacation-text-sent-automatically": (
        letter(
            "Здравствуйте!\n\nЯ в отпуске с 10.11 по 21.11. По вопросам оплаты пишите Елене.\n\n"
            "Это сообщение отправлено автоматически.",
            frm="t.ivanova@metiz-group.ru",
            subject="RE: Счёт на оплату",
            headers={"In-Reply-To": "<x@shop-test.ru>"},
        ),
        letter(
            "Я в отпуске до 20-го, можно доставку после? Спасибо.",
            frm="t.ivanova@metiz-group.ru",
            subject="Доставка",
        ),
    ),
    "vacation-text": (
        letter(
            "Я в отпуске до 21 ноября, отвечу позже.",
            frm="t.ivanova@metiz-group.ru",
            subject="Re: Счёт",
        ),
        letter(
            "Была в отпуске, вернулась. Заказ ещё в силе?",
            frm="t.ivanova@metiz-group.ru",
            subject="Заказ",
        ),
    ),
    # --- bounce.toml --------------------------------------------------------
    "dsn-delivery-status-part": (
        delivery_report(),
        delivery_report(
            with_status_part=False, frm="Шоп-тест <info@shop-test.ru>", subject="Отчёт"
        ),
    ),
    "mailer-daemon-sender": (
        letter(
            "Message could not be delivered.", frm="MAILER-DAEMON@mx.example.org", subject="failure"
        ),
        letter(CUSTOMER_EN, frm="daemon.fan@gmail.com", subject="Mailer daemon t-shirt"),
    ),
    "delivery-report-names-failed-recipients": (
        letter(
            "Hi. This is the qmail-send program at mail.example.org.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<lena@example.org>:\n192.0.2.1 does not like recipient.\n"
            "Remote host said: 550 5.1.1 user unknown\n\n--- Below this line is a copy of the message.\n",
            frm="Postmaster <postmaster@mail.example.org>",
            subject="Your mail",
        ),
        letter(
            "Hi postmaster, can you check our SPF record? mail to lena@example.org fails.",
            frm="admin@example.org",
            subject="SPF",
        ),
    ),
    "non-delivery-subject": (
        letter(
            "Ваше сообщение не доставлено адресату lena@list.ru.",
            frm="robot@mx.hosting.ru",
            subject="Недоставленное сообщение",
        ),
        letter(
            "Здравствуйте, доставка не удалась — курьер не приехал. Когда привезут?",
            subject="Доставка не удалась",
        ),
    ),
    "postmaster-delivery-subject": (
        letter(
            "Your message to k@example.jp was not delivered.",
            frm="Postmaster <postmaster@example.jp>",
            subject="DELIVERY FAILURE: User k not listed",
        ),
        letter(
            "Please add our IP to the allow list.",
            frm="Postmaster <postmaster@example.jp>",
            subject="Allow list request",
        ),
    ),
    # --- bulk.toml ----------------------------------------------------------
    "mailing-list-headers": (
        letter(
            "Коллеги, кто подключал СДЭК через API? Как считаете доставку?",
            frm="p.orlov@mail.ru",
            to="shop-owners-club@googlegroups.com",
            subject="СДЭК API",
            headers={"List-Id": "<shop-owners-club.googlegroups.com>"},
        ),
        letter(
            CUSTOMER_RU, to="support@shop-test.ru", headers={"List-Id": "<support.shop-test.ru>"}
        ),
    ),
    "list-manager-sender": (
        letter(
            "Release 2.3 is out.",
            frm="dev@example.org",
            to="announce@lists.example.org",
            subject="Release 2.3",
            headers={"Sender": "owner-announce@lists.example.org"},
        ),
        letter(CUSTOMER_EN, frm="dev@example.org", headers={"Sender": "secretary@example.org"}),
    ),
    "list-tag-names-recipient": (
        letter(
            "Does anyone build it on macOS?",
            frm="j.jiang@gmail.com",
            to="notmuch@notmuchmail.org",
            subject="[notmuch] macOS build",
        ),
        letter(CUSTOMER_RU, subject="[Срочно] Куртка"),
    ),
    "precedence-list": (
        letter("Новая тема в клубе.", frm="club@forum.example.ru", headers={"Precedence": "list"}),
        letter(CUSTOMER_RU, headers={"Precedence": "first-class"}),
    ),
    "precedence-bulk": (
        letter(NEWS_RU, frm="news@brand.example.ru", headers={"Precedence": "bulk"}),
        letter(CUSTOMER_RU, headers={"Precedence": "normal"}),
    ),
    "list-unsubscribe-header": (
        letter(
            NEWS_RU,
            frm="news@brand.example.ru",
            headers={"List-Unsubscribe": "<https://brand.example.ru/u>"},
        ),
        letter(CUSTOMER_RU, headers={"List-Help": "<https://example.ru/help>"}),
    ),
    "one-click-unsubscribe": (
        letter(
            NEWS_RU,
            frm="news@brand.example.ru",
            headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        ),
        letter(CUSTOMER_RU),
    ),
    "feedback-id-header": (
        letter(
            "Your January seller digest.",
            frm="sellers@craftory.market",
            headers={"Feedback-ID": "1:digest:ses:AmazonSES"},
        ),
        letter(CUSTOMER_EN, frm="a.customer@icloud.com"),
    ),
    "mass-mailer-headers": (
        letter(
            "What's new: bulk label printing.",
            frm="nadia@tracktor.app",
            headers={"X-Mailgun-Tag": "newsletter", "X-Mailgun-Batch-Id": "5f1"},
        ),
        letter(CUSTOMER_EN, frm="olivia@icloud.com", headers={"X-Mailgun-Sid": "abc"}),
    ),
    "mass-mailer-software": (
        letter(
            "Добрый день! Мы фулфилмент-оператор. Отписаться: https://s.example/u",
            frm="andrey@fulfill.example.ru",
            headers={"X-Mailer": "Sendsay"},
        ),
        letter(CUSTOMER_RU, headers={"X-Mailer": "iPhone Mail (23A355)"}),
    ),
    "unsubscribe-text": (
        letter(
            "Weekly deals on linen.\n\nUnsubscribe: https://deals.example.com/u/1",
            frm="deals@example.com",
        ),
        letter(
            "Hi! I'm subscribed to your newsletter, could you send me the price list?",
            frm="b.buyer@gmail.com",
        ),
    ),
    "advertising-vocabulary": (
        letter(
            "Special offer for your store! Click here: http://promo.example.top",
            frm="promo@example.net",
            subject="Grow your sales",
        ),
        letter(
            "Hello, I saw your winter collection. Do you have the grey scarf?",
            frm="buyer@gmail.com",
        ),
    ),
    "shouting-subject": (
        letter("Only this week.", frm="promo@example.net", subject="HUGE SALE ON ALL ITEMS NOW"),
        letter(CUSTOMER_RU, subject="Заказ 4490 — где он?"),
    ),
    "many-recipients": (
        letter(
            "Price list attached.",
            frm="seller@example.cn",
            to=", ".join(f"buyer{i}@example{i}.com" for i in range(9)),
        ),
        letter(CUSTOMER_RU, to="info@shop-test.ru, sklad@shop-test.ru"),
    ),
    "hidden-recipients": (
        letter(
            "We manufacture moulds.",
            frm="mould@example.org",
            to=None,
            subject="Design and manufacturing",
        ),
        letter(CUSTOMER_RU, to="info@shop-test.ru"),
    ),
    "reply-to-elsewhere": (
        letter("Software for you.", frm="showcase@gmx.net", headers={"Reply-To": "remv@bk.ru"}),
        letter(
            CUSTOMER_RU, frm="Ирина <irina@mail.ru>", headers={"Reply-To": "Ирина <irina@mail.ru>"}
        ),
    ),
    "disposable-domain-sender": (
        letter("Fly an aircraft carrier!", frm="sim@moneytrack.top", subject="Flight simulator"),
        letter(CUSTOMER_EN, frm="anna@topshop.ru"),
    ),
    # --- customer.toml (signals of a person) --------------------------------
    "person-asks-a-question": (
        letter("Добрый вечер, вы в субботу работаете?", subject="Когда работаете?"),
        letter("Добрый вечер. Заказ получила, всё отлично.", subject="Спасибо"),
    ),
    "sent-from-a-phone": (
        letter("Хочу приехать примерить кроссовки.\n\nОтправлено с iPhone"),
        letter("Хочу приехать примерить кроссовки. Какой у вас iPhone-чехол?\n"),
    ),
    "reply-in-conversation": (
        letter(
            "Тогда давайте бежевый.",
            subject="Re: Уточнение по заказу 4415",
            headers={"In-Reply-To": "<8d2f@shop-test.ru>"},
        ),
        letter("Тогда давайте бежевый.", subject="Re: Уточнение по заказу 4415"),
    ),
    # --- forms.toml ---------------------------------------------------------
    "tilda-form": (
        letter(
            "Request details:\nName: Олег\nPhone: +7 999 812-40-07\nForm Name: Обратный звонок",
            frm="Tilda Publishing <robot@tilda.ws>",
            subject="Заявка с сайта shop-test.ru: Обратный звонок",
        ),
        letter(
            "Ваш сайт продлён до 12.12.2026. Спасибо, что вы с нами.",
            frm="Tilda <team@tilda.cc>",
            subject="Оплата тарифа Tilda Business",
        ),
    ),
    "wix-form": (
        letter(
            "First Name: Hannah\nEmail: hannah@gmx.de\nMessage: Do you offer gift wrapping?",
            frm="Wix Forms <no-reply@crm.wix.com>",
            subject="New Form Submission: Contact Us",
            headers={"Reply-To": "hannah@gmx.de", "Auto-Submitted": "auto-generated"},
        ),
        letter(
            "Your premium plan renews on 1 December.",
            frm="Wix <no-reply@wix.com>",
            subject="Your Premium plan renews soon",
        ),
    ),
    "contact-form-7": (
        letter(
            "От: Ольга <olga@yandex.ru>\nТема: Размеры\n\nСообщение:\nЕсть ли платье в размере 44?\n\n-- \n"
            "This e-mail was sent from a contact form on Шоп-тест (https://shop-test.ru)",
            frm="WordPress <wordpress@shop-test.ru>",
            subject='Шоп-тест "Размеры"',
        ),
        letter(
            "New user registration on your site Шоп-тест:\n\nUsername: olga\nEmail: olga@yandex.ru",
            frm="WordPress <wordpress@shop-test.ru>",
            subject="[Шоп-тест] New User Registration",
        ),
    ),
    "elementor-form": (
        letter(
            "Имя: Денис\nEmail: denis@mail.ru\nСообщение: Есть ли самовывоз?\n\n---\nPage URL: https://shop-test.ru/\n"
            "Powered by: Elementor",
            frm="Шоп-тест <wordpress@shop-test.ru>",
            subject='New message from "Шоп-тест"',
        ),
        letter(
            "Elementor Pro 3.25 is available. Update now.",
            frm="Elementor <news@elementor.com>",
            subject="What's new in Elementor",
        ),
    ),
    "shop-new-order": (
        letter(
            "You’ve received the following order from John Miller:\n\n[Order #10611]\nLinen shirt × 2\n"
            "Note: no paper invoice please.",
            frm="Shop Test <hello@shop-test.ru>",
            subject="[Shop Test]: New order #10611",
            headers={"Reply-To": "j.miller@gmail.com"},
        ),
        letter(
            "Your order #10611 has been shipped.",
            frm="Shop Test <hello@shop-test.ru>",
            to="j.miller@gmail.com",
            subject="Your Shop Test order is on its way",
        ),
    ),
    "bitrix-form": (
        letter(
            "Вам было отправлено сообщение через форму обратной связи\n\nАвтор: Оксана\nE-mail автора: oksana@rambler.ru\n\n"
            "Текст сообщения:\nМожно оплатить при получении?",
            frm="sale@shop-test.ru",
            subject="Шоп-тест: Сообщение из формы обратной связи",
            headers={"X-EVENT_NAME": "FEEDBACK_FORM", "Reply-To": "oksana@rambler.ru"},
        ),
        letter(
            "Зарегистрирован новый пользователь: oksana",
            frm="sale@shop-test.ru",
            to="admin@shop-test.ru",
            subject="Шоп-тест: новый пользователь",
            headers={"X-EVENT_NAME": "NEW_USER"},
        ),
    ),
    "bitrix24-crm-form": (
        letter(
            "Заполнена CRM-форма «Консультация»\nИмя: Пётр\nТелефон: +7 916 000-11-22",
            frm="Битрикс24 <noreply@shoptest.bitrix24.ru>",
            subject="Заполнена CRM-форма «Консультация»",
        ),
        letter(
            "Завтра плановые работы с 02:00 до 04:00.",
            frm="Битрикс24 <noreply@bitrix24.ru>",
            subject="Плановые работы",
        ),
    ),
    "yandex-forms": (
        letter(
            "Имя\nСветлана\n\nВаш вопрос\nМожно вернуть без чека?",
            frm="Яндекс Формы <noreply@forms.yandex.ru>",
            subject="Новый ответ на форму «Обратная связь»",
        ),
        letter(
            "Форма «Обратная связь» опубликована.",
            frm="Яндекс Формы <noreply@forms.yandex.ru>",
            subject="Форма опубликована",
        ),
    ),
    "google-forms": (
        letter(
            "Svetlana submitted a new response to Wholesale enquiry.",
            frm="Google Forms <forms-receipts-noreply@google.com>",
            subject="New response to Wholesale enquiry",
        ),
        letter(
            "Your storage is almost full.",
            frm="Google <no-reply@accounts.google.com>",
            subject="Storage almost full",
        ),
    ),
    "form-service-submission": (
        letter(
            "Someone just submitted your form.\n\nname: Olivia\nmessage: Is the mug dishwasher safe?",
            frm="Formspree <noreply@formspree.io>",
            subject="New submission from shop-test.ru",
            headers={"Reply-To": "olivia@icloud.com"},
        ),
        letter(
            "Your invoice for November is ready.",
            frm="Formspree <billing@formspree.io>",
            subject="Invoice ready",
        ),
    ),
    "amocrm-lead": (
        letter(
            "Новая заявка с сайта: Иван, +7 900 111-22-33",
            frm="amoCRM <noreply@amocrm.ru>",
            subject="Новая заявка: Иван",
        ),
        letter(
            "Оплатите подписку до 30 ноября.",
            frm="amoCRM <noreply@amocrm.ru>",
            subject="Подписка заканчивается",
        ),
    ),
    "chat-widget-offline-message": (
        letter(
            "Посетитель оставил сообщение: «Есть ли доставка в Химки?» Телефон: +7 900 000-00-00",
            frm="Jivo <noreply@jivosite.com>",
            subject="Новое офлайн-сообщение с сайта shop-test.ru",
        ),
        letter("Ваш тариф продлён.", frm="Jivo <noreply@jivosite.com>", subject="Тариф продлён"),
    ),
    "form-subject": (
        letter(
            "Имя: Людмила\nТелефон: 89161234567",
            frm="site@shop-test.ru",
            subject="Автоматическое сообщение из формы обратной связи сайта",
        ),
        letter(CUSTOMER_RU, subject="Вопрос по заказу 4490"),
    ),
    "form-template-text": (
        letter(
            "Посетитель заполнил форму на сайте.\nИмя: Олег",
            frm="site@shop-test.ru",
            subject="Сайт",
        ),
        letter(
            "Я пыталась заполнить форму на сайте, но она не работает. Можно так заказать?",
            frm="lena@mail.ru",
            subject="Форма",
        ),
    ),
    "web-server-sender": (
        letter(
            "Имя: Людмила\nE-mail: lyuda@bk.ru\nСообщение: Когда будут ботинки?",
            frm="www-data <www-data@shop-test.ru>",
            subject="Сайт",
        ),
        letter(CUSTOMER_RU, frm="webinar.fan@gmail.com"),
    ),
    "visitor-fields": (
        letter(
            "Имя: Людмила\nТелефон: 89161234567\nСообщение: Когда будут ботинки 36 размера?",
            frm="www-data@shop-test.ru",
            subject="Сайт",
        ),
        letter(
            "Добрый день!\n\nНужен счёт на юрлицо.\n\nС уважением,\nИванова Татьяна\nтел. +7 (343) 228-90-14",
            frm="t.ivanova@metiz-group.ru",
            subject="Счёт",
        ),
    ),
    # --- marketplaces.toml --------------------------------------------------
    "marketplace-buyer-question": (
        letter(
            "Покупатель задал вопрос о товаре\n\nВопрос: Плед колючий?",
            frm="Ozon Seller <noreply@seller.ozon.ru>",
            subject="Новый вопрос о товаре «Плед шерстяной»",
            headers={"Auto-Submitted": "auto-generated"},
        ),
        letter(
            "Ответ на вопрос опубликован.",
            frm="Ozon Seller <noreply@seller.ozon.ru>",
            subject="Ваш ответ на вопрос опубликован",
            headers={"Auto-Submitted": "auto-generated"},
        ),
    ),
    "marketplace-buyer-message": (
        letter(
            "Покупатель: «Можно забрать сегодня?»",
            frm="Wildberries <noreply@wildberries.ru>",
            subject="Новое сообщение от покупателя по заказу 5567",
        ),
        letter(
            "Заказ 5567 доставлен покупателю.",
            frm="Wildberries <noreply@wildberries.ru>",
            subject="Заказ 5567 доставлен",
        ),
    ),
    "social-network-message": (
        letter(
            "Анна Ковалёва: Здравствуйте, а платье в горошек есть в M?",
            frm="ВКонтакте <admin@notify.vk.com>",
            subject="Новое сообщение в сообществе «Шоп-тест»",
        ),
        letter(
            "2 новых комментария к записи.",
            frm="ВКонтакте <admin@notify.vk.com>",
            subject="У вас 3 новых уведомления ВКонтакте",
        ),
    ),
    # --- notification.toml --------------------------------------------------
    "rfc3834-auto-generated": (
        letter(
            "На аккаунте занято 9,5 ГБ из 10 ГБ.",
            frm="Timeweb <noreply@timeweb.ru>",
            subject="Заканчивается место на диске",
            headers={"Auto-Submitted": "auto-generated"},
        ),
        letter(CUSTOMER_RU, headers={"Auto-Submitted": "no"}),
    ),
    "noreply-sender": (
        letter(
            "Отправление вручено.",
            frm="Почта России <noreply@pochta.ru>",
            subject="Отправление вручено",
        ),
        letter(CUSTOMER_RU, frm="Нора Рэй <nora.ray@mail.ru>"),
    ),
    "sent-automatically-text": (
        letter(
            "Выписка во вложении.\n\nПисьмо сформировано автоматически, отвечать на него не нужно.",
            frm="bank@sberbank.ru",
            subject="Выписка",
        ),
        letter(
            "Письмо от вас не пришло автоматически после заказа. Заказ принят?", subject="Заказ"
        ),
    ),
    "calendar-invitation": (
        letter(
            "Встреча с поставщиком",
            frm="ivan@tkani-opt.ru",
            subject="Приглашение: встреча 12 ноября",
            attachments=[
                (
                    "text/calendar",
                    "invite.ics",
                    b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
                )
            ],
        ),
        letter("Давайте встретимся 12 ноября?", frm="ivan@tkani-opt.ru", subject="Встреча"),
    ),
    "dmarc-or-tls-report": (
        letter(
            "This is an aggregate report from google.com.",
            frm="noreply-dmarc-support@google.com",
            subject="Report domain: shop-test.ru Submitter: google.com Report-ID: 162770",
        ),
        letter(
            "Hi, our DMARC setup fails, could you check the report domain?",
            frm="admin@partner.example",
            subject="Question about DMARC",
        ),
    ),
    "server-job-output": (
        letter(
            "backup ok: shop_wp.sql.gz (48M)",
            frm="root@shop-test.ru",
            to="admin@shop-test.ru",
            subject="Cron <root@shop> /usr/local/bin/backup-db.sh",
        ),
        letter(
            "Дима, бэкап вчера прошёл?",
            frm="elena@shop-test.ru",
            to="admin@shop-test.ru",
            subject="Бэкап",
        ),
    ),
    "account-security-subject": (
        letter(
            "Ваш код: 481516", frm="Госуслуги <no-reply@gosuslugi.ru>", subject="Код подтверждения"
        ),
        letter(
            "Не приходит код подтверждения при оплате, что делать?", subject="Re: не приходит код"
        ),
    ),
    "transaction-status-subject": (
        letter(
            "Ваш заказ №4479 передан в службу доставки.",
            frm="Шоп-тест <noreply@supplier.example.ru>",
            subject="Ваш заказ №4479 отправлен",
        ),
        letter(
            "Здравствуйте, трек-номер не находится. Проверите?",
            subject="Fwd: Ваш заказ №4479 отправлен",
        ),
    ),
    "machine-identifiers-subject": (
        letter(
            "Status: 5 Authorised",
            frm="payments@psp.example.com",
            subject="New order PAYID: 951597484 / status 5",
        ),
        letter(
            "Hi, I paid for order 4412 yesterday, did it arrive?", subject="Payment for order 4412"
        ),
    ),
    "developer-tool-headers": (
        letter(
            "New issue #12: checkout button broken",
            frm="GitHub <notifications@github.com>",
            subject="[shop/site] Checkout button broken (#12)",
            headers={"X-GitHub-Reason": "subscribed"},
        ),
        letter(
            "Hi, I found a bug on your checkout page: the button does nothing. Can you fix it?",
            frm="dev.customer@gmail.com",
            subject="Bug on checkout",
        ),
    ),
    "social-network-digest": (
        letter(
            "В сообществе: 2 новых комментария.",
            frm="ВКонтакте <admin@notify.vk.com>",
            subject="У вас 3 новых уведомления ВКонтакте",
        ),
        letter(
            "Оставила комментарий под постом, ответите?", frm="lena@mail.ru", subject="Комментарий"
        ),
    ),
    # --- staff.toml ---------------------------------------------------------
    "colleague-to-colleague": (
        letter(
            "Дима, глянь остатки по синему платью, M. Клиентка ждёт.",
            frm="Елена <elena@shop-test.ru>",
            to="sklad@shop-test.ru",
            subject="Fwd: Платье синее",
        ),
        letter(
            "Backup finished.", frm="root@shop-test.ru", to="admin@shop-test.ru", subject="backup"
        ),
    ),
    "same-organisation-people": (
        letter(
            "Пётр, пришлите образец к пятнице.",
            frm="sau@metiz-group.ru",
            to="petr@metiz-group.ru",
            subject="Образец",
        ),
        letter(CUSTOMER_RU, frm="jsmith@somenet.foo", to="support@somenet.foo", subject="Ticket"),
    ),
}


def test_every_bundled_rule_has_an_example_and_a_near_miss() -> None:
    names = set(bundled_rules().names())
    assert sorted(names - set(EXAMPLES)) == [], "bundled rules without a test mail"
    assert sorted(set(EXAMPLES) - names) == [], "examples for rules that do not exist"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_fires_on_its_example(name: str) -> None:
    fires, _ = EXAMPLES[name]
    assert name in decide(fires).rule_names


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_stays_quiet_on_its_near_miss(name: str) -> None:
    _, near_miss = EXAMPLES[name]
    assert name not in decide(near_miss).rule_names
