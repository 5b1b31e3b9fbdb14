"""Every board hgqflow can build for, by name (``hgq build --board NAME``)."""

from __future__ import annotations

from boards.icebreaker import ICEBREAKER
from boards.target import BoardTarget
from boards.ulx3s import ULX3S_85F

__all__ = ["BOARDS", "get_board"]

BOARDS: dict[str, BoardTarget] = {t.name: t for t in (ICEBREAKER, ULX3S_85F)}


def get_board(name: str) -> BoardTarget:
    """The target named ``name`` (``ValueError`` listing the known boards otherwise)."""
    try:
        return BOARDS[name]
    except KeyError:
        raise ValueError(f"unknown board {name!r} (known: {', '.join(sorted(BOARDS))})") from None
