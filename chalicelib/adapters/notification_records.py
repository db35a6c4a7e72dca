"""The notifications table: a customer's subscription credits per template
(`credit#<user_id>` / `<template_id>`), an order's messages (`order#<order_id>` / `message#<key>`),
the sessions to remind of by venue day (`reminders#<day>#<shard>` / `<order_id>#<sku_id>`, and
`reminded#<day>` once done), and the WeChat access token every container shares (`token#<appid>` / `-`)."""
from __future__ import annotations

import zlib

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain.notifications import REMINDER_SHARDS
from .dynamo import table_meta


class NotificationRecord(Model):
    Meta = table_meta("notifications")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    credits = NumberAttribute(null=True)            # a credit item: acceptances not yet spent
    openid = UnicodeAttribute(null=True)            # ... and whom its messages go to
    event = UnicodeAttribute(null=True)             # a message item
    template_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)            # absent while its send is under way
    at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    token = UnicodeAttribute(null=True)             # the token item
    expires_at = NumberAttribute(null=True)         # epoch seconds
    refresh_at = NumberAttribute(null=True)         # when a container fetches the next one
    forced_at = NumberAttribute(null=True)          # the last force_refresh (WeChat allows 20 a day)
    expires = TTLAttribute(null=True)               # reminders and their day's marker go after a week


def credit_key(user_id: str) -> str:
    return f"credit#{user_id}"


def order_key(order_id: str) -> str:
    return f"order#{order_id}"


def token_key(appid: str) -> tuple[str, str]:
    return f"token#{appid}", "-"


def reminder_key(day: str, order_id: str) -> str:
    """A day's reminders over REMINDER_SHARDS keys (a release's orders all name one day)."""
    return f"reminders#{day}#{zlib.crc32(order_id.encode()) % REMINDER_SHARDS}"
