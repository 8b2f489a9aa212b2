# make run   — set up (virtualenv, install, train if needed), migrate the database, start the bot on localhost
# make desk-admin — create the consultation desk's first admin (python -m bot.desk create-admin)
# make test  — the whole test suite (installs and trains first when needed)
# make test-scale — two Rasa servers + an action server on PostgreSQL and Redis behind nginx: replicas,
#              faults (kill -9 mid-turn, PostgreSQL and Redis restarted, reminders) and 200 concurrent
#              conversations (tests/scale; starts its own PostgreSQL and Redis when it can; ~8 min)
# make nlu-report — NLU figures (cross-validation, both hold-outs) into results/nlu_report.md
# make bench — stock Rasa + GiNZA vs. config.yml: trains into bench/work/, serves both on 127.0.0.1,
#              writes bench/results.md, results.json, latency.png (not part of make test; ~10-20 min)
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/consultation.tar.gz
SPACY_MODEL := models/ja_ginza_tokens
NGINX := var/nginx/usr/sbin/nginx
# what the model is trained from: bot/rasa/model_inputs.txt (stdlib only, so any python3 can list it)
MODEL_INPUTS := $(shell python3 -m bot.rasa.training --print-inputs)
LOOKUPS := data/nlu/lookups.yml
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: run shell test test-scale nginx install chromium fonts desk-admin train validate test-stories test-unit bench clean nlu-report

run: install $(MODEL)
	$(BIN)/alembic upgrade head
	@scripts/run.sh server

# The consultation desk's first admin (asks for the password): make desk-admin DESK_ADMIN=yamada
desk-admin: install
	$(BIN)/python -m bot.desk create-admin --username $(or $(DESK_ADMIN),admin)

shell: install $(MODEL)
	@scripts/run.sh shell

test: install $(MODEL) validate test-unit test-stories

install: $(VENV)/.installed node_modules/.package-lock.json chromium fonts

# socket.io-client for the web chat (bot/web serves it from node_modules; nothing vendored in git)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Japanese font for the desk's charts (bot/desk/charts.py); Debian package, skipped when installed
fonts:
	@if [ ! -d /usr/share/fonts/opentype/noto ] || ! fc-list :lang=ja | grep -q "Noto Sans CJK"; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y fonts-noto-cjk; \
	fi

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
	$(BIN)/python -m bot.rasa.training --model $(MODEL)

validate: install
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data --fail-on-warnings

test-unit: install $(MODEL)
	$(BIN)/pytest -q

# tests/scale: marked `scale`, so that plain pytest (make test) leaves them out
test-scale: install $(MODEL) $(NGINX)
	$(BIN)/pytest -q -m scale tests/scale

# nginx for tests/scale: Debian's package unpacked under var/ (no service started, nothing
# installed system-wide); the test runs it as the invoking user on loopback ports
nginx: $(NGINX)

$(NGINX):
	@mkdir -p var/nginx
	cd var/nginx && { apt-get download nginx 2>/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update && apt-get download nginx; }; } \
	  && dpkg-deb -x nginx_*.deb . && rm nginx_*.deb
	@test -x $@

test-stories: install $(MODEL)
	@scripts/run.sh test-stories

# NLU figures into results/: 5-fold cross-validation on data/nlu (five trainings, ~25 min on
# 2 cores; CV_FOLDS=0 skips it), the regression hold-out and the fresh hold-out (a missing
# file of FRESH_HOLDOUT is skipped with a message); summary in results/nlu_report.md
FRESH_HOLDOUT ?= tests/nlu_holdout_fresh9/
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
