# The two Quick-start commands: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
export UV_LINK_MODE := copy
# uv from PATH, or a pinned release fetched by the standard library (stock Debian has no pip).
UV := python3 deploy/uv.py

.PHONY: demo dev test lint deps system-deps mail-deps bench-parsers bench-chaos

demo: deps
	$(UV) run aiguilleur demo

# A whole local installation: mail stack, daemon, web UI (deploy/dev.py). Ctrl-C stops it.
dev: deps mail-deps
	$(UV) run python -m deploy.dev

test: deps system-deps
	$(UV) run pytest

lint: deps
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

deps:
	$(UV) sync --frozen --quiet

# Dovecot and Postfix for the end-to-end tests, Chromium for the browser tests (Playwright drives
# Debian's build; its own download does not work here), from Debian's packages (we run as root).
# libatomic1: Playwright's bundled node needs it, and a minimal Debian lacks it.
system-deps:
	@bash deploy/ensure-packages.sh dovecot-imapd dovecot-lmtpd postfix chromium libatomic1

mail-deps:
	@bash deploy/ensure-packages.sh dovecot-imapd dovecot-lmtpd postfix

# Crash bench (bench/chaos): N requests, K seeded SIGKILLs, SQLite and PostgreSQL, real mail stack.
bench-chaos: deps mail-deps
	$(UV) run python -m bench.chaos
