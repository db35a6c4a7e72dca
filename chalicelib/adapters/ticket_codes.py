"""Signed QR payloads that a gate scanner can verify with no network.

Format: ``MM1.<kid>.<payload>.<signature>`` in base64url, the payload a compact JSON of the
ticket id, code, kind, SKU and validity (epoch seconds), the signature Ed25519 over everything
before it. Keys have ids: the first key of the ring signs, all of them verify, so a key can be
rotated without invalidating tickets already issued."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..domain.tickets import QR_PREFIX as PREFIX, QrClaims, Ticket
from . import base64url

MAX_QR_LENGTH = 600


class QrSigner:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        """`keys`: (kid, raw 32-byte Ed25519 private key), the signing key first."""
        if not keys:
            raise ValueError("at least one QR signing key is needed")
        self._private = {kid: Ed25519PrivateKey.from_private_bytes(raw) for kid, raw in keys}
        self._public: dict[str, Ed25519PublicKey] = {kid: k.public_key() for kid, k in self._private.items()}
        self.active_kid = keys[0][0]

    def sign(self, ticket: Ticket) -> str:
        claims = {"t": ticket.ticket_id, "c": ticket.code, "k": ticket.kind.value, "s": ticket.sku_id,
                  "f": int(ticket.valid_from.timestamp()), "u": int(ticket.valid_until.timestamp())}
        head = f"{PREFIX}.{self.active_kid}.{base64url.encode(json.dumps(claims, separators=(',', ':')).encode())}"
        return f"{head}.{base64url.encode(self._private[self.active_kid].sign(head.encode()))}"

    def verify(self, payload: str) -> QrClaims | None:
        """The claims of a genuine payload; None for anything forged, altered or unknown."""
        if len(payload) > MAX_QR_LENGTH:
            return None
        parts = payload.split(".")
        if len(parts) != 4 or parts[0] != PREFIX or parts[1] not in self._public:
            return None
        try:
            self._public[parts[1]].verify(base64url.decode(parts[3]), ".".join(parts[:3]).encode())
            c = json.loads(base64url.decode(parts[2]))
            return QrClaims(ticket_id=str(c["t"]), code=str(c["c"]), kind=str(c["k"]), sku_id=str(c["s"]),
                            valid_from=datetime.fromtimestamp(int(c["f"]), timezone.utc),
                            valid_until=datetime.fromtimestamp(int(c["u"]), timezone.utc))
        except (InvalidSignature, ValueError, KeyError, TypeError):
            return None

    def public_keys(self) -> list[dict[str, str]]:
        return [{"kid": kid, "alg": "Ed25519",
                 "public_key": base64url.encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))}
                for kid, key in self._public.items()]


def render_png(payload: str) -> bytes:
    """The QR image. qrcode (pure Python, PNG through pypng) is imported here, on first use, so
    that importing the app stays light for cold starts."""
    import io

    import qrcode
    from qrcode.image.pure import PyPNGImage

    image = qrcode.make(payload, image_factory=PyPNGImage, border=4, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
