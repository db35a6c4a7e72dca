"""Review of the subscribe messages (订阅消息) through the app on moto: POST /me/subscriptions
cannot mint credits without end, however often a customer calls it."""
from __future__ import annotations

from chalicelib.domain.notifications import MAX_CREDITS

from .test_notifications_api import TICKETS, credits


def test_calling_again_and_again_mints_no_more_than_the_cap(customer) -> None:  # type: ignore[no-untyped-def]
    alice = customer("alice-openid")
    for _ in range(MAX_CREDITS // 10 + 2):
        counts = credits(alice, *[TICKETS] * 10)
    assert counts == {TICKETS: MAX_CREDITS}
    assert credits(alice) == {} and credits(alice, TICKETS) == {TICKETS: MAX_CREDITS}
