# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PACKAGES := midil_common midil_sync midil_async

.PHONY: test lint typecheck pytest demo bench clean unasync docs dist dist-check

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps reinstall only when the project's metadata changes.
$(VENV)/.test-installed: pyproject.toml setup.cfg | $(PY)
	$(PIP) install --quiet -e '.[all,test]'
	touch $@

$(VENV)/.demo-installed: pyproject.toml setup.cfg | $(PY)
	$(PIP) install --quiet -e '.[all,demo]'
	touch $@

$(VENV)/.docs-installed: pyproject.toml setup.cfg | $(PY)
	$(PIP) install --quiet -e '.[docs]'
	touch $@

$(VENV)/.release-installed: pyproject.toml setup.cfg | $(PY)
	$(PIP) install --quiet -e '.[release]'
	touch $@

$(VENV)/.bench-installed: pyproject.toml setup.cfg | $(PY)
	$(PIP) install --quiet -e '.[all,test,bench]'
	touch $@

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) scripts/unasync.py --check

# The sync shell's modules that are generated from their async twins (DESIGN rule 8).
unasync: $(VENV)/.test-installed
	$(PY) scripts/unasync.py

typecheck: $(VENV)/.test-installed
	$(VENV)/bin/mypy --strict $(PACKAGES)

pytest: $(VENV)/.test-installed
	$(PY) -m pytest -q

test: lint typecheck pytest

demo: $(VENV)/.demo-installed
	$(PY) examples/demo.py

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py

# The documentation site: regenerate the reference and benchmark pages, then build into site/.
docs: $(VENV)/.docs-installed
	$(PY) scripts/gen_docs.py
	$(VENV)/bin/mkdocs build --strict --site-dir site

# The sdist and the wheel, in dist/.
dist: $(VENV)/.release-installed
	rm -rf dist
	$(PY) -m build --outdir dist .

# twine check, the archives' contents, and the wheel in a fresh environment, extra by extra.
dist-check: dist
	$(VENV)/bin/twine check --strict dist/*
	$(PY) scripts/dist_check.py dist

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info dist site
