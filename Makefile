# The two Quick-start commands: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
export UV_LINK_MODE := copy
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: demo test lint deps system-deps bench-parsers

demo: deps
	$(UV) run aiguilleur demo

test: deps system-deps
	$(UV) run pytest

lint: deps
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

deps:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet

# Dovecot and Postfix for the end-to-end tests, Chromium for the browser tests (Playwright drives
# Debian's build; its own download does not work here), from Debian's packages (we run as root).
system-deps:
	@bash deploy/ensure-packages.sh dovecot-imapd dovecot-lmtpd postfix chromium
