# Zhiquan: the two front-door commands are `make demo` and `make test`.
.PHONY: demo test test-fast bench lighthouse lint format venv migrate backup restore

demo:            ## run everything on embedded defaults (SQLite, filesystem broker, sandbox pay) with demo data
	scripts/demo.sh

test:            ## lint + types + the full test suite on PostgreSQL and Redis, one worker per core (PYTEST_WORKERS=0: serial)
	scripts/test.sh $(ARGS)

test-fast:       ## the everyday loop: lint + the suite without browser journeys and slow gates, parallel, --reuse-db
	scripts/test.sh --fast $(ARGS)

bench:           ## benchmarks side by side with their floors; writes docs/benchmarks.md
	scripts/bench.sh $(ARGS)

lighthouse:      ## Lighthouse (mobile) on the eight key pages of a throwaway demo site; writes docs/quality.md (RUNS=N)
	scripts/lighthouse.sh $(ARGS)

venv:
	scripts/bootstrap.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

migrate:
	.venv/bin/python manage.py migrate

backup:          ## pg_dump of DATABASE_URL into var/backups/ (or FILE=...)
	scripts/backup.sh backup $(FILE)

restore:         ## pg_restore FILE into DATABASE_URL
	scripts/backup.sh restore $(FILE)
