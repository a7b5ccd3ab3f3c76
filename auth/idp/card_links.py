"""Which resident a card belongs to, by the card serial's keyed hash.

The identity subgraph owns card links (it stores `hash_serial` of each linked card and re-links
on renewal). The dev IdP does not call it: it derives the same links deterministically from the
shared roster (`demo_card_serial(id, generation=1)` for every resident `has_demo_card` says holds a
card), exactly as identity's seed does, so a card the IdP accepts is the card identity knows.
A renewed card (generation 2) is not linked until re-linked, as in the real process.
"""

from __future__ import annotations

from auth.card_serial import hash_serial
from subgraphs.common.roster import ROSTER, demo_card_serial, has_demo_card


def roster_card_links() -> dict[str, str]:
    """hash_serial(serial) -> resident id."""
    return {hash_serial(demo_card_serial(person.id)): person.id for person in ROSTER if has_demo_card(person)}
