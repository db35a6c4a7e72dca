"""The local stand-in for WeChat's subscribe-message API. The real adapter (wechat_messages.py)
runs unchanged; its HTTP calls are answered in this process with WeChat's shapes and error codes:
`stable_token` (the same token while it is valid, as WeChat's normal mode), and `send`, which
checks the token (40001 unknown, 42001 expired) and every value against its field's rule (47003),
then answers as scripted (`/dev/wechat/messages/outcomes`: ok, 43101, 47003, ERROR), then ok."""
from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable

from .wechat_messages import API, SEND_PATH, STABLE_TOKEN_PATH, Sealer, WeChatMessages

OUTCOMES = ("ok", "43101", "47003", "ERROR")
_ERRORS = {"43101": (43101, "user refuse to accept the msg"), "47003": (47003, "argument invalid! data invalid"),
           "ERROR": (-1, "system error")}
_RULES = {
    "thing": re.compile(r"^.{1,20}$", re.S), "character_string": re.compile(r"^[\x21-\x7e]{1,32}$"),
    "time": re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}|\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}|-)$"),
    "date": re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日|-)$"),
    "amount": re.compile(r"^(\d{1,10}(\.\d{1,2})?元|-)$"), "phrase": re.compile(r"^([\u4e00-\u9fff]{1,5}|-)$"),
    "number": re.compile(r"^(\d{1,32}|-)$"),
}


class _Answer:
    def __init__(self, body: dict[str, Any]) -> None:
        self._body = body
        self.status_code = 200

    def json(self) -> dict[str, Any]:
        return dict(self._body)


def value_breaks_rule(key: str, value: object) -> bool:
    rule = _RULES.get(key.rstrip("0123456789"))
    return rule is None or not isinstance(value, str) or not rule.match(value)


class MessagesPeer:
    """WeChat's side: its tokens, the messages it accepted, and the answers scripted for the next sends."""

    def __init__(self, appid: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._appid, self._secret, self._clock = appid, secret, clock
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}          # token -> expires_at
        self._outcomes: deque[str] = deque()
        self.token_fetches = 0
        self.forced = 0
        self._refused: set[str] = set()             # tokens sends refuse though stable_token still gives them
        self.received: list[dict[str, Any]] = []

    def post(self, url: str, json: Any = None, params: Any = None, **_: Any) -> _Answer:
        path = url[len(API):] if url.startswith(API) else url
        with self._lock:
            if path == STABLE_TOKEN_PATH:
                return _Answer(self._stable_token(dict(json or {})))
            if path == SEND_PATH:
                return _Answer(self._send(str((params or {}).get("access_token") or ""), dict(json or {})))
        return _Answer({"errcode": 40066, "errmsg": "invalid url"})

    def _stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credential" or body.get("appid") != self._appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if body.get("secret") != self._secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        self.token_fetches += 1
        now = self._clock()
        live = [(t, e) for t, e in self._tokens.items() if e > now]
        if live and not body.get("force_refresh"):
            token, expires = live[-1]
        else:
            self.forced += bool(body.get("force_refresh"))
            token, expires = secrets.token_urlsafe(48), now + 7200
            self._tokens = {token: expires}
        return {"access_token": token, "expires_in": int(expires - now)}

    def _send(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        if token not in self._tokens or token in self._refused:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if self._tokens[token] <= self._clock():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        data = body.get("data")
        if not body.get("touser") or not body.get("template_id") or not isinstance(data, dict):
            return {"errcode": 40003, "errmsg": "invalid openid or template"}
        if any(not isinstance(v, dict) or value_breaks_rule(k, v.get("value")) for k, v in data.items()):
            return {"errcode": 47003, "errmsg": "argument invalid! data.value invalid"}
        outcome = self._outcomes.popleft() if self._outcomes else "ok"
        if outcome != "ok":
            code, message = _ERRORS[outcome]
            return {"errcode": code, "errmsg": message}
        self.received.append({"touser": body["touser"], "template_id": body["template_id"],
                              "page": body.get("page", ""), "data": data,
                              "at": datetime.fromtimestamp(self._clock(), timezone.utc).isoformat()})
        return {"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10 ** 12)}

    def set_outcomes(self, outcomes: list[str]) -> None:
        with self._lock:
            self._outcomes = deque(outcomes)

    def expire_tokens(self) -> None:
        """WeChat ends its tokens early (42001 for the next send that uses one)."""
        with self._lock:
            self._tokens = {t: self._clock() for t in self._tokens}

    def refuse_tokens(self) -> None:
        """Sends refuse the tokens given out (40001) while stable_token's normal mode still gives
        them: only a forced token works."""
        with self._lock:
            self._refused |= set(self._tokens)

    def forget_tokens(self) -> None:
        """WeChat no longer knows the tokens given out (40001)."""
        with self._lock:
            self._tokens.clear()


class SandboxMessages(WeChatMessages):
    """The real adapter, speaking to the peer in this process."""

    def __init__(self, appid: str, secret: Callable[[], str], clock: Callable[[], float] = time.time,
                 peer: MessagesPeer | None = None, sealer: Sealer | None = None) -> None:
        self.peer = peer or MessagesPeer(appid, secret(), clock)
        super().__init__(appid, secret, http=self.peer, miniprogram_state="developer", clock=clock, sealer=sealer)
