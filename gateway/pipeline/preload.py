"""Imported once by the parse pool's fork server, the process every parse worker is forked from.

Loading the parsers and the NLP pipeline here rather than in each worker lets the workers
share those pages (copy on write), and a worker replaced after a timeout or a crash starts
in milliseconds instead of loading EDS-NLP again (about 4 CPU-seconds).
"""

from __future__ import annotations

import contextlib
import gc

from gateway.pipeline import parse_pool  # noqa: F401  the workers' own module, imported once
from parsers.prose import warm_up

# A failure here must not take the fork server down: each worker's initializer loads the
# pipeline again and reports what went wrong there, as it did before the fork server.
with contextlib.suppress(Exception):
    warm_up()
# Objects made so far live as long as the server: out of the collector's reach, the
# workers never write to their headers, so those pages stay shared.
gc.freeze()
