# make run    install into .venv, migrate, load the demo, serve on 127.0.0.1:8000
# make test   run the tests on SQLite, then on a throwaway PostgreSQL cluster;
#             extra pytest arguments go in ARGS, e.g. make test ARGS="-k join"

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

# The stamps record which install is current: pip runs again only when
# pyproject.toml is newer than the stamp.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install clean-venv

run: $(RUN_STAMP)
	$(BIN)/dynassign migrate --noinput
	$(BIN)/dynassign collectstatic --noinput --verbosity 0
	$(BIN)/dynassign load_demo --base-url http://$(HOST):$(PORT)
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	$(BIN)/gunicorn dynassign.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 8 --access-logfile -

test: $(TEST_STAMP)
	scripts/run-tests $(ARGS)

install: $(RUN_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

# The tests of the strategy plugin contract load the example strategy
# package through its entry point, so it is installed beside the project.
EXAMPLE_STRATEGY := examples/dynassign-strategy-example

$(TEST_STAMP): pyproject.toml $(wildcard $(EXAMPLE_STRATEGY)/pyproject.toml) | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[test]' \
		$(if $(wildcard $(EXAMPLE_STRATEGY)/pyproject.toml),--editable $(EXAMPLE_STRATEGY))
	touch $@ $(RUN_STAMP)

clean-venv:
	rm -rf $(VENV)

# make bench       the quick benchmark (10k and 1M contacts, 1.5 s per level);
#                  writes docs/BENCHMARKS.md
# make bench-full  adds 100k and 10M contacts, 20 s per level
# Both start their own PostgreSQL cluster and remove it afterwards.
.PHONY: bench bench-full

bench: $(RUN_STAMP)
	$(BIN)/python -m bench.run

bench-full: $(RUN_STAMP)
	$(BIN)/python -m bench.run --full
