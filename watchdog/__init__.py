"""Inbox watchdog: finds the customers nobody answered.

The import package is ``watchdog``; the distribution is ``inbox-watchdog``.
The unrelated PyPI package named ``watchdog`` (file-system events) must never
be installed beside it: both would claim this import name.
"""

__version__ = "0.1.0"
