"""Card + PIN sign-in at the dev IdP (`urn:kyodo:params:oauth:grant-type:card-pin`), acr "card-pin".

On a real My Number Card the 利用者証明用電子証明書 signs only after its 4-digit PIN was entered at the reader;
the chip counts wrong PINs and locks after three. The simulated card cannot do that, so this grant stands in
for the chip: the reader posts the tap (certificate, challenge, signature: `CardTapGrant`) plus the PIN the
person typed, the IdP compares it with the demo card's PIN (`roster.demo_card_pin`) and locks the card after
`MAX_WRONG_PINS` wrong ones. The result is a sign-in one level above a plain tap: acr "card-pin", amr sc+pin.
The early-voting declaration (identity) accepts only this level.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time

import httpx
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError

from auth.idp.card_certificates import DemoCard
from auth.idp.clients import CARD_PIN_GRANT
from auth.idp.directory import SignedInUser
from auth.idp.grants import CardTapGrant
from subgraphs.common.roster import demo_card_pin

CARD_PIN_ACR = "card-pin"
MAX_WRONG_PINS = 3   # as the card's chip: the 利用者証明用 PIN locks after three wrong entries


class PinCounter:
    """Wrong PINs per card holder; a locked card stays locked for this IdP's lifetime (a real one needs the
    municipal office to reset it)."""

    def __init__(self) -> None:
        self._wrong: dict[str, int] = {}
        self._lock = threading.Lock()

    def locked(self, holder: str) -> bool:
        with self._lock:
            return self._wrong.get(holder, 0) >= MAX_WRONG_PINS

    def wrong(self, holder: str) -> int:
        """Count one wrong PIN; returns the tries left."""
        with self._lock:
            self._wrong[holder] = self._wrong.get(holder, 0) + 1
            return max(0, MAX_WRONG_PINS - self._wrong[holder])

    def right(self, holder: str) -> None:
        with self._lock:
            self._wrong.pop(holder, None)


class CardPinGrant(CardTapGrant):
    GRANT_TYPE = CARD_PIN_GRANT

    def validate_token_request(self) -> None:
        pin = self.request.form.get("pin") or ""
        if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
            raise InvalidRequestError("A card + PIN sign-in needs 'pin': the card's 4-digit PIN.")
        super().validate_token_request()          # the tap itself: client, challenge, certificate, signature
        tapped: SignedInUser = self.request.user
        holder = tapped.account.sub
        counter: PinCounter = pin_counter(self.server)
        if counter.locked(holder):
            raise InvalidGrantError("This card's PIN is locked after too many wrong entries.")
        if not secrets.compare_digest(pin.encode(), demo_card_pin(holder).encode()):
            left = counter.wrong(holder)
            raise InvalidGrantError(f"Wrong PIN ({left} tries left before the card locks).")
        counter.right(holder)
        self.request.user = SignedInUser(tapped.account, CARD_PIN_ACR, ("sc", "pin"), int(time.time()))


def pin_counter(server) -> PinCounter:  # noqa: ANN001 - KyodoAuthorizationServer
    counter = getattr(server, "card_pin_counter", None)
    if counter is None:
        counter = server.card_pin_counter = PinCounter()
    return counter


async def tap_card_with_pin(client: httpx.AsyncClient, issuer: str, card: DemoCard, pin: str, *,
                            reader_secret: str = "kyodo-card-reader-dev-secret",
                            scope: str = "openid") -> httpx.Response:
    """What a counter terminal does for a card + PIN sign-in (the simulated reader, as `card_reader.tap_card`)."""
    from auth.idp.card_reader import READER_CLIENT_ID

    reader = (READER_CLIENT_ID, reader_secret)
    answer = await client.post(f"{issuer}/card/challenge", auth=reader)   # challenges are the reader's alone
    if answer.status_code != 200:
        return answer     # e.g. 401 for a wrong reader secret, 429 when rate-limited
    challenge = answer.json()["challenge"]
    signature = base64.urlsafe_b64encode(card.sign_challenge(challenge)).rstrip(b"=").decode()
    return await client.post(f"{issuer}/token", data={
        "grant_type": CARD_PIN_GRANT, "certificate": card.certificate_pem, "challenge": challenge,
        "signature": signature, "pin": pin, "scope": scope}, auth=reader)
