"""Parser benchmark: p50/p95 per input kind and peak memory.

Run: ``uv run python bench/parsers.py``. Prints a table and writes
``bench/results/parsers-<date>.json``.
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers import parse_document, parse_message  # noqa: E402
from tests.parsers.builders import (  # noqa: E402
    build_cda,
    build_mail,
    build_signalement_docx,
    build_signalement_pdf,
    build_teleexpertise_mail,
    build_xdm_zip,
)

TARGETS_MS = {"docx_form": 15.0, "cda": 3.0, "xdm": 5.0}
CORPUS_CDA = ROOT / ".." / "shared" / "corpus" / "ans-cda" / "LDL-SES_2022.01.xml"


def _cases() -> dict[str, tuple[int, Callable[[], object]]]:
    docx = build_signalement_docx()
    pdf = build_signalement_pdf()
    cda = CORPUS_CDA.read_bytes() if CORPUS_CDA.is_file() else build_cda()
    xdm = build_xdm_zip(cda)
    mail = build_mail(
        subject="Signalement",
        body="Nom : DUPONT\nDate de naissance : 12/03/1950\nCode postal : 75007\nALD : diabète\n",
    )
    te_mail = build_teleexpertise_mail()
    return {
        "docx_form": (len(docx), lambda: parse_document("f.docx", docx)),
        "pdf_form": (len(pdf), lambda: parse_document("f.pdf", pdf)),
        "cda": (len(cda), lambda: parse_document("d.xml", cda)),
        "xdm": (len(xdm), lambda: parse_document("IHE_XDM.ZIP", xdm)),
        "plain_mail": (len(mail), lambda: parse_message(mail)),
        "te_mail_docx_photos": (len(te_mail), lambda: parse_message(te_mail)),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(runs: int = 200) -> dict[str, object]:
    results: dict[str, object] = {}
    rows: list[str] = []
    for name, (size, run) in _cases().items():
        for _ in range(10):
            run()  # warm caches (data files, lxml parsers)
        timings: list[float] = []
        gc.collect()
        for _ in range(runs):
            started = time.perf_counter()
            run()
            timings.append((time.perf_counter() - started) * 1000)
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        p50, p95 = statistics.median(timings), _percentile(timings, 0.95)
        target = TARGETS_MS.get(name)
        results[name] = {
            "input_bytes": size,
            "p50_ms": round(p50, 3),
            "p95_ms": round(p95, 3),
            "peak_traced_bytes": peak,
            "peak_over_input": round(peak / size, 2),
            "target_p50_ms": target,
            "meets_target": None if target is None else p50 < target,
        }
        mark = "" if target is None else ("ok" if p50 < target else "SLOW")
        rows.append(
            f"{name:22} {size:>9} {p50:8.2f} {p95:8.2f} {peak / 1e6:9.2f} "
            f"{peak / size:7.1f}x {mark}"
        )
    # Memory bound: a 15 MB PDF attachment, peak compared with the attachment size.
    big = b"%PDF-1.4\n" + b"0" * 15_000_000
    big_mail = build_mail(subject="x", body="y", attachments=[("big.pdf", "application/pdf", big)])
    tracemalloc.start()
    parse_message(big_mail)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results["large_attachment"] = {
        "attachment_bytes": len(big),
        "peak_traced_bytes": peak,
        "peak_over_attachment": round(peak / len(big), 2),
        "target_ratio": 3.0,
        "meets_target": peak / len(big) < 3.0,
    }
    results["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{'kind':22} {'bytes':>9} {'p50 ms':>8} {'p95 ms':>8} {'peak MB':>9} {'peak/in':>8}")
    print("\n".join(rows))
    print(
        f"large attachment: peak {peak / 1e6:.1f} MB for {len(big) / 1e6:.1f} MB "
        f"({peak / len(big):.2f}x, target < 3x)"
    )
    out = ROOT / "bench" / "results" / f"parsers-{date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
