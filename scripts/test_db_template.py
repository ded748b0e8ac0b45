"""Migrate a template database once for a whole test run; print its name (scripts/test.sh).

pytest-django creates one test database per xdist worker, and the API fuzzers' pass one more, each
by running every migration: three migrations at once on a 2-core machine took 35-40 s of every
worker's first test. The test script runs this first, then exports ZQ_TEST_DB_TEMPLATE, and
config/settings/test.py has PostgreSQL create each test database as a copy of the template
(CREATE DATABASE … TEMPLATE, about a second); Django's migrate then finds nothing left to apply.

The template is dropped and migrated afresh on every run, so an edited migration is never stale.

    DATABASE_URL=postgres://…/zhiquan_test python scripts/test_db_template.py   ->   zhiquan_test_template
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    if url.scheme not in ("postgres", "postgresql"):
        sys.exit("test_db_template: DATABASE_URL is not PostgreSQL")
    template = f"{url.path.lstrip('/')}_template"
    admin = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    env = {**os.environ, "DATABASE_URL": urlunsplit(url._replace(path=f"/{template}"))}
    env.pop("ZQ_TEST_DB_TEMPLATE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    print(template)


if __name__ == "__main__":
    main()
