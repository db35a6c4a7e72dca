"""WeChat's subscribe messages (订阅消息), sent with the mini-program's access token.

The token comes from `POST /cgi-bin/stable_token` and is valid for `expires_in` (7200 s); WeChat
limits how often it may be fetched, so it is shared: kept in this container's memory and in one
DynamoDB item that every container reads, and fetched again only within REFRESH_BEFORE of its end
(never per message). A send answered 40001/42001 (the token is invalid or has expired) fetches a
token once more and is sent once more. WeChat's normal mode answers the token it holds; only if that
is the very token just refused is one forced (`force_refresh`, which ends the old one for every
caller and which WeChat allows 20 times a day, 30 s apart): at most once per FORCE_EVERY over all
containers, claimed with a conditional write on the shared item."""
from __future__ import annotations

import time
from typing import Any, Callable, Protocol

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.notifications import SendOutcome, SubscribeMessage
from ..service_layer.ports import SendResult
from .dynamo import condition_refused
from .notification_records import NotificationRecord, token_key

API = "https://api.weixin.qq.com"
STABLE_TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/subscribe/send"
REFRESH_BEFORE = 300                 # seconds before its end that a token is fetched again
TOKEN_REFUSED = {40001, 42001}       # invalid credential / access_token expired
FORCE_EVERY = 4500                   # seconds between forced tokens: 19 a day at most, within WeChat's 20
_OUTCOMES = {0: SendOutcome.ACCEPTED, 43101: SendOutcome.NO_SUBSCRIPTION, 47003: SendOutcome.INVALID_VALUE}


class Http(Protocol):
    """What the adapter uses of a `requests.Session`; the local sandbox answers the same calls."""
    def post(self, url: str, **kwargs: Any) -> Any: ...


class Sealer(Protocol):
    """Keeps the stored token unreadable to whoever reads the table (the field cipher)."""
    def encrypt(self, plaintext: str) -> str: ...
    def decrypt(self, token: str) -> str: ...


class TokenUnavailable(Exception):
    """WeChat gave no token (a wrong secret, its limit reached, unreachable)."""


class WeChatMessages:
    def __init__(self, appid: str, secret: Callable[[], str], http: Http | None = None,
                 miniprogram_state: str = "formal", clock: Callable[[], float] = time.time,
                 timeout: float = 5.0, sealer: Sealer | None = None) -> None:
        if http is None:
            import requests
            http = requests.Session()
        self._appid, self._secret, self._http, self._clock, self._timeout = appid, secret, http, clock, timeout
        self._state, self._sealer = miniprogram_state, sealer
        self._memory: tuple[str, float] | None = None       # (token, when to fetch one again)

    def _fresh(self, refresh_at: float) -> bool:
        return self._clock() < refresh_at

    def _stored(self) -> tuple[str, float] | None:
        try:
            record = NotificationRecord.get(*token_key(self._appid), consistent_read=True)
        except DoesNotExist:
            return None
        if not record.token or not record.refresh_at:
            return None
        try:
            token = self._sealer.decrypt(record.token) if self._sealer else record.token
        except Exception:                 # sealed with a key no longer held: fetched again
            return None
        return token, float(record.refresh_at)

    def _fetch(self, force: bool = False) -> tuple[str, float]:
        answer = self._http.post(API + STABLE_TOKEN_PATH, json={
            "grant_type": "client_credential", "appid": self._appid, "secret": self._secret(),
            **({"force_refresh": True} if force else {})}, timeout=self._timeout).json()
        if not answer.get("access_token"):
            raise TokenUnavailable(f"stable_token: {answer.get('errcode')} {answer.get('errmsg')}")
        lasts = int(answer.get("expires_in") or 7200)
        # Fetched early, it is fetched again REFRESH_BEFORE its end; in its last minutes (WeChat's
        # normal mode gives the same token until it ends) it is used until it ends.
        refresh_at = self._clock() + (lasts - REFRESH_BEFORE if lasts > 2 * REFRESH_BEFORE else lasts - 10)
        token = str(answer["access_token"])
        NotificationRecord(*token_key(self._appid)).update(actions=[      # forced_at stays as it is
            NotificationRecord.token.set(self._sealer.encrypt(token) if self._sealer else token),
            NotificationRecord.expires_at.set(int(self._clock() + lasts)),
            NotificationRecord.refresh_at.set(int(refresh_at))])
        return token, refresh_at

    def _may_force(self) -> bool:
        """This container's turn to force a token: none was forced in the last FORCE_EVERY."""
        now = int(self._clock())
        try:
            NotificationRecord(*token_key(self._appid)).update(
                actions=[NotificationRecord.forced_at.set(now)],
                condition=NotificationRecord.forced_at.does_not_exist() | (NotificationRecord.forced_at <= now - FORCE_EVERY))
        except UpdateError as error:
            if condition_refused(error):
                return False
            raise
        return True

    def access_token(self, refused: str | None = None) -> str:
        """The shared token: this container's, else the stored one, else a new one. `refused`
        is a token WeChat just refused: neither copy of it is used again."""
        if self._memory is None or self._memory[0] == refused or not self._fresh(self._memory[1]):
            stored = self._stored()
            if stored and stored[0] != refused and self._fresh(stored[1]):
                self._memory = stored
            else:
                fetched = self._fetch()
                if refused and fetched[0] == refused and self._may_force():
                    fetched = self._fetch(force=True)
                self._memory = fetched
        return self._memory[0]

    def _post(self, token: str, message: SubscribeMessage) -> dict[str, Any]:
        return dict(self._http.post(API + SEND_PATH, params={"access_token": token}, json={
            "touser": message.touser, "template_id": message.template_id, "page": message.page,
            "data": message.data, "miniprogram_state": self._state, "lang": "zh_CN"}, timeout=self._timeout).json())

    def send(self, message: SubscribeMessage) -> SendResult:
        try:
            token = self.access_token()
            answer = self._post(token, message)
            if answer.get("errcode") in TOKEN_REFUSED:
                answer = self._post(self.access_token(refused=token), message)
        except TokenUnavailable as unavailable:
            return SendResult(SendOutcome.ERROR, str(unavailable)[:200])
        except Exception as failed:       # unreachable, not JSON: the message is FAILED, never sent twice
            return SendResult(SendOutcome.ERROR, type(failed).__name__)
        if not isinstance(answer.get("errcode"), int):      # not WeChat's answer: nothing known sent
            return SendResult(SendOutcome.ERROR, f"no errcode in the answer: {str(answer)[:120]}")
        errcode = int(answer["errcode"])
        outcome = _OUTCOMES.get(errcode, SendOutcome.ERROR)
        return SendResult(outcome, None if errcode == 0 else f"{errcode} {answer.get('errmsg', '')}".strip()[:200])
