# Two entry points for a fresh clone (README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The official XAusländer schema set, when it lies beside the clone (as on CI). Without it the
# service takes instance/xoev (what `make schemas` fetched) by itself, else its own checks.
XSD_DIR ?= $(abspath $(firstword $(wildcard ../shared/xoev)))

.PHONY: run test check schemas lint bench bench-documents bench-scale translations compile extract clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run

# The test tools and matplotlib, for bench-scale's plots.
$(VENV)/.bench: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.test $(VENV)/.run

# Compiled catalogs (.mo) are build products: made here, never committed.
compile: $(VENV)/.run
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --statistics -d translations; fi

# After changing texts: extract, merge into every catalog, compile.
translations: extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	$(MAKE) compile

extract: $(VENV)/.run
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header --sort-output --no-wrap \
		-c "Translators:" -k lazy_gettext -k _l -o translations/messages.pot .

run: $(VENV)/.run compile
	$(BIN)/intake db upgrade
	$(BIN)/intake demo-seed
	INTAKE_BATCH_INTERVAL=$${INTAKE_BATCH_INTERVAL:-2} $(if $(XSD_DIR),INTAKE_XSD_DIR=$(XSD_DIR)) $(BIN)/intake serve

# Tests find the official set themselves (tests/helpers/official.py) and skip what needs it
# when there is none. The whole suite, with branch coverage (at least 90 %, setup.cfg).
test: $(VENV)/.test compile
	$(BIN)/python -m pytest --cov --cov-report=term

# The edit-test loop: every test that starts no process and no browser (under 2 minutes).
check: $(VENV)/.test compile
	$(BIN)/python -m pytest -m "not slow" -q

# Optional: the official schema set and code lists from XRepository into instance/xoev/.
schemas: $(VENV)/.run
	$(BIN)/intake schemas fetch

# The benchmark suite (issue #8): writes its table into bench/README.md. Load: wrk (Debian).
bench: $(VENV)/.test compile
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null || \
		{ echo "bench needs wrk: apt-get install wrk"; exit 1; }
	$(if $(XSD_DIR),INTAKE_XSD_DIR=$(XSD_DIR)) $(BIN)/python bench/run.py

# Its documents part alone (photo uploads, the pipeline with documents, the summary PDF): no wrk.
bench-documents: $(VENV)/.test compile
	$(if $(XSD_DIR),INTAKE_XSD_DIR=$(XSD_DIR)) $(BIN)/python bench/run.py documents

# Issue #29: the service with 10,000, 100,000 and 1,000,000 registrations, on SQLite and (with
# INTAKE_BENCH_DATABASE_URL, a database it may empty) PostgreSQL: bench/SCALE.md, under an hour.
# INTAKE_SCALE_MAX=100000 is the quick mode (under 10 minutes); INTAKE_SCALE_SIZES shapes a run.
bench-scale: $(VENV)/.bench compile
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null || \
		{ echo "bench-scale needs wrk: apt-get install wrk"; exit 1; }
	$(if $(XSD_DIR),INTAKE_XSD_DIR=$(XSD_DIR)) $(BIN)/python bench/scale.py

# Every page state of the public flow and the staff's first sign-in, at 360x640, per
# language, into docs/screenshots/ (for reviewers and translators). Needs Chromium.
screenshots: $(VENV)/.test compile
	rm -f docs/screenshots/*.jpg
	INTAKE_SCREENSHOTS=$(abspath docs/screenshots) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/web/test_browser.py -k "accessible_and_light or first_sign_in"

lint: $(VENV)/.test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy intake
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) instance
