"""Imported once by the parse pool's fork server, the process every parse worker is forked from.

Loading the parsers and the NLP pipeline here rather than in each worker lets the workers
share those pages (copy on write), and a worker replaced after a timeout or a crash starts
in milliseconds instead of loading EDS-NLP again (about 4 CPU-seconds).
"""

from __future__ import annotations

import os

# The server must hold no thread but its own when it forks: a lock another thread holds at
# that moment stays locked for ever in the child. Two libraries under EDS-NLP start one
# unless told not to: OpenBLAS (numpy's; nothing here multiplies matrices) as it loads, set
# before numpy is imported; tqdm, whose progress bar the fuzzy matcher's index build opens,
# a monitor thread. (pyarrow's jemalloc would be a third: pyarrow is kept out below.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import contextlib
import gc
import importlib
import sys

# pandas (which EDS-NLP reads its verb tables with) loads pyarrow whenever it is installed:
# 60 MB a worker never uses. A None entry makes its import fail, the case pandas is written
# for (it then keeps strings as Python objects). Nothing a worker runs reads Arrow data.
sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]

from gateway.heap import release_free_heap  # noqa: E402
from gateway.pipeline import parse_pool  # noqa: E402, F401  the workers' own module, imported once
from parsers.prose import warm_up  # noqa: E402

with contextlib.suppress(ImportError):
    importlib.import_module("tqdm").tqdm.monitor_interval = 0  # tqdm's documented switch

# A failure here must not take the fork server down: each worker's initializer loads the
# pipeline again and reports what went wrong there, as it did before the fork server.
with contextlib.suppress(Exception):
    warm_up()
# What loading made and dropped (import-time temporaries, spaCy's French TOKEN_MATCH) goes
# back to the system, not into every worker's copy of the heap.
gc.collect()
release_free_heap()
# Objects made so far live as long as the server: out of the collector's reach, the
# workers never write to their headers, so those pages stay shared.
gc.freeze()
