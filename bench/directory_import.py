"""Directory import benchmark: a realistic Personne_activite extract into a fresh SQLite DB.

Run: ``uv run python bench/directory_import.py [--rows N] [--latin1]``. Generates the
extract in a temporary directory (not timed), imports it, re-imports it unchanged,
prints a table and writes ``bench/results/directory-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.directory.extract import PERSONNE_ACTIVITE_HEADER  # noqa: E402
from gateway.directory.importer import ImportSummary, import_file  # noqa: E402
from gateway.storage.db import make_engine, upgrade  # noqa: E402

TARGET_ROWS_PER_S = 100_000

HEADER = PERSONNE_ACTIVITE_HEADER
# The older spelling some files use (FORMATS.md §4), for the latin-1 variant.
VARIANT_HEADER = HEADER.replace("Libellé civilité d'exercice", "Libellé civilité exercice").replace(
    "(coord. structure)", "(coord. Structure)"
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FAMILY = _words(
    "MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL "
    "LEFÈVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE "
    "ROUSSEAU VINCENT MULLER FAURE ANDRÉ MERCIER BLANC GUÉRIN BOYER GARNIER CHEVALIER FRANÇOIS"
)
GIVEN = _words(
    "Jean Marie Nathalie Hélène Éloïse Gaëlle Noël Bérénice Céline François Jérôme Zoé "
    "Chloé Léa Loïc Anaïs Benoît Maëlle Sébastien Clément Inès Agnès Raphaël Thérèse"
)
# (INSEE, postal code, label, département code, département label)
COMMUNES = (
    ("75056", "75011", "Paris", "75", "Paris"),
    ("69123", "69003", "Lyon", "69", "Rhône"),
    ("13055", "13005", "Marseille", "13", "Bouches-du-Rhône"),
    ("31555", "31000", "Toulouse", "31", "Haute-Garonne"),
    ("59350", "59000", "Lille", "59", "Nord"),
    ("35238", "35000", "Rennes", "35", "Ille-et-Vilaine"),
    ("29019", "29200", "Brest", "29", "Finistère"),
    ("2A004", "20000", "Ajaccio", "2A", "Corse-du-Sud"),
    ("42218", "42000", "Saint-Étienne", "42", "Loire"),
    ("74010", "74000", "Annecy", "74", "Haute-Savoie"),
    ("97411", "97400", "Saint-Denis", "974", "La Réunion"),
    ("63113", "63000", "Clermont-Ferrand", "63", "Puy-de-Dôme"),
)
# (profession code, label, weight, savoir-faire choices)
PROFESSIONS = (
    ("10", "Médecin", 30, (("SM54", "Médecine générale"), ("SM26", "Qualifié en Médecine Générale"),
                            ("SM04", "Cardiologie"), ("SM15", "Dermatologie et vénéréologie"),
                            ("SM39", "Oto-rhino-laryngologie"), ("SM44", "Radio-diagnostic"),
                            ("SM40", "Pédiatrie"), ("SM42", "Psychiatrie"))),
    ("60", "Infirmier", 30, (("", ""),)),
    ("21", "Pharmacien", 10, (("", ""),)),
    ("70", "Masseur-Kinésithérapeute", 12, (("", ""),)),
    ("40", "Chirurgien-Dentiste", 6, (("", ""), ("SCD01", "Orthopédie dento-faciale"))),
    ("50", "Sage-Femme", 4, (("", ""),)),
    ("91", "Orthophoniste", 4, (("", ""),)),
    ("80", "Pédicure-Podologue", 2, (("", ""),)),
    ("95", "Diététicien", 2, (("", ""),)),
)  # fmt: skip
MODES = (("L", "Libéral,indépendant,artisan,commerçant"), ("S", "Salarié"), ("B", "Bénévole"))
VOIES = (("R", "Rue"), ("AV", "Avenue"), ("BD", "Boulevard"), ("PL", "Place"), ("CHE", "Chemin"))
STREETS = ("DE LA RÉPUBLIQUE", "VICTOR HUGO", "DU GÉNÉRAL DE GAULLE", "DES ÉCOLES", "JEAN JAURÈS")
SECTORS = (("SA07", "Cabinet individuel"), ("SA08", "Cabinet de groupe"), ("SA01", "Hôpital"))


def _person_rows(rng: random.Random, n: int, weights: list[int]) -> list[str]:
    """The activity lines of one professional (one to three structures)."""
    code, label, _w, savoirs = rng.choices(PROFESSIONS, weights)[0]
    adeli = code in ("95",) or rng.random() < 0.03
    if adeli:
        pp_type, pp_id = "0", f"{rng.choice(('75', '69', '2A', '13'))}{n % 10_000_000:07d}"
    else:
        pp_type, pp_id = "8", f"1{n:010d}"
    sf_code, sf_label = rng.choice(savoirs)
    family, given = rng.choice(FAMILY), rng.choice(GIVEN)
    civ = ("DR", "Docteur") if code in ("10", "40") else ("", "")
    sex = rng.choice((("M", "Monsieur"), ("MME", "Madame")))
    lines = []
    for k in range(rng.choices((1, 2, 3), (70, 25, 5))[0]):
        insee, cp, commune, dep, dep_label = rng.choice(COMMUNES)
        mode = rng.choice(MODES)
        sector = rng.choice(SECTORS)
        voie = rng.choice(VOIES)
        siret = f"{rng.randrange(10**13, 10**14)}"
        name = f"CABINET {family}" if sector[0] != "SA01" else f"CENTRE HOSPITALIER DE {commune}"
        email = f"cabinet{n}.{k}@exemple.fr" if rng.random() < 0.2 else ""
        fields = [
            pp_type, pp_id, pp_type + pp_id, *civ, *sex, family, given, code, label,
            "C", "Civil", "S" if sf_code else "", "Spécialité ordinale" if sf_code else "",
            sf_code, sf_label, *mode, siret, siret[:9], "", "",
            f"R{10_000_000_000 + n * 3 + k}", name, "", "", "",
            str(rng.randrange(1, 200)), rng.choice(("", "B", "T")), *voie, rng.choice(STREETS),
            "", "", cp, insee, commune, "99000", "France",
            f"0{rng.randrange(100_000_000, 999_999_999)}", "", "", email, dep, dep_label,
            "", "CNOM/CNOM/CNOM", *sector, "", "",
        ]  # fmt: skip
        lines.append("|".join(fields) + "|\n")
    return lines


def generate(path: Path, rows: int, *, latin1: bool = False, seed: int = 20261123) -> int:
    """Write a Personne_activite extract of ``rows`` activity lines; returns its size."""
    rng = random.Random(seed)
    weights = [p[2] for p in PROFESSIONS]
    encoding = "latin-1" if latin1 else "utf-8"
    written = 0
    person = 0
    with path.open("w", encoding=encoding, newline="") as out:
        out.write((VARIANT_HEADER if latin1 else HEADER) + "\n")
        buffer: list[str] = []
        while written < rows:
            person += 1
            for line in _person_rows(rng, person, weights)[: rows - written]:
                buffer.append(line)
                written += 1
            if len(buffer) >= 10_000:
                out.writelines(buffer)
                buffer.clear()
        out.writelines(buffer)
    return path.stat().st_size


def _peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    # ru_maxrss is in KiB on Linux; for RUSAGE_CHILDREN, the largest child.
    return resource.getrusage(who).ru_maxrss / 1024


def _timed_import(db_url: str, extract: Path, workers: int | None) -> tuple[ImportSummary, float]:
    engine = make_engine(db_url)
    try:
        start = time.perf_counter()
        summary = import_file(engine, extract, progress=False, workers=workers)
        return summary, time.perf_counter() - start
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--latin1", action="store_true", help="latin-1 file, variant header")
    parser.add_argument("--keep", type=Path, help="write the extract and DB here and keep them")
    parser.add_argument("--no-write", action="store_true", help="do not write the JSON result")
    parser.add_argument(
        "--workers", type=int, default=None, help="parsing processes (0: in-process; default auto)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="aig-bench-dir-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        extract = work / "PS_LibreAcces_Personne_activite_202611230000.txt"
        t0 = time.perf_counter()
        size = generate(extract, args.rows, latin1=args.latin1)
        gen_s = time.perf_counter() - t0
        rss_before = _peak_rss_mib()
        db = work / "directory.db"
        db.unlink(missing_ok=True)
        db_url = f"sqlite:///{db}"
        upgrade(db_url)

        first, first_s = _timed_import(db_url, extract, args.workers)
        rss_first = _peak_rss_mib()
        again, again_s = _timed_import(db_url, extract, args.workers)
        rss_peak = _peak_rss_mib()
        db_size = db.stat().st_size

    result = {
        "date": date.today().isoformat(),
        "rows": args.rows,
        "latin1": args.latin1,
        "workers": args.workers if args.workers is not None else "auto",
        "cpus": os.cpu_count(),
        "file_mib": round(size / 2**20, 1),
        "generation_s": round(gen_s, 2),
        "import_s": round(first_s, 2),
        "import_rows_per_s": round(args.rows / first_s),
        "reimport_s": round(again_s, 2),
        "reimport_rows_per_s": round(args.rows / again_s),
        "peak_rss_mib_before_import": round(rss_before, 1),
        "peak_rss_mib_after_import": round(rss_first, 1),
        "peak_rss_mib": round(rss_peak, 1),
        "peak_rss_mib_worker": round(_peak_rss_mib(resource.RUSAGE_CHILDREN), 1),
        "db_mib": round(db_size / 2**20, 1),
        "first": asdict(first),
        "reimport": asdict(again),
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
    }
    print(f"{'measure':<28}{'value':>14}")
    for label, key in (
        ("rows", "rows"),
        ("file size (MiB)", "file_mib"),
        ("import (s)", "import_s"),
        ("import rows/s", "import_rows_per_s"),
        ("re-import (s)", "reimport_s"),
        ("re-import rows/s", "reimport_rows_per_s"),
        ("peak RSS (MiB)", "peak_rss_mib"),
        ("peak RSS worker (MiB)", "peak_rss_mib_worker"),
        ("database (MiB)", "db_mib"),
    ):
        print(f"{label:<28}{result[key]!s:>14}")
    print(
        f"first: {first.inserted} inserted, {first.rejected} rejected; "
        f"re-import: {again.unchanged} unchanged, {again.updated} updated, "
        f"{again.deactivated} deactivated"
    )
    if not args.no_write:
        out = ROOT / "bench" / "results" / f"directory-{result['date']}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"written {out.relative_to(ROOT)}")
    return 0 if result["import_rows_per_s"] >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
