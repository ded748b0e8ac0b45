"""The one place WeChat clients are built.

Every base URL and timeout comes from settings (WECHAT_API_BASE_URL, WECHATPAY_GATEWAY_URL,
WECHAT_TIMEOUT_SECONDS) so tests and the demo can point all of them at a local fake server.
See WECHAT.md for the SDK pitfalls handled here.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3 import core as wechatpay_core
from wechatpy import WeChatClient
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

WECHAT_DEFAULT_HOST = "https://api.weixin.qq.com"


class DjangoCacheStorage(SessionStorage):  # type: ignore[misc]  # wechatpy ships no type hints
    """Token store on Django's cache, for the embedded default (no Redis)."""

    prefix = "wechatpy"

    def get(self, key: str, default: Any = None) -> Any:
        return cache.get(f"{self.prefix}:{key}", default)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        cache.set(f"{self.prefix}:{key}", value, timeout=ttl)

    def delete(self, key: str) -> None:
        cache.delete(f"{self.prefix}:{key}")


class FailOpenStorage(SessionStorage):  # type: ignore[misc]  # wechatpy ships no type hints
    """The Redis token store, answering "no token" while Redis is down: the client then fetches a
    `stable_token` (which does not invalidate the one other processes hold) instead of failing the
    mini-program login or a payment."""

    def __init__(self, inner: SessionStorage):
        self.inner = inner

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self.inner.get(key, default)
        except (redis.ConnectionError, redis.TimeoutError):
            return default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        try:
            self.inner.set(key, value, ttl)
        except (redis.ConnectionError, redis.TimeoutError):
            pass

    def delete(self, key: str) -> None:
        try:
            self.inner.delete(key)
        except (redis.ConnectionError, redis.TimeoutError):
            pass


def token_storage() -> SessionStorage:
    if settings.REDIS_URL:
        return FailOpenStorage(RedisStorage(_redis_client(settings.REDIS_URL), prefix="wechatpy"))
    return DjangoCacheStorage()


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


_token_lock = threading.Lock()


class ZhiquanWeChatClient(WeChatClient):  # type: ignore[misc]  # wechatpy ships no type hints
    """wechatpy's client, re-pointed at WECHAT_API_BASE_URL and fetching tokens from `stable_token`.

    wechatpy hard-codes api.weixin.qq.com in `fetch_access_token` and in each sub-API's
    API_BASE_URL, so both are rewritten here. `stable_token` (unlike `token`) does not invalidate
    the token other processes hold, so several workers can refresh without logging each other out.
    """

    def __init__(self, appid: str, secret: str, *, base_url: str, timeout: float, session: SessionStorage):
        super().__init__(appid, secret, session=session, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.base_url}/cgi-bin/"
        for _name, api in inspect.getmembers(self, lambda obj: isinstance(obj, BaseWeChatAPI)):
            api_base = getattr(type(api), "API_BASE_URL", "") or ""
            if api_base.startswith(WECHAT_DEFAULT_HOST):
                api.API_BASE_URL = self.base_url + api_base[len(WECHAT_DEFAULT_HOST) :]

    def fetch_access_token(self) -> dict[str, Any]:
        lock_key = f"wechat-token-lock:{self.appid}"
        with _token_lock:
            # Another process may be refreshing: wait briefly for its result instead of racing it.
            for _attempt in range(50):
                if cache.add(lock_key, "1", timeout=10):
                    break
                time.sleep(0.1)
                if self._fresh_token():
                    return {"access_token": self.session.get(self.access_token_key)}
            try:
                return self._fetch_stable_token()
            finally:
                cache.delete(lock_key)

    def _fresh_token(self) -> bool:
        expires_at = self.expires_at
        return bool(self.session.get(self.access_token_key) and expires_at and expires_at - time.time() > 60)

    def _fetch_stable_token(self) -> dict[str, Any]:
        res = self._http.post(
            f"{self.base_url}/cgi-bin/stable_token",
            data=json.dumps(
                {
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                    "force_refresh": False,
                }
            ),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        if res.status_code != 200:
            raise WeChatClientException(
                None, f"stable_token HTTP {res.status_code}", client=self, request=res.request, response=res
            )
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(
                result["errcode"], result.get("errmsg", ""), client=self, request=res.request, response=res
            )
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result


def miniprogram_client() -> ZhiquanWeChatClient:
    return ZhiquanWeChatClient(
        settings.WECHAT_MINIPROGRAM_APPID,
        settings.WECHAT_MINIPROGRAM_SECRET,
        base_url=settings.WECHAT_API_BASE_URL,
        timeout=settings.WECHAT_TIMEOUT_SECONDS,
        session=token_storage(),
    )


def official_account_client() -> ZhiquanWeChatClient:
    return ZhiquanWeChatClient(
        settings.WECHAT_MP_APPID,
        settings.WECHAT_MP_SECRET,
        base_url=settings.WECHAT_API_BASE_URL,
        timeout=settings.WECHAT_TIMEOUT_SECONDS,
        session=token_storage(),
    )


def wechatpay_configured() -> bool:
    return all(
        [
            settings.WECHATPAY_MCHID,
            settings.WECHATPAY_APIV3_KEY,
            settings.WECHATPAY_PRIVATE_KEY_PATH,
            settings.WECHATPAY_CERT_SERIAL_NO,
            settings.WECHATPAY_PUBLIC_KEY_PATH,
            settings.WECHATPAY_PUBLIC_KEY_ID,
        ]
    )


class _KeepAliveRequests:
    """Stands in for the `requests` module inside `wechatpayv3.core`, whose calls are `requests.post(…)`
    and the like: each of those opens a new connection (TCP and, to WeChat Pay, a TLS handshake: two or
    three round trips to a server in China) and closes it after one call. The same calls made through
    one `requests.Session` per thread keep the connection to the gateway open between calls.
    """

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._local = threading.local()

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._module.Session()
        return session

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._session().get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._session().post(url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self._session().patch(url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self._session().put(url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self._session().delete(url, **kwargs)

    def __getattr__(self, name: str) -> Any:  # exceptions, codes …: the real module's
        return getattr(self._module, name)


def _keep_wechatpay_connections_alive() -> None:
    if not isinstance(wechatpay_core.requests, _KeepAliveRequests):
        wechatpay_core.requests = _KeepAliveRequests(wechatpay_core.requests)


def wechatpay_client(
    *,
    appid: str | None = None,
    pay_type: WeChatPayType | None = None,
    private_key_pem: str | None = None,
    public_key_pem: str | None = None,
    public_key_id: str | None = None,
    apiv3_key: str | None = None,
    gateway_url: str | None = None,
    mchid: str | None = None,
    cert_serial_no: str | None = None,
) -> WeChatPay:
    """A wechatpayv3 client in public-key mode (no network call on construction).

    Keyword overrides exist for the sandbox channel, which plays WeChat with its own demo keys.
    The SDK returns (status, text) and never raises on 4xx/5xx: callers check the status.
    """
    _keep_wechatpay_connections_alive()
    wxpay = WeChatPay(
        wechatpay_type=pay_type or WeChatPayType.MINIPROG,
        mchid=mchid or settings.WECHATPAY_MCHID,
        private_key=private_key_pem or Path(settings.WECHATPAY_PRIVATE_KEY_PATH).read_text(),
        cert_serial_no=cert_serial_no or settings.WECHATPAY_CERT_SERIAL_NO,
        appid=appid or settings.WECHAT_MINIPROGRAM_APPID,
        apiv3_key=apiv3_key or settings.WECHATPAY_APIV3_KEY,
        notify_url=settings.WECHATPAY_NOTIFY_URL,
        public_key=public_key_pem or Path(settings.WECHATPAY_PUBLIC_KEY_PATH).read_text(),
        public_key_id=public_key_id or settings.WECHATPAY_PUBLIC_KEY_ID,
        timeout=(min(3.0, settings.WECHAT_TIMEOUT_SECONDS), settings.WECHAT_TIMEOUT_SECONDS),
    )
    wxpay._core._gate_way = (gateway_url or settings.WECHATPAY_GATEWAY_URL).rstrip("/")
    return wxpay
