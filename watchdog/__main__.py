"""``python -m watchdog`` runs the same CLI as the ``watchdog`` script."""

from watchdog.cli import main

main()
