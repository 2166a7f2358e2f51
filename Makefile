# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-scale lint migrations browser pgbouncer bench-load

run: $(VENV)/.installed
	$(PY) -m server dev

# Runs the whole suite on SQLite + in-process state, and again on PostgreSQL + Redis when
# DATABASE_URL and REDIS_URL are set (as .ci/run does).
test: $(VENV)/.installed-test browser pgbouncer
	TEST_BACKEND=embedded $(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
		echo "--- again on PostgreSQL + Redis ($$DATABASE_URL, $$REDIS_URL)"; \
		TEST_BACKEND=production $(PY) -m pytest $(PYTEST_ARGS); \
	fi

# Only the several-instance and outage tests (tests/scale), on PostgreSQL + Redis; `make test` runs
# them too (skipped on the embedded back end).
test-scale: $(VENV)/.installed-test pgbouncer
	TEST_BACKEND=production $(PY) -m pytest tests/scale $(PYTEST_ARGS)

# Product endpoints beside a bare app replaying their statements, on PostgreSQL + Redis and on
# the embedded default (docs/PERFORMANCE.md); installs wrk from Debian when missing.
bench-load: $(VENV)/.installed-test
	$(PY) -m benchmarks.load $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

# After changing a model: write the next migration and commit it.
migrations: $(VENV)/.installed
	$(VENV)/bin/tortoise -c server.db.TORTOISE_ORM makemigrations

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

# The browser tests drive Debian's Chromium; nothing downloads a browser of its own.
browser:
	@test -x /usr/bin/chromium || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; }

# The PgBouncer test (tests/scale) runs Debian's pgbouncer in transaction mode on a port of its own.
pgbouncer:
	@test -x /usr/sbin/pgbouncer || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends pgbouncer; }
