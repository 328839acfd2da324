"""``watchdog doctor``: check the config and everything it points at, in plain words."""

from __future__ import annotations

import typer

from watchdog.cli.common import load_or_exit
from watchdog.cli.exits import RET_FAILED, RET_OK
from watchdog.doctor import diagnose


def doctor_command(ctx: typer.Context) -> None:
    """Check the config and the database, and say what is wrong.

    Exit 0 when all is well, 1 when something needs attention, 2 when the
    config itself is wrong (each problem on its own line).
    """
    config = load_or_exit(ctx)
    findings = diagnose(config)
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        typer.echo(f"{mark} {finding.subject}: {finding.detail}")
    raise typer.Exit(RET_OK if all(f.ok for f in findings) else RET_FAILED)
