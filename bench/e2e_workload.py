"""Workload of the end-to-end bench: realistic requests, their submission, and the replies seen.

Requests are what professionals send: signalements with a DOCX form, télé-expertise mails
carrying a CDA R2 document (bare, or inside an IHE_XDM.ZIP). A few variants of each are built
once; every request then gets its own Message-ID, Date and sender by byte substitution, so
generating 10,000 requests costs well under a second and the bytes stay realistic.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime
from pathlib import Path

from bench.cda import SAMPLE_TIME, cda_document, xdm_archive, xdm_metadata
from gateway.cli.samples import signalement_docx

__all__ = [
    "MaildirWatcher",
    "Request",
    "RequestFactory",
    "Submitter",
    "count_files",
]

_FROM_MARK = "sender-placeholder@medecin.test"
_TO_MARK = "gateway-placeholder@cpts.test"
_ID_MARK = "<request-placeholder@bench.test>"
_DATE_MARK = "Mon, 01 Jan 2024 00:00:00 +0000"
# A mail client draws a new MIME boundary for every mail: so does each request.
_BOUNDARY_MARK = "===============0000000000000000000=="

# (nom, prénom, date de naissance, sexe, code postal, commune): inside the demo territory,
# so every signalement is eligible and offered to a roster GP.
_PATIENTS = (
    ("DURAND", "Jeanne", "12/03/1948", "F", "88400", "Gérardmer"),
    ("MOREL", "Louis", "04/11/1951", "M", "88200", "Remiremont"),
    ("GIRARD", "Odette", "27/06/1939", "F", "88100", "Saint-Dié-des-Vosges"),
    ("LAMBERT", "René", "15/01/1944", "M", "88400", "Gérardmer"),
)


@dataclass(frozen=True)
class Request:
    message_id: str
    sender: str
    to: str
    kind: str  # "signalement" or "tele_expertise"
    raw: bytes = field(repr=False)


def _docx_for(patient: tuple[str, str, str, str, str, str]) -> bytes:
    nom, prenom, naissance, sexe, cp, commune = patient
    return signalement_docx(
        [
            ("Nom du patient", nom),
            ("Prénom", prenom),
            ("Date de naissance", naissance),
            ("Sexe", sexe),
            ("Adresse", "3 rue des Tilleuls"),
            ("Code postal", cp),
            ("Commune", commune),
            ("Téléphone", "06 12 34 56 78"),
            ("Médecin traitant", "Non"),
            ("Patient en ALD", "☒ Oui ☐ Non"),
            ("Arrêt de travail", "☐ Oui ☒ Non"),
            ("Profession du signaleur", "Infirmière libérale"),
            ("Nom du signaleur", "Claire Petit"),
            ("Motif", "Départ en retraite du médecin traitant, suivi diabète."),
        ]
    )


def _cda_for(patient: tuple[str, str, str, str, str, str]) -> bytes:
    nom, prenom, naissance, sexe, cp, commune = patient
    day, month, year = naissance.split("/")
    # This section layout (one element a line) is the bench's input as it always was.
    body = """
    <component><section><title>Question posée</title>
      <text>Lésion pigmentée du dos évolutive : exérèse nécessaire ?</text></section></component>
  """
    return cda_document(
        title="Demande de téléexpertise",
        code="75496-0",
        doc_root="1.2.250.9999.1",
        doc_id=f"DOC-{nom}",
        when=SAMPLE_TIME,
        patient_id=None,
        family=nom,
        given=[prenom.upper()],
        sex=sexe,
        birth=f"{year}{month}{day}",
        postal_code=cp,
        city=commune.upper(),
        author_id="810001234567",
        author_code="G15_10/SM54",
        author_family="ROUX",
        author_given="Anne",
        body=body,
        coded_header=False,
    )


def _xdm_for(cda: bytes) -> bytes:
    return xdm_archive(
        [
            ("README.TXT", "Lot XDM"),
            ("INDEX.HTM", "<html><body>index</body></html>"),
            ("IHE_XDM/SUBSET01/METADATA.XML", xdm_metadata(cda)),
            ("IHE_XDM/SUBSET01/DOC0001.XML", cda),
        ]
    )


def _template(subject: str, body: str, attachment: tuple[str, str, bytes] | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = _FROM_MARK
    msg["To"] = _TO_MARK
    msg["Subject"] = subject
    msg["Date"] = _DATE_MARK
    msg["Message-ID"] = _ID_MARK
    msg.set_content(body)
    if attachment is not None:
        filename, content_type, data = attachment
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        msg.set_boundary(_BOUNDARY_MARK)
    raw = msg.as_bytes()
    for mark in (_FROM_MARK, _TO_MARK, _ID_MARK, _DATE_MARK):
        assert raw.count(mark.encode()) == 1, mark
    return raw


class RequestFactory:
    """Builds requests: two signalements (DOCX) for one télé-expertise (CDA or XDM)."""

    def __init__(self, *, te_every: int = 3) -> None:
        self._te_every = te_every
        self._signalements = [
            _template(
                "Signalement patient sans médecin traitant",
                "Bonjour,\n\nVeuillez trouver ci-joint un signalement.\n\nCordialement,\nC. Petit",
                (
                    "Signalement-sans-MT.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    _docx_for(p),
                ),
            )
            for p in _PATIENTS
        ]
        te_body = (
            "Bonjour,\n\nFilière : Dermatologie\n"
            "Question : lésion pigmentée évolutive, exérèse nécessaire ?\n"
            "Accord du patient : oui\n\nBien cordialement,\nDr Roux"
        )
        self._te: list[bytes] = []
        for i, patient in enumerate(_PATIENTS):
            cda = _cda_for(patient)
            attachment = (
                ("IHE_XDM.ZIP", "application/zip", _xdm_for(cda))
                if i % 2 == 0
                else ("demande-te.xml", "text/xml", cda)
            )
            subject = "Demande de télé-expertise dermatologie"
            self._te.append(_template(subject, te_body, attachment))
        # The ack-only workload: a signalement written in the body, for a patient who lives
        # outside the territory, so the one mail it causes is the answer to its sender.
        self._outside = [
            _template(
                "Signalement patient sans médecin traitant",
                f"Bonjour,\n\nJe vous signale {prenom} {nom}, né(e) le {naissance}, qui vit "
                "au 12 rue de la Roquette, 75011 Paris, et n'a plus de médecin traitant "
                "depuis le départ en retraite du sien. Patient(e) en ALD.\n\n"
                "Cordialement,\nC. Petit, infirmière",
                None,
            )
            for nom, prenom, naissance, *_ in _PATIENTS
        ]
        self._count = 0
        self._run = os.urandom(4).hex()

    def make(
        self, sender: str, signalement_to: str, te_to: str, *, kind: str | None = None
    ) -> Request:
        i = self._count
        self._count += 1
        is_te = (
            i % self._te_every == self._te_every - 1 if kind is None else kind == "tele_expertise"
        )
        variants = self._te if is_te else self._signalements
        if kind == "ack_only":
            variants = self._outside
        template = variants[i % len(variants)]
        message_id = f"<req-{self._run}-{i:06d}@medecin.test>"
        to = te_to if is_te else signalement_to
        raw = (
            template.replace(_FROM_MARK.encode(), sender.encode())
            .replace(_TO_MARK.encode(), to.encode())
            .replace(_ID_MARK.encode(), message_id.encode())
            .replace(_DATE_MARK.encode(), format_datetime(datetime.now(UTC)).encode())
            .replace(_BOUNDARY_MARK.encode(), f"==============={os.urandom(8).hex()}000==".encode())
        )
        return Request(message_id, sender, to, "tele_expertise" if is_te else "signalement", raw)

    def batch(
        self,
        n: int,
        senders: Sequence[str],
        signalement_to: str,
        te_to: str,
        *,
        kind: str | None = None,
    ) -> list[Request]:
        """``n`` requests: the mixed workload, or all of one ``kind`` (``ack_only`` too)."""
        return [
            self.make(senders[i % len(senders)], signalement_to, te_to, kind=kind) for i in range(n)
        ]


class Submitter:
    """Submits requests to Postfix on one SMTP connection; records when each got its 250."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port

    def submit(self, requests: Sequence[Request], *, rate: float | None = None) -> dict[str, float]:
        """Send all (at ``rate`` per second if given); returns Message-ID → time.time() of 250."""
        accepted: dict[str, float] = {}
        started = time.monotonic()
        with smtplib.SMTP(self._host, self._port, timeout=60) as smtp:
            for index, request in enumerate(requests):
                if rate is not None:
                    due = started + index / rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                smtp.sendmail(request.sender, [request.to], request.raw)
                accepted[request.message_id] = time.time()
        return accepted

    def submit_in_thread(
        self, requests: Sequence[Request], *, rate: float | None = None
    ) -> tuple[threading.Thread, dict[str, float]]:
        result: dict[str, float] = {}

        def work() -> None:
            result.update(self.submit(requests, rate=rate))

        thread = threading.Thread(target=work, name="submitter", daemon=True)
        thread.start()
        return thread, result


_HEADERS = BytesHeaderParser(policy=compat32)


def count_files(folders: Iterable[Path]) -> int:
    """Messages in Maildir folders (new/ and cur/)."""
    total = 0
    for folder in folders:
        for sub in ("new", "cur"):
            with contextlib.suppress(FileNotFoundError):
                total += sum(1 for _ in os.scandir(folder / sub))
    return total


@dataclass
class Delivered:
    message_id: str
    in_reply_to: str
    at: float  # ctime of the file in new/: when Dovecot delivered it


class MaildirWatcher:
    """Polls the senders' Maildirs; keeps, per request Message-ID, every reply delivered."""

    def __init__(self, folders: Sequence[Path], *, interval: float = 0.02) -> None:
        self._folders = list(folders)
        self._interval = interval
        self._seen: set[str] = set()
        self.replies: dict[str, list[Delivered]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scan(self) -> None:
        for folder in self._folders:
            for sub in ("new", "cur"):
                try:
                    entries = list(os.scandir(folder / sub))
                except FileNotFoundError:
                    continue
                for entry in entries:
                    key = entry.name.split(":", 1)[0]
                    if key in self._seen:
                        continue
                    try:
                        at = entry.stat().st_ctime
                        with open(entry.path, "rb") as handle:
                            head = handle.read(16384)
                    except FileNotFoundError:  # moved new/ → cur/ meanwhile
                        continue
                    self._seen.add(key)
                    headers = _HEADERS.parsebytes(head.split(b"\n\n", 1)[0] + b"\n\n")
                    irt = str(headers.get("In-Reply-To", "")).strip()
                    item = Delivered(str(headers.get("Message-ID", "")).strip(), irt, at)
                    with self._lock:
                        self.replies.setdefault(irt, []).append(item)

    def baseline(self) -> MaildirWatcher:
        """Forget what is already delivered (a warm-up's mails): count only what comes next."""
        self.scan()
        with self._lock:
            self.replies.clear()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.scan()
            self._stop.wait(self._interval)

    def start(self) -> MaildirWatcher:
        self._thread = threading.Thread(target=self._loop, name="maildir-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.scan()

    def total(self) -> int:
        with self._lock:
            return sum(len(items) for items in self.replies.values())

    def last_at(self) -> float:
        """When the last mail seen was delivered (0 before any)."""
        with self._lock:
            return max((d.at for items in self.replies.values() for d in items), default=0.0)

    def answered(self, ids: Sequence[str]) -> int:
        with self._lock:
            return sum(1 for i in ids if i in self.replies)

    def first_reply_at(self, message_id: str) -> float | None:
        with self._lock:
            found = self.replies.get(message_id)
            return min(d.at for d in found) if found else None

    def duplicates(self, ids: Sequence[str]) -> int:
        """Replies beyond the first per request (an exactly-once sender has none)."""
        with self._lock:
            return sum(max(0, len(self.replies.get(i, [])) - 1) for i in ids)

    def wait_for(self, ids: Sequence[str], *, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answered(ids) >= len(ids):
                return True
            time.sleep(0.05)
        return self.answered(ids) >= len(ids)


def smtp_tls_context(ca_path: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_path))
