# Two commands do all the set-up on a fresh machine with Python 3.11, pip and make:
#   make book   -> .venv, install, strict build of _build/html, prints the path of index.html
#   make test   -> unit/property tests, nbval over every notebook, strict site build, browser test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUILD_LOG := _build/build.log

.PHONY: venv book site test unit nbval browser notebooks bench clean data-check pdf

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

# Strict build from a clean tree: warnings are errors; the site shows the committed outputs.
site: venv
	@rm -rf _build
	@mkdir -p _build
	$(BIN)/jupyter-book build . -W -n --keep-going 2>&1 | tee $(BUILD_LOG); test $${PIPESTATUS[0]} -eq 0

book: site
	@echo "Book built: $(CURDIR)/_build/html/index.html"

unit: venv
	$(BIN)/python -m pytest tests --ignore=tests/browser -q

# Every notebook, two pytest --nbval processes at once (tools/run_nbval.py; exit status non-zero if any fails).
nbval: venv
	$(BIN)/python tools/run_nbval.py --jobs 2

browser: venv
	$(BIN)/python -m pytest tests/browser -q

test: unit nbval site browser
	@echo "make test: all checks passed"

# Re-execute every notebook in place (after a costlib change); read the diff of the numbers, commit with the code.
notebooks: venv
	$(BIN)/python tools/run_notebooks.py notebooks/*.ipynb

# How old each catalog is (rows, oldest / median / newest as_of, rows past the stated age). A report: never fails on age.
data-check: venv
	$(BIN)/python -m costlib.freshness

# The whole book as one PDF (from the built site, with the headless Chromium of the browser tests).
pdf: venv
	$(BIN)/python tools/book_pdf.py _build/html _build/book.pdf

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf _build
