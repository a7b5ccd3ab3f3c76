# The two commands of the README: `make dev` starts everything, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# GraphiQL and its dependencies, fetched from the npm registry into var/playground (served locally: no CDN).
var/playground/.complete: $(VENV)/.installed
	$(VENV)/bin/python -m gateway.http.playground.fetch_assets
	touch $@

.PHONY: install playground dev test typecheck
install: $(VENV)/.installed
playground: var/playground/.complete

dev: install playground
	$(VENV)/bin/kyodo dev

# -rs: every skip is listed with its reason (only a missing external tool may skip; .ci/run allows none)
test: install playground
	$(VENV)/bin/pytest -q -rs

# mypy --strict on the engine's stages and the pipeline (the packages are listed in pyproject.toml [tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy
