"""Print 'postgres=ok|down redis=ok|down' for DATABASE_URL and REDIS_URL (used by scripts/test.sh)."""

import os
from urllib.parse import urlparse

import psycopg
import redis


def postgres_ok(url: str) -> bool:
    parsed = urlparse(url)
    try:
        # Connect to the maintenance database: the test database itself is created by pytest-django.
        conn = psycopg.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password or None,
            dbname="postgres",
            connect_timeout=3,
        )
        conn.close()
        return True
    except psycopg.Error:
        return False


def redis_ok(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


if __name__ == "__main__":
    pg = postgres_ok(os.environ.get("DATABASE_URL", ""))
    rd = redis_ok(os.environ.get("REDIS_URL", ""))
    print(f"postgres={'ok' if pg else 'down'} redis={'ok' if rd else 'down'}")
