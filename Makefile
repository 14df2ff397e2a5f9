# A Python >= 3.12 (Django 6): the first found on PATH or in pyenv; override with `make PYTHON=...`.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
.venv/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6). Install it, or run make PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv .venv && .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -r requirements.txt && touch $@
run: .venv/.installed  ## the app with demo data on SQLite, a worker and beat: http://127.0.0.1:8000
	DEBUG=1 .venv/bin/python manage.py migrate && DEBUG=1 .venv/bin/python manage.py seed_demo && DEBUG=1 .venv/bin/honcho start
test: .venv/.installed  ## lint, format check and the whole test suite
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/pytest
audit: .venv/.installed  ## known vulnerabilities in requirements.txt, with pip-audit (README: Security checks)
	.venv/bin/pip install -q -r requirements-audit.txt && .venv/bin/python .ci/audit.py $(ARGS)
bench: .venv/.installed  ## the whole product at scale on a scratch PostgreSQL database (see bench/README.md)
	.venv/bin/python bench/run.py $(ARGS)
.PHONY: run test audit bench
