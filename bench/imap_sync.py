"""Measure the IMAP sync against a throwaway Dovecot holding 20,000 messages per mailbox.

    .venv/bin/python bench/imap_sync.py [--messages N] [--mailboxes M]

What it does, and why so:

1. Starts its own Dovecot with the test fixture's machinery
   (``tests/fixtures/dovecot.py``: unprivileged, everything in one temp dir).
2. Writes the messages as Maildir files directly (APPEND of 20,000 messages
   is slow), hard-links the same files into every other mailbox (same mail,
   no extra disk), lets ``doveadm force-resync`` and ``doveadm index`` index
   them, and opens each folder once (see ``warm``).
3. Times a bare imapclient fetch of mailbox 1 (EXAMINE, UID SEARCH ALL,
   ``BODY.PEEK[]<0.N>`` in batches of 250): once to warm up, then twice,
   keeping the faster.
4. Times ``poll_mailbox``'s first sync of mailbox 1 into an empty SQLite
   database, twice. The first is the figure: like a daemon's first poll, it
   starts the worker processes' fork server (the second run, which finds it
   running, is printed too). Then how that time splits, in wall-clock and
   in the polling process's CPU: IMAP reader calls, inserting rows, waiting
   for (and taking) the reads of mail parsed and classified by the worker
   processes (the ingest stage's cost, which the bare fetch does not pay;
   see ``watchdog.sources.ingestpool``), the rest. Then the CPU seconds of
   every process (this one, the workers' reading, Dovecot) for the bare
   fetch and the sync, and what the whole machine used during the sync
   (it includes what those miss: starting the workers, pickling, the
   kernel). On 2 cores, the sync cannot take less than half of that.
5. Brings mailboxes 2..M to "synced" cheaply: their ``folder_sync`` rows are
   seeded from the server's STATUS, as after a first sync (an idle poll reads
   nothing but that state, so the 20,000 message rows do not change its cost).
6. Times an idle poll of all M mailboxes, and counts its IMAP commands.
7. Prints the peak RSS, then stops Dovecot and deletes every temp file.
"""

# Nothing else at the top: see imap_sync_lib's docstring.
if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from imap_sync_lib import main

    main()
