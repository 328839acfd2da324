"""``watchdog demo``: a week of a small shop's mail, played through the real watchdog in a minute.

- ``week``: the bundled week (``mail/week.toml`` and the files it names);
- ``reader``: that week as a read-only mailbox (a ``MailboxReader``);
- ``clock``: virtual time in steps, paced for a person to watch;
- ``shop``: the demo shop's ``watchdog.toml``;
- ``mailer``: e-mails written to a folder instead of sent;
- ``report`` and ``narrate``: what happened in each step, in words;
- ``run``: ``run_demo(out_dir, pace=..., stream=...)``, all of the above in order.
"""

from __future__ import annotations

from watchdog.demo.run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
