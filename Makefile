# Tenantry — the two commands are `make run` and `make test` (README).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench screenshots clean

install: $(STAMP)

# Re-install only when the project's dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: install
	@$(FLASK) setup
	@$(FLASK) seed-demo --url http://127.0.0.1:$(PORT)
	@echo "\nServing on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)\n"
	@$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: install
	$(BIN)/python -m pytest -x -q -k "not postgres"

# The performance budget (DESIGN §6) on the PostgreSQL data set of `flask bench seed`; not a
# test and never part of `make test`. Needs DATABASE_URL (README, Performance).
bench: install
	@test -n "$(DATABASE_URL)" || { echo "make bench: set DATABASE_URL to the bench database (README, Performance)"; exit 2; }
	$(FLASK) bench run

# PNGs of the main pages, desktop (1280 px) and phone (375 px), into docs/screenshots/: the demo is
# seeded into a temporary SQLite instance and served on 127.0.0.1 (needs Chromium, like the browser tests).
screenshots: install
	$(BIN)/python -m tests.browser.screenshots docs/screenshots

clean:
	rm -rf $(VENV) instance .pytest_cache
