"""Who is acting.

Every workflow that changes the election takes an :class:`Actor`: the shell that calls it
has authenticated them (the command line from ``--actor``, ``$CANVASS_ACTOR`` or the login
name; the web application from the signed-in account), and the workflow records the name
in the entries it writes. Where a change must be signed by a person (a motion, a vote, a
certificate of ascertainment), the signature travels with the call; the application never
holds a person's private key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    """The name entries record as their ``actor``: a registered key name for a signer."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an actor has a name")
