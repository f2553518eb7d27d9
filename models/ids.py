"""Time-ordered UUIDs (UUIDv7, RFC 9562): globally unique, index-friendly, sortable by creation."""
from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76                       # version 7
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # 12 bits rand_a
    value |= 0b10 << 62                      # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)          # 62 bits rand_b
    return uuid.UUID(int=value)
