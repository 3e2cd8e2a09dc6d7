# Two commands matter: `make demo` and `make test`. Both set everything up first (idempotent, cached).
# Python 3.11, 3.12 or 3.13; 3.12 by default (`make PYTHON=python3.13 ...` for another: README).
PYTHON ?= $(shell scripts/find-python 3.12 || echo python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Virtualenvs are made with uv (pinned; installed here by pip on first use): ~20 s instead of pip's ~90 s per
# virtualenv. It installs the same pins as `pip install -r requirements.txt`, which users run (tests/packaging).
# --compile-bytecode as pip does: with PYTHONDONTWRITEBYTECODE=1 (set on this machine, common in containers)
# every Python process would otherwise compile the SDK, grpc and pydantic from source each time it starts.
UV_VERSION := 0.13.8
UV     := .tools/uv-$(UV_VERSION)/bin/uv
# Test processes: the suite runs one file per worker (pytest-xdist, --dist loadfile), 2 on the 2-core CI machine.
WORKERS ?= 2
PYTEST_ARGS := -n $(WORKERS) --dist loadfile

.PHONY: setup engine demo test test-python test-official lint dist mutate mutate-check mutate-claims bench bench-profile golden clean

setup: $(STAMP) engine

$(UV):
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --disable-pip-version-check --target .tools/uv-$(UV_VERSION) uv==$(UV_VERSION)

# The virtualenv doubles as the Pulumi program's runtime (Pulumi.yaml `virtualenv: .venv`). `--seed` puts pip in
# it: the tests run `pip install --dry-run`, and Pulumi's own language host asks pip what is installed.
$(STAMP): requirements.txt requirements-dev.txt | $(UV)
	@$(PYTHON) -c 'import sys; v=sys.version_info; sys.exit(0 if (3, 11) <= v[:2] <= (3, 13) else "Python 3.11, 3.12 or 3.13 is needed (found %d.%d); set PYTHON=/path/to/python3.12" % v[:2])'
	rm -rf $(VENV)  # from scratch: a virtualenv of another Python or of older pins is not upgraded in place
	$(UV) venv --quiet --seed --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-dev.txt
	@touch $@

engine:
	@PYTHON=$(PYTHON) bash scripts/pulumi-engine.sh >/dev/null

demo: setup
	$(PY) scripts/demo.py

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite without engine tests on another supported Python, in a virtualenv of its own (CI: 3.11 and 3.13).
test-python: | $(UV)
	@test -n "$(PY_VERSION)" || { echo "usage: make test-python PY_VERSION=3.13"; exit 2; }
	@interpreter=$$(scripts/find-python $(PY_VERSION)) && \
	  { [ -f .venv-$(PY_VERSION)/.installed ] && [ .venv-$(PY_VERSION)/.installed -nt requirements-dev.txt ] \
	    && [ .venv-$(PY_VERSION)/.installed -nt requirements.txt ] || \
	    { rm -rf .venv-$(PY_VERSION) && $(UV) venv --quiet --seed --python $$interpreter .venv-$(PY_VERSION) && \
	      $(UV) pip install --quiet --compile-bytecode --python .venv-$(PY_VERSION)/bin/python -r requirements-dev.txt && \
	      touch .venv-$(PY_VERSION)/.installed; }; }
	.venv-$(PY_VERSION)/bin/python -m pytest $(PYTEST_ARGS) -m "not engine"

# The official-binaries leg: Pulumi's own v3.79.0 CLI and language host (no stand-in) under the current SDK.
test-official: setup
	CTP_PULUMI_BIN=$$(PYTHON=$(PYTHON) bash scripts/pulumi-engine.sh 3.79.0) $(PY) -m pytest $(PYTEST_ARGS) -m official

# The library: the sdist and the wheel of ctp-credentials in dist/ (setuptools from the virtualenv: no index).
dist: setup
	rm -rf dist
	$(UV) build --no-build-isolation --python $(PY) --out-dir dist .
	rm -rf ctp_credentials.egg-info build

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Mutation testing of the security and integrity modules (scripts/mutate.py; scores in tests/MUTATION.md).
# `make mutate` runs them all (see MUTATION.md for how long); `make mutate MODULES="components/scopes.py"` some.
mutate: setup
	$(PY) scripts/mutate.py $(MODULES)

# CI's bounded run: a fixed sample of modules, failing if one scores below what tests/MUTATION.md records.
MUTATE_SAMPLE := components/providers/credential_check.py automation/redaction.py policies/rotation.py
mutate-check: setup
	$(PY) scripts/mutate.py --check $(MUTATE_SAMPLE)

# SECURITY.md's claims, each against the bug that would break it (scripts/mutate_claims.py): about 2.5 minutes.
mutate-claims: setup
	$(PY) scripts/mutate_claims.py

# Not part of `make test` (CI does not run it): about 16 minutes on 2 cores; writes bench/RESULTS.md.
bench: setup
	$(PY) bench/run.py $(if $(ONLY),--only $(ONLY))

# Profile one `up` of 50 connectors and of the baseline (engine pprof + py-spy): bench/PROFILE.md.
bench-profile: setup
	$(PY) -m pip install --quiet --disable-pip-version-check py-spy==0.4.3
	$(PY) bench/run.py --profile

# Regenerate pr-summary's golden files from real previews (review the diff before committing).
golden: setup
	UPDATE_GOLDEN=1 $(PY) -m pytest tests/e2e/test_pr_summary.py

clean:
	rm -rf $(VENV) .venv-3.* .tools .demo .pytest_cache .mypy_cache .ruff_cache mutants dist build ctp_credentials.egg-info
