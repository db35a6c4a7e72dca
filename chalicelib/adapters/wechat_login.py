"""WeChat mini-program login (code2session): the code from wx.login becomes an openid."""
from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from ..domain.error_codes import ErrorCode
from ..domain.errors import InvalidInput, NotAuthenticated

_DEV_CODE = re.compile(r"^dev:([A-Za-z0-9_-]{1,64})$")


class WeChatCode2Session:
    """The real call, made in deployed stages. The session_key WeChat returns is neither
    stored nor logged: nothing here needs it yet."""
    URL = "https://api.weixin.qq.com/sns/jscode2session"

    def __init__(self, appid: str, secret: str, timeout: float = 5.0) -> None:
        self._appid, self._secret, self._timeout = appid, secret, timeout

    def openid_for(self, code: str) -> str:
        query = urllib.parse.urlencode({"appid": self._appid, "secret": self._secret, "js_code": code,
                                        "grant_type": "authorization_code"})
        with urllib.request.urlopen(f"{self.URL}?{query}", timeout=self._timeout) as response:  # noqa: S310
            answer = json.loads(response.read().decode())
        if answer.get("errcode") or not answer.get("openid"):
            raise NotAuthenticated("WeChat did not accept the login code", code=ErrorCode.INVALID_LOGIN_CODE,
                                   wechat_errcode=answer.get("errcode"))
        return str(answer["openid"])


class DevLogin:
    """Local stage only: `dev:<openid>` logs in as that openid, so tests can be many customers."""

    def openid_for(self, code: str) -> str:
        match = _DEV_CODE.match(code)
        if not match:
            raise InvalidInput("local login codes look like dev:<openid>", field="code")
        return match.group(1)
