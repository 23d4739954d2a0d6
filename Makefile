# Two commands on a fresh machine:
#   make run   - set up, then open the dashboard on the embedded store (demo alliance on first run)
#   make test  - set up, then run every test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test privacy setup setup-dev bench clean

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py

# In parallel (pytest-xdist, a worker per core, at most 4): each test file runs whole on one worker,
# so its module fixtures are built once; servers and PostgreSQL schemas are per worker
# (tests/browser.py, tests/conftest.py). `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= auto

test: $(VENV)/.dev
	$(PY) -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile

# The privacy property tests with thousands of new examples each (minutes, not part of `make test`).
privacy: $(VENV)/.dev
	HYPOTHESIS_PROFILE=privacy $(PY) -m pytest -m privacy -p no:cacheprovider tests/test_suppression.py tests/test_audit.py \
		tests/test_coverage_rollup.py

bench: $(VENV)/.runtime
	$(PY) cli.py bench

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
