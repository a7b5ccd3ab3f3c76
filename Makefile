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

.PHONY: install playground dev test
install: $(VENV)/.installed
playground: var/playground/.complete

dev: install playground
	@echo "kyodo dev: in another terminal, '. $(VENV)/bin/activate' puts the kyodo command on PATH (README: Trying it)"
	$(VENV)/bin/kyodo dev

test: install playground
	$(VENV)/bin/pytest -q
