# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test install setup browser mailserver lint format bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

setup: install
	$(FLASK) db upgrade
	$(FLASK) setup

# gunicorn serves the pages; beside it one background worker sends mail, polls the desk's
# mailbox, warns of SLA breaches and autocloses (no cron needed). Ctrl-C stops both.
# HOST and PORT also make the links in mails point here (PUBLIC_URL follows them).
run: setup
	@echo "Firstfix on http://$(HOST):$(PORT)"
	@export HOST='$(HOST)' PORT='$(PORT)'; \
	$(FLASK) worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --threads 4 --bind $(HOST):$(PORT) \
		--access-logfile - 'portal:create_app()'

# The browser suite needs Debian's chromium; install it when we can, else the suite says why it skips.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
		echo "could not install chromium: the browser tests will be skipped"; \
	fi

# The mail tests start a real IMAP server: Debian's Dovecot (and openssl for its certificate).
mailserver:
	@if [ ! -x /usr/sbin/dovecot ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing dovecot-imapd for the mail tests"; \
		(apt-get install -y -qq dovecot-imapd openssl >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dovecot-imapd openssl >/dev/null 2>&1)) || \
		echo "could not install dovecot: the IMAP tests will be skipped"; \
	fi

test: install browser mailserver
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/search.py --articles 1000
	$(BIN)/python bench/relevance.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
