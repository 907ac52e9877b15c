# uprfollow: every target sets up what it needs (virtual environment, packages, system libraries).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UPR := $(VENV)/bin/upr
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
DEMO ?= demo

# Debian packages: Pango/HarfBuzz for WeasyPrint (PDF), fonts, poppler-utils (pdftotext/pdftoppm) for PDF checks,
# chromium (headless) for the browser test of `upr serve`,
# libreoffice-writer-nogui (soffice --headless) to convert Word 97-2003 .doc lists to .docx for `upr import`,
# libreoffice-calc-nogui for the tests that save response sheets as .ods/.xls (they run wherever `libreoffice` is).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium \
	libreoffice-writer-nogui libreoffice-calc-nogui

.PHONY: setup sysdeps demo test test-fast bench lint cog clean

setup: $(STAMP)

$(STAMP): pyproject.toml | sysdeps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

sysdeps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

# The demo runs visible `upr` commands on FICTIONAL sample files (see docs/sample.md); run it again to start afresh.
demo: setup
	rm -rf $(DEMO)
	$(UPR) sample $(DEMO)/input
	$(UPR) import --db $(DEMO)/upr.db $(DEMO)/input/*.csv $(DEMO)/input/*.xlsx $(DEMO)/input/*.docx
	$(UPR) stats --by response --db $(DEMO)/upr.db
	@# --- follow-up: a response sheet for Haiti, filled by four fictional stakeholders, ingested, then the digest ---
	$(UPR) sheet HTI --db $(DEMO)/upr.db -o $(DEMO)/HTI-response-sheet.xlsx
	$(UPR) sample $(DEMO)/filled --fill-sheet $(DEMO)/HTI-response-sheet.xlsx
	$(UPR) ingest --db $(DEMO)/upr.db $(DEMO)/filled/*.xlsx
	$(UPR) stats --by level --by response --sur HTI --db $(DEMO)/upr.db
	@echo "The Mid-term Implementation Assessment of Haiti (fictional sample data):"
	$(UPR) mia HTI --db $(DEMO)/upr.db --out-dir $(DEMO)

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: setup
	$(PY) -m pytest -q -x -m "not slow"

bench: setup
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) bench/run.py

# docs/cli-reference.md holds every --help, written by cog from the CLI; tests/test_docs.py fails when it differs
cog: setup
	$(PY) -m cogapp -r docs/cli-reference.md

lint: setup
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache
