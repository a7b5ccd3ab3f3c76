# The two commands of the README: `make dev` starts everything, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv

# Every runtime and test dependency comes from requirements/lock.txt, pinned with hashes (pip refuses
# anything else); kyodo itself is then installed on top without resolving anything.
$(VENV)/.installed: pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q --require-hashes -r requirements/lock.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

# After changing dependencies in pyproject.toml: write the lock anew (uv resolves; it is not itself locked).
lock:
	$(PYTHON) -m venv .cache/lock-venv
	.cache/lock-venv/bin/pip install -q uv
	.cache/lock-venv/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--no-header --quiet -o requirements/lock.txt

# GraphiQL and its dependencies, fetched from the npm registry into var/playground (served locally: no CDN).
# (re-fetched when the pinned list in assets.py changes)
var/playground/.complete: $(VENV)/.installed gateway/http/playground/assets.py
	$(VENV)/bin/python -m gateway.http.playground.fetch_assets
	touch $@

.PHONY: install playground dev test typecheck audit-dependencies lock
install: $(VENV)/.installed
playground: var/playground/.complete

dev: install playground
	@echo "kyodo dev: in another terminal, '. $(VENV)/bin/activate' puts the kyodo command on PATH (README: Trying it)"
	$(VENV)/bin/kyodo dev

# The tests: mypy --strict on the engine, the dependency audit, then pytest.
# -rs: every skip is listed with its reason (only a missing external tool may skip; .ci/run allows none)
test: install playground typecheck audit-dependencies
	$(VENV)/bin/pytest -q -rs

# Known vulnerabilities in the locked dependencies (pip-audit); says so loudly when it could check nothing.
audit-dependencies: install
	$(VENV)/bin/python .ci/dependency_audit.py requirements/lock.txt

# mypy --strict on the engine's stages and the pipeline (the packages are listed in pyproject.toml [tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy
