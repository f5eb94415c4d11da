VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[demo,test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/loom demo

# Tests run in one process more than the machine has cores: a test often waits (on a browser, the
# database server or a command it started), and the extra process uses that time. A file's tests
# run in one process, so what its module fixtures make is made once; files with most tests go first.
# The few marked serial (one restarts the database server) run after, alone, collected from their
# folder only (tests/test_serial_tests.py keeps them there). pytest exits 5 when a selection holds
# no serial test.
TEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
SERIAL_TESTS = tests/deploy

# Each test process and each command a test starts (the CLI, workers, servers) imports Loom: from
# cached bytecode, not compiled afresh each time, even where the environment asks Python not to
# write it (with a container's PYTHONDONTWRITEBYTECODE=1 each test process spent ~10 s compiling).
test: export PYTHONDONTWRITEBYTECODE =

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not serial" $(PYTEST_ARGS)
	$(PY) -m pytest -q -m serial $(SERIAL_TESTS) $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
