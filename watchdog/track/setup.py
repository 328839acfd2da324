"""The tracking policy taken from the config: deadlines per source, trusted flags, who we are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchdog.classify.setup import identity_from_config
from watchdog.config import Config
from watchdog.sla import deadline
from watchdog.storage.models import Source
from watchdog.track.tracker import TrackPolicy


def source_names(session: Session) -> dict[int, str]:
    """Return every source's row id mapped to its name in the config."""
    return {row[0]: row[1] for row in session.execute(select(Source.id, Source.name))}


def policy_for(config: Config, session: Session) -> TrackPolicy:
    """Build the tracking policy: each source's deadline comes from its own calendar.

    A source no longer in the config (renamed or removed) keeps being tracked
    with the global ``[sla]`` calendar, so its open cases still get deadlines.
    """
    names = source_names(session)
    configured = {source.name for source in config.sources}

    def deadline_for(source_id: int, received_at: datetime) -> datetime:
        name = names.get(source_id)
        sla = config.sla_for(name) if name in configured else config.sla
        return deadline(received_at, sla)

    trusted = frozenset(
        source_id
        for source_id, name in names.items()
        for box in config.mailboxes
        if box.name == name and box.trust_answered_flag
    )
    return TrackPolicy(
        ours=identity_from_config(config), deadline_for=deadline_for, trusted_flag_sources=trusted
    )
