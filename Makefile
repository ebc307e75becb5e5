# The two commands of the README: `make run` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Starts the whole system on the embedded default (SQLite under var/).
run: install
	$(BIN)/accrual up

# Installs and starts what the tests need (system Chromium, a throwaway PostgreSQL and Redis), then runs pytest.
test: install
	bash tests/services/run-tests.sh $(BIN)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
