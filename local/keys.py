"""Every key of the local stack, generated fresh at each start and never written to disk.
Imports nothing of chalicelib: the environment must be complete before the models load."""
from __future__ import annotations

import base64
import json
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def wechatpay_settings() -> tuple[dict[str, str], str]:
    """The merchant's side of WeChat Pay (as a venue would configure it) and, for the sandbox,
    the platform's private key, whose public half the merchant side trusts."""
    merchant = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    settings = {
        "mchid": "1900000109", "appid": "wxlocalsandbox00001", "cert_serial_no": secrets.token_hex(20).upper(),
        "merchant_private_key": _pem(merchant),
        "apiv3_key": "".join(secrets.choice(alphabet) for _ in range(32)),
        "platform_public_key": platform.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "platform_public_key_id": "PUB_KEY_ID_" + secrets.token_hex(16).upper(),
        "notify_url": "http://127.0.0.1/payments/wechat/notify",
    }
    return settings, _pem(platform)


def qr_key_ring(kids: tuple[str, ...] = ("local-1",)) -> str:
    """JSON [{"kid", "key"}] of fresh Ed25519 keys, the first one signing."""
    ring = [{"kid": kid, "key": _b64(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))}
        for kid in kids]
    return json.dumps(ring)


def local_secrets(environ: dict[str, str]) -> dict[str, str]:
    """The keys of a local process: those already in its environment (the end-to-end tests give
    a stack and its negative-control twins the same ones), the rest generated now."""
    return {name: environ.get(name) or value for name, value in generated_secrets().items()}


def generated_secrets() -> dict[str, str]:
    wechatpay, platform_key = wechatpay_settings()
    return {"JWT_SECRET": _b64(secrets.token_bytes(32)), "DATA_KEY": _b64(secrets.token_bytes(32)),
            "QR_SIGNING_KEYS": _b64(qr_key_ring().encode()),
            "WECHATPAY_CONFIG": _b64(json.dumps(wechatpay).encode()),
            "SANDBOX_PLATFORM_PRIVATE_KEY": _b64(platform_key.encode()),
            # the mini-program's AppSecret, a dummy the local subscribe-message sandbox checks
            "WECHAT_APP_SECRET": _b64(secrets.token_hex(16).encode())}
