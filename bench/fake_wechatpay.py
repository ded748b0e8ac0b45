"""The test suite's fake WeChat (tests/fakes/wechat.py) as a standalone loopback server for load tests.

    .venv/bin/python -m bench.fake_wechatpay --port 8078 --keys var/bench-keys

Production settings refuse the sandbox channel, so the order benchmark pays through the real WeChat
Pay gateway code (wechatpayv3: the merchant RSA signature on every request, the platform signature
verified on every response, the RSA `paySign` for wx.requestPayment) against this server. It checks
each request's merchant signature exactly as WeChat does (401 SIGN_ERROR otherwise) and signs its
answers with the platform key. It runs as its own process so its work is not counted in gunicorn's,
but it shares the machine's cores with everything else: the order figures include that cost.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class _LoopbackServer:
    """What FakeWeChat needs from pytest-httpserver: a catch-all handler and url_for()."""

    def __init__(self, port: int):
        self.port = port
        self.handler = None

    def expect_request(self, *args, **kwargs):
        return self

    def respond_with_handler(self, handler) -> None:
        self.handler = handler

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def keys_in(directory: Path):
    """The bench key pairs (written by bench.loadtest.bench_keys) as the fake's WeChatPayKeys."""
    from payments.gateways.protocol import KeyPair
    from tests.fakes.wechat import WeChatPayKeys

    def pair(name: str) -> KeyPair:
        return KeyPair(
            private_pem=(directory / f"{name}_private.pem").read_text(),
            public_pem=(directory / f"{name}_public.pem").read_text(),
        )

    return WeChatPayKeys(
        merchant=pair("merchant"),
        platform=pair("platform"),
        mchid=os.environ.get("WECHATPAY_MCHID", "1900000001"),
        serial_no=os.environ.get("WECHATPAY_CERT_SERIAL_NO", "BENCH"),
        public_key_id=os.environ.get("WECHATPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_BENCH"),
        apiv3_key=os.environ.get("WECHATPAY_APIV3_KEY", "0123456789abcdefghijklmnopqrstuv"),
        directory=directory,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from werkzeug import Request
    from werkzeug.serving import WSGIRequestHandler, make_server

    from tests.fakes.wechat import FakeWeChat

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = _LoopbackServer(args.port)
    fake = FakeWeChat(httpserver=server, keys=keys_in(args.keys), appid="wx_bench", secret="bench")
    fake.install()

    @Request.application
    def application(request):
        response = server.handler(request)
        fake.calls.clear()  # the fake keeps a call log for tests; a load test would grow it forever
        if len(fake.transactions) > 50_000:
            fake.transactions.clear()
        return response

    class Handler(WSGIRequestHandler):
        # werkzeug writes the head and the body in separate sends: without TCP_NODELAY, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every answer — a cost of the fake, not
        # of WeChat or of our code.
        disable_nagle_algorithm = True

    make_server("127.0.0.1", args.port, application, threaded=True, request_handler=Handler).serve_forever()


if __name__ == "__main__":
    main()
