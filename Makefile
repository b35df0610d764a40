# Two entry points for a fresh clone (README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The official XAusländer schema set, when it lies beside the clone (as on CI).
XSD_DIR ?= $(abspath $(firstword $(wildcard ../shared/xoev)))

.PHONY: run test lint translations extract clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run

translations: $(VENV)/.run
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --statistics -d translations; fi

extract: $(VENV)/.run
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header --sort-output \
		-k lazy_gettext -k _l -o translations/messages.pot .

run: $(VENV)/.run translations
	$(BIN)/intake db upgrade
	$(BIN)/intake demo-seed
	$(if $(XSD_DIR),INTAKE_XSD_DIR=$(XSD_DIR)) $(BIN)/intake serve

test: $(VENV)/.test translations
	$(if $(XSD_DIR),INTAKE_TEST_XSD_DIR=$(XSD_DIR)) $(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy intake

clean:
	rm -rf $(VENV) instance
