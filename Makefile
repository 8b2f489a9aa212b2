# make run   — set up (virtualenv, install, train if needed) and start the bot on localhost
# make test  — the whole test suite (installs and trains first when needed)
# make nlu-report — NLU figures (cross-validation, both hold-outs) into results/nlu_report.md
# make bench — stock Rasa + GiNZA vs. config.yml: trains into bench/work/, serves both on 127.0.0.1,
#              writes bench/results.md, results.json, latency.png (not part of make test; ~10-20 min)
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/consultation.tar.gz
SPACY_MODEL := models/ja_ginza_tokens
MODEL_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) bot/rasa/nlu_components.py $(wildcard bot/lexicon/*.py) bot/conduct.py bot/rasa/spacy_model.py
LOOKUPS := data/nlu/lookups.yml
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: run shell test install chromium train validate test-stories test-unit bench clean nlu-report

run: install $(MODEL)
	@scripts/run.sh server

shell: install $(MODEL)
	@scripts/run.sh shell

test: install $(MODEL) validate test-unit test-stories

install: $(VENV)/.installed node_modules/.package-lock.json chromium

# socket.io-client for the web chat (bot/web serves it from node_modules; nothing vendored in git)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Headless Chromium for tests/test_webchat.py (Debian package; skipped when already installed)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium chromium-driver; \
	fi

$(VENV)/.installed: requirements.lock
	@test -x $(BIN)/python || $$(scripts/find-python.sh) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.0
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip check
	@touch $@

train: $(MODEL)

# ja_ginza without the components nothing reads (config.yml loads it; see bot/rasa/spacy_model.py);
# built whenever missing, before the model that needs it
$(SPACY_MODEL)/meta.json: bot/rasa/spacy_model.py $(VENV)/.installed
	$(BIN)/python -m bot.rasa.spacy_model $(SPACY_MODEL)

# the regexes, lookup tables and synonyms Rasa reads, generated from the lexicon's tables
$(LOOKUPS): bot/lexicon/tables.py bot/lexicon/__init__.py bot/lexicon/__main__.py
	$(BIN)/python -m bot.lexicon --write $@

$(MODEL): $(MODEL_INPUTS) $(VENV)/.installed | $(SPACY_MODEL)/meta.json
	$(BIN)/python -m bench.training --config config.yml --domain domain.yml --data data --model $(MODEL)

validate: install
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data --fail-on-warnings

test-unit: install $(MODEL)
	$(BIN)/pytest -q

test-stories: install $(MODEL)
	@scripts/run.sh test-stories

# NLU figures into results/: 5-fold cross-validation on data/nlu (five trainings, ~25 min on
# 2 cores; CV_FOLDS=0 skips it), the regression hold-out and the fresh hold-out (a missing
# file of FRESH_HOLDOUT is skipped with a message); summary in results/nlu_report.md
FRESH_HOLDOUT ?= tests/nlu_holdout_fresh/
CV_FOLDS ?= 5
nlu-report: install $(MODEL)
	@if [ "$(CV_FOLDS)" != 0 ]; then \
	  $(BIN)/rasa test nlu --config config.yml --nlu data/nlu --cross-validation --folds $(CV_FOLDS) \
	    --out results/cross_validation --quiet; \
	fi
	$(BIN)/python -m bot.nlu_evaluation --model $(MODEL) --data tests/nlu_holdout.yml \
	  --fresh $(FRESH_HOLDOUT) --cross-validation results/cross_validation --report results

bench: install $(SPACY_MODEL)/meta.json
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf models/*.tar.gz models/*.train.* $(SPACY_MODEL) results var
