"""Sources: the edges that bring mail in (IMAP mailboxes), read-only, and the sync that stores it."""
