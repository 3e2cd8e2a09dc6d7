# Two commands matter: `make demo` and `make test`. Both set everything up first (idempotent, cached).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup engine demo test lint bench bench-profile golden clean

setup: $(STAMP) engine

# The virtualenv doubles as the Pulumi program's runtime (Pulumi.yaml `virtualenv: .venv`).
$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; v=sys.version_info; sys.exit(0 if v[:2] == (3, 11) else "Python 3.11 is needed (the code uses 3.11; the pinned Pulumi SDK needs grpcio 1.56 wheels); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

engine:
	@bash scripts/pulumi-engine.sh >/dev/null

demo: setup
	$(PY) scripts/demo.py

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Not part of `make test` (CI does not run it): about 10 minutes on 2 cores; writes bench/RESULTS.md.
bench: setup
	$(PY) bench/run.py

# Profile one `up` of 50 connectors and of the baseline (engine pprof + py-spy): bench/PROFILE.md.
bench-profile: setup
	$(PY) -m pip install --quiet --disable-pip-version-check py-spy==0.4.3
	$(PY) bench/run.py --profile

# Regenerate pr-summary's golden files from real previews (review the diff before committing).
golden: setup
	UPDATE_GOLDEN=1 $(PY) -m pytest tests/e2e/test_pr_summary.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
