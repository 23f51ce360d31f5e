# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test install setup browser mailserver signin-servers lint format bench clean

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

# The browser suite needs Debian's chromium and, for its accessibility checks, axe-core from npm
# (tests/browser/axe); install them when we can, else the suite says why it skips.
AXE_DIR := tests/browser/axe
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
		echo "could not install chromium: the browser tests will be skipped"; \
	fi
	@if [ ! -f $(AXE_DIR)/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
		echo "installing axe-core for the accessibility checks"; \
		npm ci --prefix $(AXE_DIR) --no-audit --no-fund --silent || \
		echo "could not install axe-core: the accessibility checks will be skipped"; \
	fi

# The mail tests start a real IMAP server: Debian's Dovecot (and openssl for its certificate).
mailserver:
	@if [ ! -x /usr/sbin/dovecot ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing dovecot-imapd for the mail tests"; \
		(apt-get install -y -qq dovecot-imapd openssl >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dovecot-imapd openssl >/dev/null 2>&1)) || \
		echo "could not install dovecot: the IMAP tests will be skipped"; \
	fi


# The sign-in tests start a real OpenID Provider (oidc-provider on Node, from npm) and a real
# OpenLDAP (Debian's slapd). Both install in seconds; without them those tests say why they skip.
PROVIDER_DIR := tests/accounts/oidc_provider
signin-servers:
	@if [ ! -d $(PROVIDER_DIR)/node_modules/oidc-provider ] && command -v npm >/dev/null; then \
		echo "installing oidc-provider for the sign-in tests"; \
		npm ci --prefix $(PROVIDER_DIR) --no-audit --no-fund --silent || \
		echo "could not install oidc-provider: the OpenID Connect tests will be skipped"; \
	fi
	@if [ ! -x /usr/sbin/slapd ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing slapd for the LDAP tests"; \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd >/dev/null 2>&1)) || \
		echo "could not install slapd: the LDAP tests will be skipped"; \
	fi

test: install browser mailserver signin-servers
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
