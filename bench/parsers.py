"""Parser benchmark: p50/p95 per input kind and peak memory.

Run: ``uv run python -m bench.parsers`` (or ``uv run python bench/parsers.py``).
Prints a table and writes ``bench/results/parsers-<date>.json``. The memory
bound (issue 3): a parse peaks under 3x its largest attachment.
"""

from __future__ import annotations

import base64
import gc
import json
import os
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
from parsers.prose import warm_up  # noqa: E402
from tests.parsers.builders import (  # noqa: E402
    build_cda,
    build_mail,
    build_signalement_docx,
    build_signalement_pdf,
    build_teleexpertise_mail,
    build_xdm_zip,
)
from tests.parsers.der import signed_data  # noqa: E402

TARGETS_MS = {"docx_form": 15.0, "cda": 3.0, "xdm": 5.0, "plain_mail": 15.0, "prose_mail": 15.0}
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
    # What a nurse writes: identity, situation and criteria in sentences, a signature.
    prose = build_mail(
        subject="Signalement patient sans médecin traitant",
        body=(
            "Bonjour,\n\nJe vous signale Mme Jeanne THIRIET, née le 02/03/1948, domiciliée 3 rue "
            "du Lac 88400 Gérardmer. Elle n'a plus de médecin traitant depuis le départ en "
            "retraite du Dr Voirin. Elle est en ALD 8 (diabète) et sort d'hospitalisation le "
            "10/06, un suivi est nécessaire. Pas d'arrêt de travail.\n\nBien cordialement,\n"
            "Claire Colin\nInfirmière libérale - RPPS 10100000029\n"
        ),
    )
    return {
        "prose_mail": (len(prose), lambda: parse_message(prose)),
        "docx_form": (len(docx), lambda: parse_document("f.docx", docx)),
        "pdf_form": (len(pdf), lambda: parse_document("f.pdf", pdf)),
        "cda": (len(cda), lambda: parse_document("d.xml", cda)),
        "xdm": (len(xdm), lambda: parse_document("IHE_XDM.ZIP", xdm)),
        "plain_mail": (len(mail), lambda: parse_message(mail)),
        "te_mail_docx_photos": (len(te_mail), lambda: parse_message(te_mail)),
    }


def _large_cases() -> list[tuple[str, int, bytes]]:
    """(name, attachment size, raw mail) for the memory bound."""
    big = b"%PDF-1.4\n" + b"0" * 15_000_000
    mail = build_mail(subject="x", body="y", attachments=[("big.pdf", "application/pdf", big)])
    image = b"\xff\xd8\xff\xe0" + b"\x01" * 15_000_000
    image_mail = build_mail(subject="x", body="y", attachments=[("scan.jpg", "image/jpeg", image)])
    # Opaque-signed S/MIME; 10 MB so that the twice-encoded mail stays under 25 MB.
    signed_pdf = b"%PDF-1.4\n" + b"0" * 10_000_000
    inner = build_mail(
        subject="x", body="y", attachments=[("big.pdf", "application/pdf", signed_pdf)]
    )
    signed = (
        b"From: a@b.fr\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(signed_data(inner))
    )
    return [
        ("large_attachment", len(big), mail),
        ("large_image_attachment", len(image), image_mail),
        ("large_signed_attachment", len(signed_pdf), signed),
    ]


def _rss_mb() -> float:
    """Resident memory of this process: what one parse worker holds with its pipeline."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(runs: int = 200) -> dict[str, object]:
    loading = time.perf_counter()
    warm_up()  # the NLP pipeline loads once per process (each parse worker at its start)
    results: dict[str, object] = {
        "nlp_load_s": round(time.perf_counter() - loading, 2),
        "rss_with_nlp_mb": round(_rss_mb(), 1),
    }
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
    # Memory bound: peak traced memory of one parse against its largest attachment.
    memory_rows: list[str] = []
    for name, attachment, raw in _large_cases():
        gc.collect()
        started = time.perf_counter()
        parse_message(raw)
        elapsed = time.perf_counter() - started  # untraced: tracemalloc slows allocations
        gc.collect()
        tracemalloc.start()
        parse_message(raw)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results[name] = {
            "attachment_bytes": attachment,
            "message_bytes": len(raw),
            "peak_traced_bytes": peak,
            "peak_over_attachment": round(peak / attachment, 2),
            "parse_s": round(elapsed, 3),
            "target_ratio": 3.0,
            "meets_target": peak / attachment < 3.0,
        }
        memory_rows.append(
            f"{name:24} peak {peak / 1e6:6.1f} MB for {attachment / 1e6:4.1f} MB "
            f"({peak / attachment:.2f}x, target < 3x), parse {elapsed:.2f} s"
        )
    results["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{'kind':22} {'bytes':>9} {'p50 ms':>8} {'p95 ms':>8} {'peak MB':>9} {'peak/in':>8}")
    print("\n".join(rows))
    print("\n".join(memory_rows))
    out = ROOT / "bench" / "results" / f"parsers-{date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
