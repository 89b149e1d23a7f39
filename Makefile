# The book's entry points. The README's two commands are `make book` and `make test`; both
# set everything up first (virtual environment, pinned packages, the package, data).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PAGES ?=                      # e.g. make notebooks PAGES=book/ch03_linear_regression/oo_design.md
NBVAL := $(PY) -m pytest -p no:cacheprovider --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
         --nbval-cell-timeout=1800 -o addopts="" -o filterwarnings="" -q
TWINS = $(if $(PAGES),$(PAGES:.md=.ipynb),$(shell $(PY) code/tools/pages.py list | sed 's/\.md$$/.ipynb/'))
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup data browser book test unit nbval site lint pages notebooks check links bench clean

help:
	@echo "make book       build the website, executing every page (_build/html)"
	@echo "make test       every test CI runs: lint, unit, twins, nbval, build, site"
	@echo "make notebooks  regenerate the executed twin .ipynb of every page (or PAGES=...)"
	@echo "make nbval      re-execute the twins and compare outputs (or PAGES=...)"
	@echo "make bench      dlcourse vs d2l 1.0.3 speed and accuracy, side by side"
	@echo "make pages      rewrite the Colab install cell of every page from _config.yml"

# -- set-up ---------------------------------------------------------------------------
setup: $(STAMP) data

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip install --quiet --no-deps d2l==1.0.3   # the reference; its pins do not install
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

data: $(STAMP)
	$(PY) code/tools/get_data.py

# Debian's Chromium, for the browser tests of the built site (tests/site/test_browser.py).
browser:
	@command -v chromium >/dev/null || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; }

# -- the book -------------------------------------------------------------------------
book: setup
	$(PY) code/tools/pages.py check
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

pages: $(STAMP)
	$(PY) code/tools/pages.py install-cells

notebooks: setup
	$(PY) code/tools/pages.py install-cells
	$(PY) code/tools/pages.py twins $(PAGES)

# -- tests ----------------------------------------------------------------------------
test: setup lint unit nbval book site links

lint: $(STAMP)
	$(VENV)/bin/ruff check code tests
	$(VENV)/bin/ruff format --check code tests

unit: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/site

nbval: setup
	$(NBVAL) $(TWINS)

site: $(STAMP) browser
	$(PY) -m pytest tests/site

check: $(STAMP)
	$(PY) code/tools/pages.py check

links: $(STAMP)
	$(PY) code/tools/links.py check

bench: setup
	$(PY) code/tools/benchmark.py

clean:
	rm -rf _build
