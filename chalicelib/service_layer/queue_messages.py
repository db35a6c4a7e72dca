"""The back-office queue's message types: `adapters.messaging` writes one as a message's `type`,
and `api.events` hands each message to the handler its type names. Both take the names from here,
so that neither can go on sending or listening for a name the other no longer uses."""
from __future__ import annotations

from enum import StrEnum


class MessageType(StrEnum):
    STOCK_CHANGED = "stock_changed"      # SKUs whose stock moved: check them against their threshold
    STOCK_HOT = "stock_hot"              # SKUs whose one stock item was throttled: split them
    CODE_REDEEMED = "code_redeemed"      # an order one of whose codes was used: complete it once all are
    ALERT = "alert"                      # an operational alert to keep and send
    SESSION_CANCELLATION = "session_cancellation"   # the next step of a cancelled session's work
