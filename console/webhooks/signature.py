"""Webhook signatures: hex HMAC-SHA256 of the raw body (§16.0), checked in constant time.

The providers disagree on the header (``X-Fansly-Signature``, OnlyFansAPI's ``Signature``,
the assumed APIFansly ``X-Webhook-Signature``) and on a ``sha256=`` prefix (§16.1); all are
accepted. Several secrets may be valid at once so a secret can be rotated without downtime.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Checked in this order; the first one present is the one verified.
SIGNATURE_HEADERS = ("x-fansly-signature", "signature", "x-webhook-signature")
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The lowercase hex HMAC-SHA256 of ``body`` keyed with ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_from(headers: Mapping[str, str]) -> str | None:
    """The signature a delivery carries, without any ``sha256=`` prefix (None if absent)."""
    for name in SIGNATURE_HEADERS:
        value = headers.get(name)
        if value is not None:
            value = value.strip()
            if value[: len(_PREFIX)].lower() == _PREFIX:
                value = value[len(_PREFIX) :]
            return value.lower()
    return None


def verify(body: bytes, signature: str, secrets: Iterable[str]) -> bool:
    """True if ``signature`` is the HMAC of ``body`` under any of ``secrets``.

    Every secret is tried even after a match so the time taken does not say which one matched.
    """
    keys = [secret.encode("utf-8") for secret in secrets]
    return verify_macs(body, signature, keyed_macs(keys))


def keyed_macs(keys: Sequence[bytes]) -> list[Any]:
    """One HMAC-SHA256 state per key, keyed once (the listener keeps them)."""
    return [hmac.new(key, digestmod=hashlib.sha256) for key in keys]


def verify_macs(body: bytes, signature: str, macs: Sequence[Any]) -> bool:
    """:func:`verify` from pre-keyed HMAC states (the listener's hot path).

    A copy of a keyed state skips the key schedule: half of ``hmac.digest``'s time (OpenSSL
    sets a new HMAC context up on every call). The states themselves are never updated.
    """
    given = signature.encode("ascii", errors="replace")
    ok = False
    for keyed in macs:
        mac = keyed.copy()
        mac.update(body)
        # Every key is tried even after a match: the time taken does not say which matched.
        ok |= hmac.compare_digest(mac.hexdigest().encode("ascii"), given)
    return ok


def signed_headers(
    secret: str, body: bytes, *, header: str = "X-Fansly-Signature", prefix: str = ""
) -> dict[str, str]:
    """Headers of a signed delivery (tests, benches, the sandbox's simulator)."""
    return {"Content-Type": "application/json", header: prefix + sign(secret, body)}
