"""The WeChat subscribe-message adapter against the in-process sandbox, on moto: the access token
is fetched once and shared (memory, then the DynamoDB item a fresh container reads), refreshed
before it ends, fetched once more on 40001/42001; WeChat's refusals become outcomes."""
from __future__ import annotations

import pytest

from chalicelib import config
from chalicelib.adapters.notification_records import NotificationRecord, token_key
from chalicelib.adapters.wechat_messages import FORCE_EVERY, REFRESH_BEFORE, WeChatMessages
from chalicelib.adapters.wechat_messages_sandbox import MessagesPeer, SandboxMessages
from chalicelib.domain.notifications import Event, SendOutcome, SubscribeMessage, template_data

APPID = config.LOCAL_APPID


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def message(**values: object) -> SubscribeMessage:
    return SubscribeMessage("openid-a", "local-ticket_issued", "pages/tickets/index?order_id=O1",
                            template_data(Event.TICKET_ISSUED, {"thing1": "夜场", "number3": 2, **values}))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def adapter(clock: Clock) -> SandboxMessages:
    return SandboxMessages(APPID, config.wechat_app_secret, clock=clock)


def test_one_token_serves_every_send_and_every_container(adapter: SandboxMessages, clock: Clock) -> None:
    for _ in range(3):
        assert adapter.send(message()).outcome is SendOutcome.ACCEPTED
    assert adapter.peer.token_fetches == 1
    another_container = WeChatMessages(APPID, config.wechat_app_secret, http=adapter.peer, clock=clock)
    assert another_container.send(message()).outcome is SendOutcome.ACCEPTED
    assert adapter.peer.token_fetches == 1
    stored = NotificationRecord.get(*token_key(APPID))
    assert stored.token == adapter.access_token() and stored.expires_at == int(clock.now) + 7200
    assert len(adapter.peer.received) == 4 and adapter.peer.received[0]["touser"] == "openid-a"


def test_the_token_is_fetched_again_five_minutes_before_it_ends(adapter: SandboxMessages, clock: Clock) -> None:
    adapter.send(message())
    clock.now += 7200 - REFRESH_BEFORE - 1
    adapter.send(message())
    assert adapter.peer.token_fetches == 1
    clock.now += 2
    assert adapter.send(message()).outcome is SendOutcome.ACCEPTED
    assert adapter.peer.token_fetches == 2
    adapter.send(message())                 # WeChat gave the same token for its last minutes: used until it ends
    assert adapter.peer.token_fetches == 2


@pytest.mark.parametrize("refuse", ["expire_tokens", "forget_tokens"])
def test_a_refused_token_is_fetched_once_more_and_the_send_retried_once(adapter: SandboxMessages,
                                                                       refuse: str) -> None:
    adapter.send(message())
    getattr(adapter.peer, refuse)()                      # 42001 / 40001 for the token held
    assert adapter.send(message()).outcome is SendOutcome.ACCEPTED
    assert adapter.peer.token_fetches == 2 and len(adapter.peer.received) == 2


def test_refusals_become_outcomes_and_values_are_cut_to_their_rules(adapter: SandboxMessages) -> None:
    adapter.peer.set_outcomes(["43101", "47003", "ERROR"])
    results = [adapter.send(message()) for _ in range(4)]
    assert [r.outcome for r in results] == [SendOutcome.NO_SUBSCRIPTION, SendOutcome.INVALID_VALUE,
                                            SendOutcome.ERROR, SendOutcome.ACCEPTED]
    assert results[0].error and results[0].error.startswith("43101")
    long = adapter.send(message(thing1="国家博物馆古代中国基本陈列特展夜场导览门票"))
    assert long.outcome is SendOutcome.ACCEPTED
    assert len(adapter.peer.received[-1]["data"]["thing1"]["value"]) == 20
    raw = SubscribeMessage("openid-a", "t", "", {"thing1": {"value": "x" * 21}})
    assert adapter.send(raw).outcome is SendOutcome.INVALID_VALUE       # the sandbox holds WeChat's rules


def test_a_wrong_secret_fails_the_send_without_a_token(clock: Clock) -> None:
    peer = MessagesPeer(APPID, config.wechat_app_secret(), clock)
    wrong = WeChatMessages(APPID, lambda: "not-the-secret", http=peer, clock=clock)
    result = wrong.send(message())
    assert result.outcome is SendOutcome.ERROR and "40125" in (result.error or "")


def test_a_token_refused_though_wechat_still_gives_it_is_forced_once_for_every_container(
        adapter: SandboxMessages, clock: Clock) -> None:
    adapter.send(message())
    adapter.peer.refuse_tokens()                         # 40001, and stable_token's normal mode gives it again
    assert adapter.send(message()).outcome is SendOutcome.ACCEPTED
    assert adapter.peer.forced == 1 and len(adapter.peer.received) == 2
    stored = NotificationRecord.get(*token_key(APPID))
    assert stored.forced_at == int(clock.now) and stored.token == adapter.access_token()
    adapter.peer.refuse_tokens()                         # again, minutes later, in another container
    another_container = WeChatMessages(APPID, config.wechat_app_secret, http=adapter.peer, clock=clock)
    clock.now += 60
    refused = another_container.send(message())
    assert refused.outcome is SendOutcome.ERROR and (refused.error or "").startswith("40001")
    assert adapter.peer.forced == 1                      # WeChat's 20 a day are not spent in a loop
    clock.now += FORCE_EVERY
    assert another_container.send(message()).outcome is SendOutcome.ACCEPTED
    assert adapter.peer.forced == 2


def test_an_answer_without_an_errcode_is_no_acceptance(adapter: SandboxMessages, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    adapter.access_token()
    monkeypatch.setattr(adapter, "_post", lambda token, message: {"errmsg": "gateway"})
    result = adapter.send(message())
    assert result.outcome is SendOutcome.ERROR and "no errcode" in (result.error or "")
