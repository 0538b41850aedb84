# The two README commands are `make demo` and `make test`; both run `setup` first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test docs lint golden mutation matrix clean

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
	$(MAKE) --no-print-directory docs

# The site, built with --strict into site/ (git-ignored). KaTeX comes from the npm registry
# once, into docs/vendor/ (git-ignored), so the pages render their math offline.
KATEX := docs/vendor/katex/katex.min.js
$(KATEX):
	npm install --silent --no-audit --no-fund --prefix .cache/npm katex@0.16.47
	rm -rf docs/vendor/katex && mkdir -p docs/vendor
	cp -r .cache/npm/node_modules/katex/dist docs/vendor/katex

docs: setup $(KATEX)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "site: site/index.html"

# Rewrite tests/golden/ from the NumPy reference (after a deliberate change; review the diff).
golden: setup
	$(BIN)/python -m tools.golden

# Mutation testing (docs/testing.md): plants one small bug at a time in reference/ and in the
# rule-specific code of torch_impl/ and jax_impl/, runs the suite on each, prints the score.
# Not part of `make test`: see docs/testing.md for its run time; one worker per CPU
# (`.venv/bin/python -m tools.mutation --jobs 1` for one), at the lowest priority.
mutation: setup
	nice -n 19 $(BIN)/python -m tools.mutation

# The version matrix (noxfile.py): the cross-backend and golden tests under other releases of
# JAX, PyTorch and NumPy, each in an environment of its own; then what moved against the pinned
# releases (docs/regression.md). Not part of `make test`: it installs a dozen environments.
matrix: setup
	$(BIN)/nox --no-error-on-missing-interpreters || true
	$(BIN)/python -m tools.matrix

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out site .pytest_cache .cache docs/vendor
