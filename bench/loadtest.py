"""Load-test helpers: gunicorn with the production settings on loopback, a fake WeChat Pay gateway, wrk.

Everything listens on 127.0.0.1 only. `production_env` is config.settings.prod with throwaway secrets,
plain HTTP (no TLS terminator in front on loopback), throttle rates high enough never to refuse (the
throttles still run: they cost a Redis round trip or two per request) and WeChat Pay pointed at the
local fake (`bench.fake_wechatpay`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import ROOT

PORT = int(os.environ.get("BENCH_PORT", "8077"))
GATEWAY_PORT = int(os.environ.get("BENCH_GATEWAY_PORT", "8078"))
BASE = f"http://127.0.0.1:{PORT}"
KEYS = ROOT / "var" / "bench-keys"
LOGS = ROOT / "var" / "bench"


def bench_keys() -> Path:
    """Merchant and platform RSA key pairs for the run (both halves: the fake needs the other side)."""
    KEYS.mkdir(parents=True, exist_ok=True)
    from payments.gateways.protocol import generate_keypair

    for name in ("merchant", "platform"):
        if not (KEYS / f"{name}_private.pem").exists():
            pair = generate_keypair()
            (KEYS / f"{name}_private.pem").write_text(pair.private_pem)
            (KEYS / f"{name}_public.pem").write_text(pair.public_pem)
    return KEYS


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings with throwaway secrets, plain HTTP on loopback and no throttling refusals."""
    keys = bench_keys()
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
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "WECHATPAY_MCHID": "1900000001",
            "WECHATPAY_APIV3_KEY": "0123456789abcdefghijklmnopqrstuv",
            "WECHATPAY_PRIVATE_KEY_PATH": str(keys / "merchant_private.pem"),
            "WECHATPAY_CERT_SERIAL_NO": "BENCH",
            "WECHATPAY_PUBLIC_KEY_PATH": str(keys / "platform_public.pem"),
            "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_BENCH",
            "WECHATPAY_GATEWAY_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
            "WECHAT_API_BASE_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
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


def production_python(env: dict[str, str], code: str, stdin: str = "") -> str:
    """Run `code` in a fresh interpreter with `env` (e.g. the production settings); return its stdout."""
    prelude = "import django\ndjango.setup()\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"production_python failed: {done.stderr[-2000:]}")
    return done.stdout


def access_tokens(env: dict[str, str], user_ids: list[int]) -> dict[int, str]:
    """JWT access tokens signed with the production settings' key (what the mini-program sends)."""
    out = production_python(
        env,
        "import json, sys\n"
        "from rest_framework_simplejwt.tokens import AccessToken\n"
        "from members.models import User\n"
        "ids = json.load(sys.stdin)\n"
        "users = User.objects.in_bulk(ids)\n"
        "print(json.dumps({i: str(AccessToken.for_user(users[i])) for i in ids}))\n",
        stdin=json.dumps(user_ids),
    )
    return {int(k): v for k, v in json.loads(out.strip().splitlines()[-1]).items()}


class _Process:
    """A child process that listens on a loopback port; stopped by its own pid on exit."""

    name = "process"

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.log = None

    def _start(self, args: list[str], env: dict[str, str], ready_url: str) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = open(LOGS / f"{self.name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                urllib.request.urlopen(ready_url, timeout=1)  # noqa: S310 - loopback only
                return
            except urllib.error.HTTPError:
                return  # it answers: up
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {LOGS / (self.name + '.log')}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.log:
            self.log.close()
            self.log = None

    def __exit__(self, *exc) -> None:
        self.stop()


class Gunicorn(_Process):
    """gunicorn config.wsgi as in the Dockerfile (sync workers, 2 per core), on loopback."""

    name = "gunicorn"

    def __init__(self, env: dict[str, str], workers: int | None = None):
        super().__init__()
        self.env = env
        self.workers = workers or 2 * (os.cpu_count() or 1)

    def __enter__(self) -> Gunicorn:
        self._start(
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
                "--backlog",
                "2048",
            ],
            self.env,
            f"{BASE}/healthz",
        )
        return self


class FakeGateway(_Process):
    """bench.fake_wechatpay on GATEWAY_PORT: WeChat Pay v3 as the test suite fakes it (signatures and all)."""

    name = "fake-wechatpay"

    def __init__(self, env: dict[str, str]):
        super().__init__()
        self.env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    def __enter__(self) -> FakeGateway:
        self._start(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "bench.fake_wechatpay",
                "--port",
                str(GATEWAY_PORT),
                "--keys",
                str(bench_keys()),
            ],
            self.env,
            f"http://127.0.0.1:{GATEWAY_PORT}/healthz",
        )
        return self


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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    """Requests to rotate over: (method, path, bearer token, JSON body)."""

    rows: list[tuple[str, str, str, str]]

    @classmethod
    def get(cls, paths: list[str], tokens: list[str]) -> Plan:
        rows = [
            ("GET", paths[i % len(paths)], tokens[i % len(tokens)] if tokens else "", "")
            for i in range(max(len(paths), len(tokens)))
        ]
        return cls(rows)

    @classmethod
    def post(cls, path: str, tokens: list[str], body: dict) -> Plan:
        payload = json.dumps(body, ensure_ascii=False)
        return cls([("POST", path, token, payload) for token in tokens])

    def write(self) -> str:
        handle = tempfile.NamedTemporaryFile("w", suffix=".plan", delete=False, dir=LOGS)  # noqa: SIM115
        with handle:
            for row in self.rows:
                handle.write("\t".join(row) + "\n")
        return handle.name


def wrk(
    name: str,
    plan: Plan,
    *,
    seconds: int = 5,
    connections: int = 8,
    threads: int = 2,
) -> WrkResult:
    """Loopback only: BASE is 127.0.0.1 and wrk stops after `seconds`."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (scripts/bench.sh installs it with apt)")
    LOGS.mkdir(parents=True, exist_ok=True)
    plan_file = plan.write()
    try:
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(ROOT / "bench" / "wrk_report.lua"),
                BASE + plan.rows[0][1],
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "WRK_PLAN": plan_file},
            timeout=seconds + 60,
        ).stdout
    finally:
        Path(plan_file).unlink(missing_ok=True)
    line = next((row for row in output.splitlines() if row.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk produced no report for {name}: {output[-500:]}")
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


def call(method: str, path: str, *, token: str = "", body: dict | None = None) -> tuple[int, dict | str]:
    """One request (to check a plan answers what it should before timing it)."""
    request = urllib.request.Request(
        BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")[:500]
