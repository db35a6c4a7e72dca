"""Keys a venue puts into Secrets Manager before the first deploy goes live:
`python -m infra.keys qr` prints a fresh QR signing key ring (JSON) for QrSigningKeysSecret.
To rotate, put a new ring whose first entry is the new key, followed by the old ones."""
from __future__ import annotations

import sys

from local.keys import qr_key_ring

if __name__ == "__main__":
    if sys.argv[1:] != ["qr"]:
        raise SystemExit("usage: python -m infra.keys qr")
    print(qr_key_ring(("qr-1",)))
