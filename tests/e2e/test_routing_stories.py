"""One full story per programme, through the real Dovecot + Postfix and the daemon subprocess.

Doctors are real mailboxes: they read the offer in their INBOX and hit "Reply".
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from deploy.mailstack import MailStack, MailUser
from gateway.cli.demo_routing import DemoDoctor
from tests.e2e.harness import (
    AIGUILLEUR,
    Gateway,
    signalement_mail,
    task_of,
    text_mail,
    wait_until,
)
from tests.support.replies import reply_to

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n% compte rendu ORL\n%%EOF\n"


def _user(stack: MailStack, prefix: str) -> MailUser:
    return stack.add_user(f"{prefix}-{uuid.uuid4().hex[:8]}@medecin.test")


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _one(gateway: Gateway, user: MailUser, subject_part: str) -> EmailMessage:
    """Wait for the message whose subject contains ``subject_part`` in ``user``'s INBOX."""

    def found() -> list[EmailMessage]:
        return [m for m in gateway.replies_to(user) if subject_part in str(m["Subject"])]

    wait_until(lambda: len(found()) == 1, what=f"'{subject_part}' for {user.address}")
    return found()[0]


def _reply(
    gateway: Gateway,
    user: MailUser,
    original: EmailMessage,
    text: str,
    files: tuple[tuple[str, bytes], ...] = (),
) -> None:
    """What a mail client does on "Reply": to Reply-To, "Re:" subject, threading, quote."""
    quoted = "\n".join(f"> {line}" for line in _body(original).splitlines())
    msg = reply_to(original, user.address, f"{text}\n\nLe 23/11/2026, CPTS a écrit :\n{quoted}\n")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    gateway.send(msg)


def _roster(gateway: Gateway, *doctors: DemoDoctor) -> None:
    gateway.doctors[:] = list(doctors)


def _two_gps_and_a_signalement(
    gateway: Gateway, professional: MailUser
) -> tuple[MailUser, MailUser]:
    """Two GPs in the roster, the daemon started, and an eligible signalement sent."""
    gp1, gp2 = _user(gateway.stack, "gp1"), _user(gateway.stack, "gp2")
    _roster(
        gateway,
        DemoDoctor("10000000001", "Dr Claire Martin", gp1.address),
        DemoDoctor("10000000002", "Dr Hugo Bernard", gp2.address),
    )
    gateway.start()
    gateway.send(signalement_mail(professional.address, gateway.address))
    return gp1, gp2


def test_signalement_refused_by_first_gp_accepted_by_second(
    gateway: Gateway, professional: MailUser
) -> None:
    gp1, gp2 = _two_gps_and_a_signalement(gateway, professional)

    offer1 = _one(gateway, gp1, "Proposition de nouveau patient")
    assert "ACCEPTE ou REFUSE" in _body(offer1) and "DURAND" not in _body(offer1)
    _reply(gateway, gp1, offer1, "Non merci, je ne prends plus de nouveaux patients.")

    offer2 = _one(gateway, gp2, "Proposition de nouveau patient")
    _reply(gateway, gp2, offer2, "J'accepte.")

    accepted = _one(gateway, professional, "Demande prise en charge")
    assert "Dr Hugo Bernard" in _body(accepted) and gp2.address in _body(accepted)
    task = task_of(accepted)
    assert task["status"] == "completed"
    assert task["businessStatus"]["coding"][0]["code"] == "medecin_trouve"  # type: ignore[index]
    confirmed = _one(gateway, gp2, "Prise en charge confirmée")
    assert "DURAND" in _body(confirmed) and professional.address in _body(confirmed)
    assert len(gateway.replies_to(gp1)) == 1  # the refusing GP hears nothing more
    (case,) = gateway.db().cases()
    assert case.status == "completed" and case.doctor_rpps == "10000000002"
    gateway.terminate()


def test_tele_expertise_broadcast_first_acceptance_and_avis_with_pdf(
    gateway: Gateway, professional: MailUser
) -> None:
    te_box = gateway.stack.add_user(f"te-{uuid.uuid4().hex[:8]}@cpts.test", "te-secret")
    gateway.extra_mailboxes.append(("te", "tele_expertise", te_box))
    orl1, orl2 = _user(gateway.stack, "orl1"), _user(gateway.stack, "orl2")
    _roster(
        gateway,
        # The requérant must be known: TE sender policy is "reject" by default.
        DemoDoctor("10000000005", "Dr Anne Roux", professional.address, capacity=0),
        DemoDoctor("10000000011", "Dr Alice Orl", orl1.address, "SM39", False, 0, (), ("orl",)),
        DemoDoctor("10000000012", "Dr Bruno Orl", orl2.address, "SM39", False, 0, (), ("orl",)),
    )
    gateway.start()
    request = text_mail(
        professional.address,
        te_box.address,
        "Demande de télé-expertise ORL",
        "Filière : ORL\nNom du patient : BLANC\nPrénom : Paul\nDate de naissance : 02/06/1985\n"
        "Accord du patient : oui\n"
        "Question : otite séreuse persistante depuis 3 mois, faut-il des aérateurs ?\n",
    )
    gateway.send(request)

    ask1 = _one(gateway, orl1, "Demande de télé-expertise")
    _one(gateway, orl2, "Demande de télé-expertise")
    _reply(gateway, orl1, ask1, "ACCEPTE")
    _one(gateway, orl2, "Demande déjà attribuée")
    taken = _one(gateway, professional, "Demande prise en charge")
    assert "Dr Alice Orl" in _body(taken)

    confirmed = _one(gateway, orl1, "Prise en charge confirmée")
    _reply(
        gateway,
        orl1,
        confirmed,
        "Avis : pose d'aérateurs trans-tympaniques recommandée. Compte rendu joint.",
        files=(("compte-rendu-orl.pdf", PDF),),
    )
    avis = _one(gateway, professional, "Avis de télé-expertise")
    assert "aérateurs trans-tympaniques" in _body(avis)
    files = {p.get_filename(): p.get_content() for p in avis.iter_attachments()}
    assert files["compte-rendu-orl.pdf"] == PDF
    assert task_of(avis)["status"] == "completed"
    acts = sorted((a.code, a.professional_email) for a in gateway.db().acts())
    assert acts == [("RQD", professional.address), ("TE2", orl1.address)]
    gateway.terminate()


def test_deadline_expiry_moves_the_offer_on(gateway: Gateway, professional: MailUser) -> None:
    gp1, gp2 = _two_gps_and_a_signalement(gateway, professional)
    _one(gateway, gp1, "Proposition de nouveau patient")

    def timers_at(hours: float) -> str:
        at = (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
        done = subprocess.run(
            [str(AIGUILLEUR), "timers", "--config", str(gateway.config_path), "--at", at],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    # The clock is moved, not waited for: before the 72 h deadline nothing happens...
    assert '"expired": 0' in timers_at(71)
    # ...after it, the offer expires and the running daemon sends the next one.
    assert '"expired": 1' in timers_at(73)
    _one(gateway, gp2, "Proposition de nouveau patient")
    offers = sorted((o.doctor_email, o.status) for o in gateway.db().offers())
    assert offers == sorted([(gp1.address, "expired"), (gp2.address, "pending")])
    gateway.terminate()


def test_escalation_when_no_gp_is_left(gateway: Gateway, professional: MailUser) -> None:
    gp1 = _user(gateway.stack, "gp1")
    coordinator = gateway.stack.add_user(f"coord-{uuid.uuid4().hex[:8]}@cpts.test")
    gateway.coordinator = coordinator
    _roster(gateway, DemoDoctor("10000000001", "Dr Claire Martin", gp1.address))
    gateway.start()
    gateway.send(signalement_mail(professional.address, gateway.address))
    offer = _one(gateway, gp1, "Proposition de nouveau patient")
    _reply(gateway, gp1, offer, "Je refuse, mon cabinet est complet.")

    waiting = _one(gateway, professional, "Recherche en cours")
    assert "pas encore trouvé de solution" in _body(waiting)
    assert task_of(waiting)["status"] == "in-progress"
    alert = _one(gateway, coordinator, "À traiter par un coordinateur")
    assert "Aucun autre médecin" in _body(alert)
    (case,) = gateway.db().cases()
    assert case.status == "waiting_coordinator"
    gateway.terminate()
