# The two commands of the quick start.  Each creates .venv (python3 -m venv) when it is missing and
# installs what it needs, so on a fresh clone either one is all the set-up there is.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test docs bench clean data

FASHION_MNIST := /usr/share/datasets/fashion-mnist
CHROMIUM      := /usr/bin/chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# stamps record which extras are installed; they are redone when pyproject.toml changes
$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[lab,fast]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test,lab]'
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/neuralab demo

# two workers for the two cores, fed one test at a time from one queue, slow tests first
# (tests/conftest.py): with the default chunks one worker idled for two minutes while the other
# ran the labs; the lab tests run again under a second BLAS kernel in children
test: $(VENV)/.test-installed data
	$(BIN)/python -m pytest -n 2 --maxschedchunk 1

# regenerate every number in docs/ from a real run: the lab pages (full configurations), the
# speed tables (from the stored benchmark result bench/results/reference.json; `make bench` renews
# it) and the examples of docs/backprop.md with their figure
docs: $(VENV)/.test-installed data
	$(BIN)/neuralab lab run all --docs
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.tabular_defaults --pages
	$(BIN)/python docs/figures/backprop.py

# Two Debian packages the tests need: Fashion-MNIST (dataset-fashion-mnist) and the browser that
# opens the HTML run report (chromium, driven by playwright from the [test] extra, which never
# downloads a browser of its own).  Each missing one is installed here when we are root, after one
# apt-get update; otherwise the tests that need it skip with a reason (and fail under CI=true).
data:
	@missing=""; \
	[ -d $(FASHION_MNIST) ] || missing="$$missing dataset-fashion-mnist"; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq >/dev/null || echo "warning: apt-get update failed"; \
	    for package in $$missing; do \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$package >/dev/null \
	        || echo "warning: could not install $$package"; \
	    done; \
	  else \
	    echo "note:$$missing absent; run 'sudo apt-get install$$missing' for the tests that need it"; \
	  fi; \
	fi

# the benchmark (about 8 minutes on a quiet machine) and the profile of one epoch; their results
# are stored in bench/results/ (reference.json, profile.json) and the speed numbers of
# docs/performance.md and the README regenerated from them
bench: $(VENV)/.test-installed data
	$(BIN)/python -m bench
	$(BIN)/python -m bench.profile_mlp
	$(BIN)/python -m bench.pages --from bench/results/latest.json

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
