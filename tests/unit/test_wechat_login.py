from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib import bootstrap, wiring
from chalicelib.adapters import wechat_login
from chalicelib.adapters.wechat_login import DevLogin, WeChatCode2Session
from chalicelib.domain.errors import InvalidInput, NotAuthenticated


class FakeAnswer(io.BytesIO):
    def __enter__(self) -> "FakeAnswer":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def test_code2session_calls_wechat_and_returns_the_openid(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def urlopen(url: str, timeout: float) -> FakeAnswer:
        seen.append(url)
        return FakeAnswer(json.dumps({"openid": "o-123", "session_key": "never-kept"}).encode())
    monkeypatch.setattr(wechat_login.urllib.request, "urlopen", urlopen)
    assert WeChatCode2Session("wxapp", "s3cret").openid_for("the-code") == "o-123"
    url = urlparse(seen[0])
    assert url.scheme == "https" and url.netloc == "api.weixin.qq.com" and url.path == "/sns/jscode2session"
    assert parse_qs(url.query) == {"appid": ["wxapp"], "secret": ["s3cret"], "js_code": ["the-code"],
                                   "grant_type": ["authorization_code"]}


def test_code2session_errors_are_unauthenticated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wechat_login.urllib.request, "urlopen",
                        lambda url, timeout: FakeAnswer(b'{"errcode": 40029, "errmsg": "invalid code"}'))
    with pytest.raises(NotAuthenticated) as e:
        WeChatCode2Session("wxapp", "s3cret").openid_for("bad")
    assert e.value.code == "INVALID_LOGIN_CODE"


def test_the_dev_stub_exists_only_in_the_local_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DevLogin().openid_for("dev:alice") == "alice"
    with pytest.raises(InvalidInput):
        DevLogin().openid_for("alice")
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("WECHAT_APPID", "wxapp")
    monkeypatch.setenv("WECHAT_APP_SECRET", "c2VjcmV0")
    bootstrap.reset()
    try:
        assert isinstance(wiring._wechat_login(), WeChatCode2Session)
    finally:
        monkeypatch.undo()
        bootstrap.reset()
