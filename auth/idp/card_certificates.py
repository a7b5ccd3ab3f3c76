"""Simulated My Number Card authentication certificates (dev tooling, `cryptography` only).

A real card holds a 利用者証明用電子証明書 issued by J-LIS, readable without a PIN, whose serial
changes on every renewal. Here a dev "card authority" (a self-signed CA kept under var/) issues
one certificate per demo resident with a deterministic serial (`roster.demo_card_serial`), and a
private key that stands in for the card's chip. The certificate names no person.

The IdP accepts a tap only if the certificate was issued by that authority, is within its
validity, and the reader proves possession of the card key by signing a fresh challenge.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

MAX_CERTIFICATE_BYTES = 8 * 1024
CARD_VALIDITY = dt.timedelta(days=5 * 365)


class CardError(ValueError):
    """A presented card could not be accepted; the message is safe to show."""


@dataclass(frozen=True)
class CardAuthority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True)
class DemoCard:
    certificate_pem: str
    private_key: rsa.RSAPrivateKey

    @property
    def serial(self) -> str:
        return format(x509.load_pem_x509_certificate(self.certificate_pem.encode()).serial_number, "x")

    def sign_challenge(self, challenge: str) -> bytes:
        """What the card's chip does when the reader asks it to authenticate."""
        return self.private_key.sign(challenge.encode(), padding.PKCS1v15(), hashes.SHA256())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def create_card_authority() -> CardAuthority:
    key = _new_key()
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kyodo dev"),
        x509.NameAttribute(NameOID.COMMON_NAME, "kyodo simulated card authority (not J-LIS)"),
    ])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CardAuthority(key, certificate)


def load_or_create_card_authority(directory: str | Path) -> CardAuthority:
    """The dev card authority under `directory` (card-ca-key.pem mode 0600, card-ca.pem)."""
    directory = Path(directory)
    key_path, cert_path = directory / "card-ca-key.pem", directory / "card-ca.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} is not an RSA key")
        return CardAuthority(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))
    authority = create_card_authority()
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(authority.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))
    cert_path.write_bytes(authority.certificate.public_bytes(serialization.Encoding.PEM))
    return authority


def issue_card(authority: CardAuthority, serial_hex: str, *, not_before: dt.datetime | None = None,
               validity: dt.timedelta = CARD_VALIDITY) -> DemoCard:
    key = _new_key()
    start = not_before or (_now() - dt.timedelta(days=1))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simulated card holder")]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(int(serial_hex, 16))
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .sign(authority.key, hashes.SHA256())
    )
    return DemoCard(certificate.public_bytes(serialization.Encoding.PEM).decode(), key)


def demo_card_for(authority: CardAuthority, person_id: str, generation: int = 1) -> DemoCard:
    """The simulated card of a roster resident (generation 2 = after renewal: a new serial)."""
    from subgraphs.common.roster import demo_card_serial

    return issue_card(authority, demo_card_serial(person_id, generation))


def read_tapped_card(authority: CardAuthority, certificate_pem: str, challenge: str, signature: bytes) -> str:
    """Check a tapped card and return its certificate serial (lower-case hex)."""
    if len(certificate_pem) > MAX_CERTIFICATE_BYTES:
        raise CardError("the card certificate is too large")
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        raise CardError("the card certificate is not a PEM X.509 certificate") from None
    try:
        certificate.verify_directly_issued_by(authority.certificate)
    except (ValueError, TypeError, InvalidSignature):
        raise CardError("the card certificate was not issued by the trusted card authority") from None
    now = _now()
    if not (certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc):
        raise CardError("the card certificate is not valid now (expired or not yet valid)")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CardError("the card certificate has an unsupported key type")
    try:
        public_key.verify(signature, challenge.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise CardError("the card did not prove possession of its key (bad challenge signature)") from None
    return format(certificate.serial_number, "x")
