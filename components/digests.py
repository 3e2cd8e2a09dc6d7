"""The salted digest a store's state keeps instead of the secret: shared by every store provider."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def digest(salt: str, data: dict[str, Any]) -> str:
    """Salted HMAC of the canonical payload: tells 'changed or not' without keeping the secret."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(bytes.fromhex(salt), canonical, hashlib.sha256).hexdigest()
