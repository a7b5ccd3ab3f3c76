# The two commands of the README: `make dev` starts everything, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

.PHONY: install dev test
install: $(VENV)/.installed

dev: $(VENV)/.installed
	$(VENV)/bin/kyodo dev

test: $(VENV)/.installed
	$(VENV)/bin/pytest -q
