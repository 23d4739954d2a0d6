"""For the board: freezing a quarter (`freeze`), and preparing the board packet from a page.
The packet draws every chart with chromium (20-40 s of a core), so it needs a signed-in user (`data.auth`, the viewer role or higher), one is prepared at
a time in a process, the same person waits a little between two, and a packet already made for
the same quarter, figures and data is handed out again instead of being made anew."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from sqlalchemy import Engine

from data import snapshots
from data.auth import Actor, require
from queries.overview import overview

COOLDOWN_S = 60.0
KEPT_PACKETS = 8

_building = threading.Lock()
_last_started: dict[str, float] = {}
_made: OrderedDict[tuple, bytes] = OrderedDict()


def freeze(engine: Engine, quarter: str, note: str = "", actor: Actor | None = None) -> dict:
    """Freeze a quarter for the board: its overview exactly as the page shows it now becomes the
    quarter's next snapshot version (data/snapshots.py)."""
    actor = require(actor, "freeze")
    return snapshots.store(engine, quarter, overview(engine, quarter), note, actor)


class PacketBusy(RuntimeError):
    """A packet cannot be prepared right now; the message says when to try again."""


def prepare_packet(engine: Engine, quarter: str, frozen: bool, actor: Actor | None = None,
                   version: int | None = None) -> bytes:
    """The packet's PDF bytes (see reports.packet.build_packet), for an actor who may;
    `version`: the snapshot version on screen (default: the latest)."""
    from queries.meta import data_version
    from queries.overview import snapshot_versions

    actor = require(actor, "packet")
    versions = snapshot_versions(engine, quarter)
    if frozen and version is None and not versions.empty:
        version = int(versions["version"].max())
    key = (engine.url.render_as_string(hide_password=True), quarter, frozen, data_version(engine),
           version if frozen else None)
    if key in _made:
        _made.move_to_end(key)
        return _made[key]
    waited = time.monotonic() - _last_started.get(actor.name, -COOLDOWN_S)
    if waited < COOLDOWN_S:
        raise PacketBusy(f"You prepared a packet a moment ago. Try again in {int(COOLDOWN_S - waited) + 1} seconds.")
    if not _building.acquire(blocking=False):
        raise PacketBusy("Another board packet is being prepared. Try again in a minute.")
    try:
        _last_started[actor.name] = time.monotonic()
        from reports.packet import build_packet

        pdf = build_packet(engine, quarter, frozen=frozen, version=version if frozen and not versions.empty else None)
    finally:
        _building.release()
    _made[key] = pdf
    while len(_made) > KEPT_PACKETS:
        _made.popitem(last=False)
    return pdf
