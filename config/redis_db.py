"""Moving a Redis URL to another numbered database, for parallel test runs.

pytest-xdist worker gwN uses database <n>+N (config/settings/test.py); scripts/test.sh gives the API
fuzzers' pass, which runs beside the workers, <n>+8. Plain `redis://host:port[/db][?…]` URLs only.
"""

import re

_URL = re.compile(r"^(?P<base>redis://[^/?#]*)(?:/(?P<db>\d*))?(?P<rest>[?#].*)?$")


def with_db_offset(url: str, offset: int) -> str:
    """`url` pointing `offset` databases further along (modulo Redis's default 16)."""
    match = _URL.match(url)
    if match is None:
        raise ValueError(f"REDIS_URL is not a plain redis:// URL, cannot move it to another database: {url}")
    return f"{match['base']}/{(int(match['db'] or 0) + offset) % 16}{match['rest'] or ''}"
