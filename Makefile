# The two README commands are `make demo` and `make test`; both run `setup` first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint golden clean

setup: $(STAMP)

# Re-installs only when the project's requirements change, so a second `make setup` is instant.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[all]'
	touch $@

# Every shipped example on every backend, side by side; out/ gets summary.md and loss plots.
demo: setup
	$(BIN)/crosscheck run --all --report out

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q

# Rewrite tests/golden/ from the NumPy reference (after a deliberate change; review the diff).
golden: setup
	$(BIN)/python -m crosscheck.golden

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out site .pytest_cache
