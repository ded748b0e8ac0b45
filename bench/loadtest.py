"""Load-test helpers: run gunicorn with the production settings on loopback and drive it with wrk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT

PORT = int(os.environ.get("BENCH_PORT", "8077"))
BASE = f"http://127.0.0.1:{PORT}"


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings with throwaway secrets, plain HTTP on loopback and no throttling."""
    keys = ROOT / "var" / "bench-keys"
    keys.mkdir(parents=True, exist_ok=True)
    for name in ("merchant.pem", "platform.pem"):
        if not (keys / name).exists():
            from payments.gateways.protocol import generate_keypair

            pair = generate_keypair()
            (keys / name).write_text(pair.private_pem if name == "merchant.pem" else pair.public_pem)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789",
            "JWT_SIGNING_KEY": "bench-jwt-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "FIELD_ENCRYPTION_KEY": "test-field-encryption-key",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": "https://bench.zhiquan.local",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "BENCHMARK_ENDPOINTS": "true",
            "LOG_LEVEL": "WARNING",
            "WECHATPAY_MCHID": "1900000001",
            "WECHATPAY_APIV3_KEY": "0123456789abcdefghijklmnopqrstuv",
            "WECHATPAY_PRIVATE_KEY_PATH": str(keys / "merchant.pem"),
            "WECHATPAY_CERT_SERIAL_NO": "BENCH",
            "WECHATPAY_PUBLIC_KEY_PATH": str(keys / "platform.pem"),
            "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_BENCH",
            "WECHAT_MINIPROGRAM_APPID": "wx_bench",
            "WECHAT_MINIPROGRAM_SECRET": "bench",
            "PAYMENTS_SANDBOX_ENABLED": "false",
            **{
                f"THROTTLE_{scope}": "10000000/min"
                for scope in ("ANON", "USER", "LOGIN", "SMS", "REFUND", "WITHDRAWAL", "NOTIFY")
            },
        }
    )
    return env


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int | None = None):
        self.env = env
        self.workers = workers or (os.cpu_count() or 2)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
                "--keep-alive",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{BASE}/healthz", timeout=1)  # noqa: S310 - loopback only
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class WrkResult:
    name: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    requests: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 1.0


def wrk(
    name: str,
    path: str,
    *,
    seconds: int = 8,
    connections: int = 8,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    method: str | None = None,
    body: dict | None = None,
) -> WrkResult:
    """Loopback only: BASE is 127.0.0.1 and wrk stops after `seconds`."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (scripts/bench.sh installs it with apt)")
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(ROOT / "bench" / "wrk_report.lua"),
    ]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    env = dict(os.environ)
    if method:
        env["WRK_METHOD"] = method
        env["WRK_BODY"] = json.dumps(body or {})
    output = subprocess.run(
        [*args, BASE + path], capture_output=True, text=True, env=env, timeout=seconds + 30
    ).stdout
    line = next((row for row in output.splitlines() if row.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk produced no report for {path}: {output[-500:]}")
    data = json.loads(line[len("WRKJSON ") :])
    duration = data["duration_us"] / 1e6
    return WrkResult(
        name,
        data["requests"] / duration,
        data["p50_us"] / 1000,
        data["p95_us"] / 1000,
        data["p99_us"] / 1000,
        data["errors"],
        data["requests"],
    )


def status_of(
    path: str, headers: dict[str, str] | None = None, method: str = "GET", body: dict | None = None
) -> int:
    request = urllib.request.Request(
        BASE + path,
        method=method,
        headers=headers or {},
        data=json.dumps(body).encode() if body is not None else None,
    )
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def root_path() -> Path:
    return ROOT
