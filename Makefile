# make run   — set up (virtualenv, install, train if needed), migrate the database, start the bot on localhost
# make desk-admin — create the consultation desk's first admin (python -m bot.desk create-admin)
# make test  — the whole test suite (installs and trains first when needed)
# make bench — stock Rasa + GiNZA vs. config.yml: trains into bench/work/, serves both on 127.0.0.1,
#              writes bench/results.md, results.json, latency.png (not part of make test; ~10-20 min)
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/consultation.tar.gz
SPACY_MODEL := models/ja_ginza_tokens
MODEL_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) bot/rasa/nlu_components.py bot/lexicon.py bot/rasa/spacy_model.py
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: run shell test install chromium fonts desk-admin train validate test-stories test-unit bench clean

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

$(MODEL): $(MODEL_INPUTS) $(VENV)/.installed | $(SPACY_MODEL)/meta.json
	$(BIN)/python -m bench.training --config config.yml --domain domain.yml --data data --model $(MODEL)

validate: install
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data --fail-on-warnings

test-unit: install $(MODEL)
	$(BIN)/pytest -q

test-stories: install $(MODEL)
	@scripts/run.sh test-stories

bench: install $(SPACY_MODEL)/meta.json
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf models/*.tar.gz models/*.train.* $(SPACY_MODEL) results var
