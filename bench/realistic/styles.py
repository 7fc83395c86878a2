"""Writing styles: how one request's facts become a subject, a body and attachments."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bench.cda import cda_document, cda_sections

from .case import DAC_MEDICAL, DAC_SOCIAL, Case
from .content import (
    birth_inline,
    contradiction_sentence,
    fact_rows,
    fact_sentences,
    first_person_sentences,
    kin_phrase,
    request_line,
    requis_text,
    rpps_line,
    signature_lines,
    subject,
)
from .dates import MONTHS, fmt_date, fmt_short
from .documents import (
    MARKS,
    Row,
    docx_form,
    pdf_acroform,
    pdf_text,
    te_docx_controls,
    xdm_zip,
)
from .people import ascii_fold
from .phrasing import (
    agree,
    ald_label,
    civil_name,
    closing,
    filiere_label,
    greeting,
    identity_labels,
    identity_sentence,
    mt_label,
    patient_name,
    typos,
)
from .territory import in_commune

__all__ = ["STYLES", "Rendered", "render"]

STYLES = (
    "terse_labels",
    "prose",
    "secretary_template",
    "discharge_note",
    "social_worker_report",
    "family_mail",
    "patient_mail",
    "html_signature",
    "forwarded_chain",
    "docx_form",
    "pdf_form",
    "cda",
    "short_note",
)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Rendered:
    subject: str
    text: str | None = None
    html: str | None = None
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    logo: bool = False
    from_display: str | None = None


def render(case: Case, rng: random.Random) -> Rendered:
    renderers: dict[str, Callable[[Case, random.Random], Rendered]] = {
        "terse_labels": _terse_labels,
        "prose": _prose,
        "secretary_template": _secretary,
        "discharge_note": _discharge,
        "social_worker_report": _social_report,
        "family_mail": _family,
        "patient_mail": _patient,
        "html_signature": _html_signature,
        "forwarded_chain": _forwarded,
        "docx_form": _docx,
        "pdf_form": _pdf,
        "cda": _cda,
        "short_note": _short_note,
    }
    out = renderers[case.style](case, rng)
    if out.from_display is None:
        out.from_display = _display_name(case, rng)
    return out


# -- Shared pieces ----------------------------------------------------------------------
def _display_name(case: Case, rng: random.Random) -> str:
    r = case.reporter
    if r.role == "family" and not r.signs_family_name:
        return rng.choice(("", r.given_name))
    if r.secretary and r.sender:
        return rng.choice((f"Dr {r.sender.given_name} {r.sender.family_name}", ""))
    return rng.choice(
        (f"{r.given_name} {r.family_name}", f"{r.family_name.upper()} {r.given_name}", "")
    )


def _lead(case: Case, rng: random.Random) -> str:
    return rng.choice(
        {
            "signalement": (
                "Je vous signale",
                "Je me permets de vous signaler",
                "Je vous adresse la situation de",
                "Je souhaite vous signaler",
                "Signalement concernant",
            ),
            "appui_dac": (
                "Je sollicite l'appui du DAC pour",
                "Je vous adresse une demande d'appui à la coordination pour",
                "Demande d'intervention du DAC concernant",
                "Je souhaiterais votre appui pour",
            ),
            "medecin_referent": (
                "Je vous transmets la déclaration médecin référent de",
                "Déclaration médecin référent pour",
                "Je souhaite inscrire au dispositif médecin référent",
            ),
            "tele_expertise": (
                "Il s'agit de",
                "Je vous sollicite au sujet de",
                "Demande d'avis concernant",
                "Patient concerné :",
            ),
        }[case.programme]
    )


def _sig(case: Case, rng: random.Random) -> str:
    return "\n".join(signature_lines(case, rng))


def _join(paragraphs: list[str]) -> str:
    return "\n\n".join(p for p in paragraphs if p) + "\n"


def _prose_paragraphs(case: Case, rng: random.Random, *, contradiction: bool = True) -> list[str]:
    facts = fact_sentences(case, rng)
    split = rng.randint(0, len(facts))
    first = identity_sentence(case, rng, _lead(case, rng))
    if facts[:split] and rng.random() < 0.5:
        first += " " + " ".join(facts[:split])
        facts = facts[split:]
    paragraphs = [first, " ".join(facts)]
    if contradiction and case.contradiction:
        paragraphs.append(
            rng.choice(("Par ailleurs, ", "PS : ", "Précision : ", ""))
            + contradiction_sentence(case, rng)
        )
    paragraphs.append(request_line(case, rng))
    return paragraphs


def _sep(rng: random.Random) -> str:
    return rng.choice((" : ", ": ", " : ", " - ", " :"))


def _rows_text(rows: list[Row], rng: random.Random) -> str:
    sep = _sep(rng)
    return "\n".join(f"{label}{sep}{value}" if label else value for label, value in rows)


# -- terse_labels ------------------------------------------------------------------------
def _terse_labels(case: Case, rng: random.Random) -> Rendered:
    rows = identity_labels(case, rng, terse=True) + fact_rows(case, rng, terse=True)
    if case.contradiction:
        rows.append(("Remarque", contradiction_sentence(case, rng)))
    head = rng.choice(("", "Bonjour,", "Bjr,", "Bonjour"))
    title = rng.choice(("", subject(case, rng).upper(), "Infos patient :"))
    sig = signature_lines(case, rng)
    body = _join(
        [
            head,
            title,
            _rows_text(rows, rng),
            rng.choice(("Merci", "Cdlt", "")),
            "\n".join(x for x in (sig[0], rpps_line(case)) if x),
        ]
    )
    if rng.random() < 0.4:
        body = ascii_fold(body)
    return Rendered(subject(case, rng), text=body)


# -- prose -------------------------------------------------------------------------------
def _prose(case: Case, rng: random.Random) -> Rendered:
    paragraphs = _prose_paragraphs(case, rng)
    if rng.random() < 0.3:
        paragraphs = [typos(p, rng) for p in paragraphs]
    body = _join([greeting(rng), *paragraphs, closing(rng), _sig(case, rng)])
    return Rendered(subject(case, rng), text=body)


# -- secretary_template ------------------------------------------------------------------
def _patient_line(case: Case, rng: random.Random, *, ins: bool = False) -> str:
    """The combined identity line: Patient : NOM Prénom, né(e) le 01/02/1950[, INS …]."""
    p = case.patient
    parts = []
    name = ""
    if case.show_family:
        name = p.family_name.upper()
    if case.show_given:
        name = f"{name} {p.given}".strip()
    if name:
        parts.append(name)
    if case.birth_mode == "date":
        parts.append(
            ("née le " if p.sex == "F" else "né le ") + fmt_date(p.birth_date, rng, "numeric")
        )
    elif case.birth_mode == "age":
        parts.append(f"{case.age} ans")
    if ins:
        parts.append(f"INS {p.ins}")
    return rng.choice(
        ("Patient : ", "Patient(e) : ", "Patiente : " if p.sex == "F" else "Patient : ")
    ) + ", ".join(parts)


def _secretary(case: Case, rng: random.Random) -> Rendered:
    s = case.reporter.sender
    assert s is not None
    doctor = f"Dr {s.given_name} {s.family_name}"
    if case.reporter.show_rpps:
        doctor += f" (RPPS {s.rpps})"
    purpose = {
        "signalement": "un signalement de patient",
        "appui_dac": "une demande d'appui à la coordination",
        "medecin_referent": "la déclaration médecin référent",
        "tele_expertise": "une demande de télé-expertise",
    }[case.programme]
    intro = rng.choice(
        (
            f"Pour le {doctor}, veuillez trouver ci-dessous {purpose}.",
            f"À la demande du {doctor}, je vous transmets {purpose}.",
            f"Pour le {doctor} : {purpose}.",
        )
    )
    inline_ins = case.show_ins and rng.random() < 0.5
    skip: tuple[str, ...] = ("Nom", "Prénom", "Date", "Né", "DDN", "Âge")
    if inline_ins:
        skip += ("N° INS", "INS", "NIR", "N° sécurité sociale", "Matricule INS")
    rows = [r for r in identity_labels(case, rng, terse=False) if not r[0].startswith(skip)]
    lines = [_patient_line(case, rng, ins=inline_ins)]
    if rows:
        lines.append(_rows_text(rows, rng))
    facts = fact_rows(case, rng, terse=False)
    if case.contradiction:
        facts.append(("Remarque", contradiction_sentence(case, rng)))
    body = _join(
        [
            greeting(rng),
            intro,
            "\n".join(lines),
            _rows_text(facts, rng),
            request_line(case, rng),
            rng.choice(("Bien cordialement,", "Cordialement,")),
            _sig(case, rng),
        ]
    )
    return Rendered(subject(case, rng), text=body)


# -- discharge_note ----------------------------------------------------------------------
_ANTECEDENTS = (
    "HTA",
    "dyslipidémie",
    "arthrose",
    "cataracte opérée",
    "hypothyroïdie",
    "appendicectomie",
    "glaucome",
    "reflux gastro-œsophagien",
)
_REASONS = (
    "pneumopathie",
    "chute avec fracture du poignet",
    "pyélonéphrite",
    "malaise",
    "déshydratation",
    "embolie pulmonaire",
    "cholécystite",
)


def _discharge(case: Case, rng: random.Random) -> Rendered:
    p = case.patient
    out = case.sortie_date or case.mail_date - timedelta(days=rng.randint(1, 12))
    entry = out - timedelta(days=rng.randint(3, 21))
    service = rng.choice(
        ("médecine polyvalente", "gériatrie aiguë", "pneumologie", "SSR", "chirurgie orthopédique")
    )
    who = civil_name(case, rng) or ("la patiente" if p.sex == "F" else "le patient")
    intro = (
        f"Nous vous adressons la situation de {who}, hospitalisé{'e' if p.sex == 'F' else ''} "
        f"dans notre service de {service} du {fmt_short(entry, rng)} au {fmt_short(out, rng)}."
    )
    rows = identity_labels(case, rng, terse=False)
    block = ["Compte rendu d'hospitalisation (extrait)", _rows_text(rows, rng)]
    if case.programme == "appui_dac":
        medical = " ".join(case.dac_text[c] for c in case.dac if c in DAC_MEDICAL)
        social = " ".join(case.dac_text[c] for c in case.dac if c in DAC_SOCIAL)
        if medical:
            block.append(f"Contexte médical : {medical}")
        if case.dac_denied:
            block.append(" ".join(fact_sentences(case, rng)))
        elif social:
            block.append(f"Contexte social : {social}")
        if case.mt:
            block.append(" : ".join(mt_label(case, rng, terse=False)))
        block.append("Devenir : retour à domicile, situation complexe nécessitant un appui.")
        ask = request_line(case, rng)
    else:
        block.append(f"Antécédents : {', '.join(rng.sample(_ANTECEDENTS, rng.randint(1, 3)))}.")
        block.append(f"Motif d'hospitalisation : {rng.choice(_REASONS)}.")
        others = [
            s for s in fact_sentences(case, rng) if "hospitalis" not in s and "Sortie" not in s
        ]
        block.append(
            f"Sortie le {fmt_short(out, rng)} : retour à domicile. "
            + rng.choice(
                (
                    "Suivi post-hospitalisation nécessaire (consultation sous 15 jours).",
                    "Un suivi médical est nécessaire après la sortie.",
                    "Suivi nécessaire : bilan biologique et adaptation du traitement.",
                )
            )
        )
        block += others
        ask = request_line(case, rng)
    if case.contradiction:
        block.append(contradiction_sentence(case, rng))
    body = _join([greeting(rng), intro, "\n".join(block), ask, closing(rng), _sig(case, rng)])
    return Rendered(
        rng.choice(
            (
                "Sortie d'hospitalisation",
                f"Sortie d'hospitalisation – {subject(case, rng)}",
                subject(case, rng),
            )
        ),
        text=body,
    )


# -- social_worker_report -----------------------------------------------------------------
def _social_report(case: Case, rng: random.Random) -> Rendered:
    p = case.patient
    ident = identity_sentence(case, rng, "Personne concernée :")
    sections = [ident]
    if case.programme == "appui_dac":
        medical = [case.dac_text[c] for c in case.dac if c in DAC_MEDICAL]
        social = [case.dac_text[c] for c in case.dac if c in DAC_SOCIAL]
        facts = fact_sentences(case, rng) if case.dac_denied else []
        if case.dac_denied == "social":
            social = [s for s in facts if s not in medical]
        if case.dac_denied == "medical":
            medical = [s for s in facts if s not in social]
        if social:
            sections.append("Situation sociale : " + " ".join(social))
        if medical:
            sections.append(
                rng.choice(("Critère médical : ", "Sur le plan médical : ")) + " ".join(medical)
            )
        elif rng.random() < 0.5:
            sections.append("Critère médical : à préciser par le médecin.")
        if case.mt:
            sections.append(" : ".join(mt_label(case, rng, terse=False)))
        sections.append(
            "Demande : "
            + rng.choice(
                (
                    "évaluation globale et coordination des intervenants.",
                    "appui à la coordination du parcours.",
                    "visite à domicile et évaluation des besoins.",
                )
            )
        )
    else:
        sections.append("Situation : " + " ".join(fact_sentences(case, rng)))
        sections.append(
            "Demande : "
            + (
                "recherche d'un médecin traitant."
                if case.mt in ("none", "retired", "searching")
                else "étude de la situation par la CPTS."
            )
        )
    if case.contradiction:
        sections.append(contradiction_sentence(case, rng))
    home = "la famille" if p.birth_date.year >= 2024 else ("Mme" if p.sex == "F" else "M.")
    intros = [
        "Je vous adresse la situation suivante.",
        "Je me permets de vous solliciter pour la situation ci-dessous.",
    ]
    if case.show_family:
        intros.append(
            f"Suite à ma visite à domicile chez {home} {p.family_name}, je vous transmets "
            "mon évaluation."
        )
    intro = rng.choice(intros)
    body = _join([greeting(rng), intro, "\n\n".join(sections), closing(rng), _sig(case, rng)])
    return Rendered(subject(case, rng), text=body)


# -- family_mail and patient_mail ---------------------------------------------------------
def _family(case: Case, rng: random.Random) -> Rendered:
    r = case.reporter
    assert r.family is not None
    kin = kin_phrase(r.family.relation, case.patient.sex)
    lead = rng.choice(
        (
            f"Je vous écris pour {kin},",
            f"Je me permets de vous contacter au sujet de {kin},",
            f"Je vous contacte pour {kin}",
            f"C'est au sujet de {kin},",
            f"Je vous sollicite pour {kin},",
        )
    )
    ident = identity_sentence(case, rng, lead)
    if case.programme == "tele_expertise":
        facts = [case.question or "", "Pourriez-vous demander l'avis d'un spécialiste ?"]
        if case.filiere_stated and case.filiere:
            label = filiere_label(case.filiere, rng)
            facts.insert(1, f"Il faudrait l'avis d'un spécialiste en {label.lower()}.")
        if case.consent is not None:
            yes = "{Il} est d'accord pour cet avis." if case.consent else "{Il} ne veut pas."
            facts.append(agree(yes, case.patient.sex))
    else:
        facts = fact_sentences(case, rng)
    ask = {
        "signalement": rng.choice(
            (
                "Pourriez-vous nous aider à trouver un médecin ?",
                agree(
                    "On ne sait plus vers qui se tourner, aucun médecin ne veut {le} prendre.",
                    case.patient.sex,
                ),
                "Merci de nous aider.",
            )
        ),
        "appui_dac": rng.choice(
            (
                "Pouvez-vous nous aider ?",
                "Nous sommes un peu perdus, merci de votre aide.",
                "Pourriez-vous venir évaluer la situation ?",
            )
        ),
        "medecin_referent": "Est-ce possible de l'inscrire au dispositif médecin référent ?",
        "tele_expertise": "",
    }[case.programme]
    statement = ""
    of_patient = "de la patiente" if case.patient.sex == "F" else "du patient"
    if rng.random() < 0.5:
        statement = rng.choice(
            (
                f"Je suis {'sa' if r.family.sex == 'F' else 'son'} {r.family.relation}.",
                f"({r.family.relation} {of_patient})",
            )
        )
    body = _join(
        [
            rng.choice(("Bonjour,", "Bonjour", "Madame, Monsieur,")),
            ident,
            statement,
            " ".join(f for f in facts if f),
            ask,
            rng.choice(("Merci beaucoup", "Cordialement", "Merci d'avance pour votre aide")),
            _sig(case, rng),
        ]
    )
    if rng.random() < 0.35:
        body = ascii_fold(body)
    subj = rng.choice(
        ("Demande d'aide", f"Pour {kin}", "Besoin d'aide", subject(case, rng), "urgent")
    )
    return Rendered(subj, text=body)


def _patient(case: Case, rng: random.Random) -> Rendered:
    p = case.patient
    parts = []
    if case.show_family or case.show_given:
        parts.append(f"Je m'appelle {patient_name(case, rng, upper=False)}")
    if case.birth_mode == "date":
        parts.append(
            f"je suis né{'e' if p.sex == 'F' else ''} le {fmt_date(p.birth_date, rng, 'any')}"
        )
    elif case.birth_mode == "age":
        parts.append(f"j'ai {case.age} ans")
    if case.addr_mode == "full":
        parts.append(f"j'habite {p.street} {in_commune(p.city)} ({p.postal_code})")
    elif case.addr_mode == "cp_city":
        parts.append(f"j'habite {p.postal_code} {p.city}")
    elif case.addr_mode == "city":
        parts.append(f"j'habite {in_commune(p.city)}")
    elif case.addr_mode == "cp":
        parts.append(f"code postal {p.postal_code}")
    ident = ", ".join(parts) + "."
    ident = ident[0].upper() + ident[1:]
    facts = first_person_sentences(case, rng)
    ask = {
        "signalement": (
            "Pouvez-vous m'aider à trouver un médecin traitant ?"
            if case.mt
            else "Pouvez-vous m'aider ?"
        ),
        "appui_dac": "J'ai besoin d'aide pour m'organiser.",
        "medecin_referent": "Comment faire ?",
        "tele_expertise": "Merci de me répondre.",
    }[case.programme]
    body = _join(
        [
            rng.choice(("Bonjour,", "Madame, Monsieur,")),
            ident,
            " ".join(facts),
            ask,
            rng.choice(("Cordialement", "Merci", "Bien à vous")),
            _sig(case, rng),
        ]
    )
    if rng.random() < 0.3:
        body = ascii_fold(body)
    return Rendered(
        rng.choice(("Demande", subject(case, rng), "Bonjour", "Besoin d'un médecin")), text=body
    )


# -- html_signature ----------------------------------------------------------------------
_DISCLAIMERS = (
    "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement au(x) "
    "destinataire(s). Si vous avez reçu ce message par erreur, merci de le détruire et d'en "
    "avertir l'expéditeur.",
    "Ce courriel est soumis au secret médical. Toute diffusion non autorisée est interdite.",
    "Message envoyé par messagerie sécurisée de santé. Pensez à l'environnement avant "
    "d'imprimer ce message.",
)


def _entities(text: str, rng: random.Random) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if rng.random() < 0.5:
        for ch, ent in (
            ("é", "&eacute;"),
            ("è", "&egrave;"),
            ("à", "&agrave;"),
            ("ç", "&ccedil;"),
            ("ê", "&ecirc;"),
            ("ô", "&ocirc;"),
            ("É", "&Eacute;"),
        ):
            text = text.replace(ch, ent)
    return text


def _html_signature(case: Case, rng: random.Random) -> Rendered:
    if rng.random() < 0.3:
        rows = identity_labels(case, rng, terse=False) + fact_rows(case, rng, terse=False)
        paragraphs = [greeting(rng), _rows_text(rows, rng)]
        if case.contradiction:
            paragraphs.append(contradiction_sentence(case, rng))
        paragraphs.append(request_line(case, rng))
    else:
        paragraphs = [greeting(rng), *_prose_paragraphs(case, rng)]
    paragraphs.append(closing(rng))
    sig = signature_lines(case, rng)
    disclaimer = rng.choice(_DISCLAIMERS)
    html_paras = "".join(
        f'<p style="margin:0 0 10px 0">{_entities(p, rng).replace(chr(10), "<br>")}</p>'
        for p in paragraphs
        if p
    )
    sig_html = "<br>".join(_entities(line, rng) for line in sig)
    logo = rng.random() < 0.5
    img = (
        '<td style="padding-right:12px"><img src="cid:logo001" alt="Logo" width="80"></td>'
        if logo
        else (
            '<td style="padding-right:12px"><img src="https://www.example.org/logo.png" '
            'alt="Logo de la structure" width="80"></td>'
        )
    )
    html = (
        '<html><head><meta charset="utf-8"></head>'
        '<body style="font-family:Calibri,Arial,sans-serif;'
        f'font-size:11pt">{html_paras}'
        '<table cellpadding="0" cellspacing="0" border="0" style="border-top:1px solid #ccc;'
        f'margin-top:12px"><tr>{img}<td style="font-size:9pt;color:#333">{sig_html}</td></tr>'
        f'</table><p style="font-size:7pt;color:#999">{_entities(disclaimer, rng)}</p>'
        "</body></html>"
    )
    text = None
    if rng.random() < 0.5:
        text = _join([*paragraphs, "\n".join(sig), "--", disclaimer])
    return Rendered(subject(case, rng), text=text, html=html, logo=logo)


# -- forwarded_chain ---------------------------------------------------------------------
def _fr_weekday(d_index: int) -> str:
    return ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")[d_index]


def _forwarded(case: Case, rng: random.Random) -> Rendered:
    r = case.reporter
    if rng.random() < 0.5:
        inner = _join([greeting(rng), *_prose_paragraphs(case, rng), closing(rng), _sig(case, rng)])
    else:
        rows = identity_labels(case, rng, terse=True) + fact_rows(case, rng, terse=True)
        if case.contradiction:
            rows.append(("Remarque", contradiction_sentence(case, rng)))
        inner = _join([greeting(rng), _rows_text(rows, rng), closing(rng), _sig(case, rng)])
    before = case.when - timedelta(days=rng.randint(1, 2), hours=rng.randint(0, 3))
    day = before.date()
    when_fr = (
        f"{_fr_weekday(day.weekday())} {day.day} {MONTHS[day.month - 1]} {day.year} {before:%H:%M}"
    )
    old_to = rng.choice(
        (
            "cpts.massif.vosgien@gmail.com",
            "cptsdumassifvosgien@grand-est.mssante.fr",
            "contact@cpts-massif-vosgien.fr",
        )
    )
    inner_subject = subject(case, rng)
    kind = rng.choice(("gmail", "outlook", "quote"))
    sender = f"{r.given_name} {r.family_name} <{r.email}>"
    if kind == "gmail":
        chain = (
            f"---------- Message transféré ---------\nDe : {sender}\nDate : {when_fr}\n"
            f"Subject: {inner_subject}\nÀ : <{old_to}>\n\n{inner}"
        )
    elif kind == "outlook":
        chain = (
            f"-----Message d'origine-----\nDe : {sender}\nEnvoyé : {when_fr}\nÀ : {old_to}\n"
            f"Objet : {inner_subject}\n\n{inner}"
        )
    else:
        quoted = "\n".join("> " + line if line else ">" for line in inner.splitlines())
        chain = f"Le {fmt_short(day, rng)} à {before:%H:%M}, {sender} a écrit :\n{quoted}"
    top = rng.choice(
        (
            "Je vous transfère le message que j'avais envoyé par erreur à l'ancienne adresse "
            "de la CPTS.",
            "Je vous renvoie ma demande ci-dessous sur la messagerie sécurisée, sans réponse "
            "à ce jour.",
            "Bonjour, je vous fais suivre ma demande ci-dessous. Merci.",
            "Relance : voir message ci-dessous.",
        )
    )
    body = _join(
        [
            greeting(rng),
            top,
            rng.choice(("Cordialement,", "Merci,")),
            signature_lines(case, rng)[0],
            chain,
        ]
    )
    prefix = rng.choice(("TR : ", "Tr: ", "Fwd: ", "TR: "))
    return Rendered(prefix + inner_subject, text=body)


# -- forms -------------------------------------------------------------------------------
def _ticks(rng: random.Random) -> tuple[str, str]:
    return rng.choice((("☒", "☐"), ("[X]", "[ ]"), ("☒", "☐"), ("☑", "☐"), ("Oui", "Non")))


def _reporter_rows(case: Case, rng: random.Random) -> list[Row]:
    r = case.reporter
    rows: list[Row] = [("Nom / Prénom", f"{r.family_name.upper()} {r.given_name}")]
    if r.sender:
        rows.append(("Profession / fonction", r.sender.title))
        if r.show_rpps and r.sender.rpps:
            rows.append(("N° RPPS", r.sender.rpps))
        rows.append(("Téléphone", r.sender.phone))
    rows.append(("Messagerie", r.email))
    return rows


def _criteria_rows(case: Case, rng: random.Random) -> list[Row]:
    on, off = _ticks(rng)
    rows: list[Row] = []
    age = case.age

    def tick(value: bool | None, label: str, detail: str = "") -> None:
        if value is None:
            if rng.random() < 0.4:
                rows.append((label, "☐ oui ☐ non"))
            return
        mark = on if value else off
        if rng.random() < 0.5:
            rows.append((mark, label + (f" – {detail}" if detail and value else "")))
        else:
            rows.append(
                (
                    label,
                    ("☒ Oui ☐ Non" if value else "☐ Oui ☒ Non")
                    + (f" ({detail})" if detail and value else ""),
                )
            )

    if case.ald_pending:
        rows.append(("Patient en ALD", ald_label(case, rng)))
    else:
        detail = ""
        if case.ald and case.ald_numbers:
            detail = ald_label(case, rng)
        tick(case.ald, "Patient en ALD", detail)
    if age is not None and case.birth_mode != "none":
        rows.append((on if age > 70 else off, "Patient de plus de 70 ans"))
    tick(case.arret, "Patient en arrêt de travail et nécessitant un suivi")
    tick(case.sortie, "Patient sortant d'une hospitalisation et nécessitant un suivi")
    if case.birth_mode == "date" and case.patient.birth_date.year >= 2024:
        rows.append((on, "Enfant de 18 mois et moins"))
    return rows


def _form_sections(case: Case, rng: random.Random) -> list[tuple[str, list[Row]]]:
    ident = identity_labels(case, rng, terse=False)
    if case.patient.phone and rng.random() < 0.5:
        ident.append(("Téléphone", case.patient.phone))
    sections: list[tuple[str, list[Row]]] = [("Identité du patient", ident)]
    p = case.programme
    if p == "signalement":
        if case.mt:
            sections[0][1].append(mt_label(case, rng, terse=False))
        sections.append(
            ("Situation du patient (cocher la ou les cases)", _criteria_rows(case, rng))
        )
        if case.family_history:
            sections.append(
                ("Commentaires", [("", "ATCD familiaux signalés, sans lien avec la demande.")])
            )
        sections.append(("Signaleur", _reporter_rows(case, rng)))
    elif p == "appui_dac":
        sections.append(("Situation", fact_rows(case, rng, terse=False)))
        sections.append(("Demandeur", _reporter_rows(case, rng)))
    elif p == "medecin_referent":
        sections.append(("Critères d'admission", fact_rows(case, rng, terse=False)))
        sections.append(("Médecin référent", _reporter_rows(case, rng)))
    else:
        sections.append(("Demande", fact_rows(case, rng, terse=False)))
        sections.append(("Requérant", _reporter_rows(case, rng)))
    return sections


def _form_title(case: Case) -> str:
    return {
        "signalement": "Fiche de signalement – patient sans médecin traitant",
        "appui_dac": "Demande d'appui à la coordination (DAC)",
        "medecin_referent": "Déclaration médecin référent",
        "tele_expertise": "Demande de télé-expertise",
    }[case.programme]


def _attachment_body(case: Case, rng: random.Random, what: str) -> str:
    name = civil_name(case, rng)
    who = f" concernant {name}" if name and rng.random() < 0.6 else ""
    intro = rng.choice(
        (
            f"Veuillez trouver ci-joint {what}{who}.",
            f"Ci-joint {what}{who}.",
            f"Je vous adresse en pièce jointe {what}{who}.",
        )
    )
    extra = contradiction_sentence(case, rng) if case.contradiction else ""
    return _join([greeting(rng), intro, extra, closing(rng), _sig(case, rng)])


def _filename(case: Case, rng: random.Random, ext: str) -> str:
    base = {
        "signalement": (
            "signalement",
            "Fiche_signalement_sans_MT",
            "CPTS MV Signalement-sans-MT-V3",
        ),
        "appui_dac": ("demande_DAC", "Formulaire DAC", "demande-appui"),
        "medecin_referent": ("declaration_MR", "Déclaration médecin référent"),
        "tele_expertise": ("demande-te", "Demande TE"),
    }[case.programme]
    name = rng.choice(base)
    if case.show_family and rng.random() < 0.4:
        name += "_" + ascii_fold(case.patient.family_name).upper()
    return f"{name}.{ext}"


def _docx(case: Case, rng: random.Random) -> Rendered:
    if case.programme == "tele_expertise" and rng.random() < 0.5:
        data = te_docx_controls(_te_control_fields(case, rng))
    else:
        data = docx_form(
            _form_title(case),
            rng.choice(("CPTS du Massif Vosgien", "À retourner par messagerie sécurisée", "")),
            _form_sections(case, rng),
            layout=rng.choice(("table", "table", "paragraphs")),
            footer=rng.choice(("", "Document à usage strictement professionnel.")),
        )
    what = rng.choice(("le formulaire", "la fiche", "le document"))
    return Rendered(
        subject(case, rng),
        text=_attachment_body(case, rng, what),
        attachments=[(_filename(case, rng, "docx"), DOCX_TYPE, data)],
    )


def _te_control_fields(case: Case, rng: random.Random) -> dict[str, str | bool | None]:
    p = case.patient
    r = case.reporter
    fields: dict[str, str | bool | None] = {}
    if case.show_family:
        fields["Nom du patient"] = p.family_name.upper()
    if case.show_given:
        fields["Prénom du patient"] = p.given
    if case.birth_mode == "date":
        fields["Né(e) le"] = fmt_date(p.birth_date, rng, "numeric")
    elif case.birth_mode == "age":
        fields["Âge"] = f"{case.age} ans"
    if case.postal_shown:
        fields["Code postal"] = p.postal_code
    if case.city_shown:
        fields["Commune"] = p.city
    if case.filiere_stated and case.filiere:
        fields["Filière"] = filiere_label(case.filiere, rng)
    if case.requis:
        fields["Médecin requis"] = requis_text(case, rng)
    if case.question:
        fields["Question posée"] = case.question
    if case.consent:
        fields["Consentement du patient"] = True
    elif case.consent is False:
        fields["Accord du patient"] = "Non – refus du patient"
    fields["Nom du requérant"] = f"{r.family_name.upper()} {r.given_name}"
    if r.sender:
        fields["Profession du demandeur"] = r.sender.title
        if r.show_rpps and r.sender.rpps:
            fields["RPPS"] = r.sender.rpps
    return fields


def _pdf(case: Case, rng: random.Random) -> Rendered:
    if case.programme == "signalement" and rng.random() < 0.5:
        data = pdf_acroform(_acroform_fields(case, rng))
    else:
        lines: list[str] = []
        for name, rows in _form_sections(case, rng):
            lines += ["", name.upper()]
            lines += [
                (f"{label} {value}" if label in MARKS else f"{label} : {value}") if label else value
                for label, value in rows
            ]
        data = pdf_text(lines, title=_form_title(case))
    what = rng.choice(("le formulaire PDF", "la fiche complétée", "le formulaire"))
    return Rendered(
        subject(case, rng),
        text=_attachment_body(case, rng, what),
        attachments=[(_filename(case, rng, "pdf"), "application/pdf", data)],
    )


def _acroform_fields(case: Case, rng: random.Random) -> dict[str, str | bool | None]:
    p = case.patient
    r = case.reporter
    f: dict[str, str | bool | None] = {"Sexe": p.sex}
    if case.show_family:
        f["Nom"] = p.family_name.upper()
    if case.show_given:
        f["Prénom"] = p.given
    if case.birth_mode == "date":
        f["Date de naissance"] = fmt_date(p.birth_date, rng, "numeric")
    elif case.birth_mode == "age":
        f["Âge"] = f"{case.age} ans"
    if case.show_ins:
        f["N° INS"] = p.ins
    if case.addr_mode == "full":
        f["Adresse"] = p.street
    if case.postal_shown:
        f["Code postal"] = p.postal_code
    if case.city_shown:
        f["Commune"] = p.city.upper()
    if case.mt:
        f["Médecin traitant"] = mt_label(case, rng, terse=False)[1]
    if case.ald_pending:
        f["ALD"] = "demande en cours"
    elif case.ald is not None:
        f["ALD"] = ald_label(case, rng) if case.ald and case.ald_numbers else case.ald
    if case.arret is not None:
        f["Arrêt de travail"] = case.arret
    if case.sortie is not None:
        f["Sortie d'hospitalisation"] = case.sortie
    f["Nom du signaleur"] = r.family_name.upper()
    f["Prénom du signaleur"] = r.given_name
    if r.sender:
        f["Profession du signaleur"] = r.sender.title
        if r.show_rpps and r.sender.rpps:
            f["RPPS"] = r.sender.rpps
        f["Téléphone du signaleur"] = r.sender.phone
    return f


# -- cda ---------------------------------------------------------------------------------
def _cda(case: Case, rng: random.Random) -> Rendered:
    p = case.patient
    r = case.reporter
    s = r.sender
    assert s is not None and s.rpps
    title = {
        "signalement": "Signalement d'un patient à la CPTS",
        "tele_expertise": "Demande de télé-expertise",
        "medecin_referent": "Déclaration médecin référent",
        "appui_dac": "Demande d'appui à la coordination",
    }[case.programme]
    code = "34133-9" if case.programme == "medecin_referent" else "57133-1"
    if case.show_ins:
        root, ext = "1.2.250.1.213.1.4.8", p.ins
    else:
        root, ext = "1.2.250.1.999.2.3", f"IPP{rng.randint(100000, 999999)}"
    given = p.given_names if "all_given" in case.tags else [p.given]
    sections = list(fact_rows(case, rng, terse=False))
    if case.programme == "signalement" and rng.random() < 0.5:
        sections = [("Motif", " ".join(fact_sentences(case, rng)))]
    if case.birth_mode == "age":
        sections.insert(0, ("Âge du patient", f"{case.age} ans"))
    if case.contradiction and rng.random() < 0.5:
        sections.append(("Commentaire", contradiction_sentence(case, rng)))
        contra_in_doc = True
    else:
        contra_in_doc = False
    author_code = f"G15_{s.profession_code}" + (f"/{s.speciality}" if s.speciality else "")
    doc = cda_document(
        title=title,
        code=code,
        doc_root="1.2.250.1.999.1.1",
        doc_id=f"DOC-{rng.randint(10000, 99999)}",
        when=case.when - timedelta(minutes=rng.randint(5, 90)),
        patient_id=(root, ext),
        family=p.family_name.upper() if case.show_family else None,
        given=given if case.show_given else [],
        sex=p.sex,
        birth=p.birth_date.strftime("%Y%m%d") if case.birth_mode == "date" else None,
        street=p.street if case.addr_mode == "full" else None,
        postal_code=p.postal_code if case.postal_shown and p.postal_code else None,
        city=p.city.upper() if case.city_shown else None,
        author_id="8" + s.rpps,
        author_code=author_code,
        author_family=s.family_name.upper(),
        author_given=s.given_name,
        body=cda_sections(sections),
    )
    headers: dict[str, str] = {}
    if rng.random() < 0.6:
        pid5_family = p.family_name.upper() if case.show_family else ""
        pid5 = f"{pid5_family}^{p.given if case.show_given else ''}^^^^^L"
        pid7 = p.birth_date.strftime("%Y%m%d") if case.birth_mode == "date" else ""
        patient_id = f"{ext}^^^&{root}&ISO^{'NH' if case.show_ins else 'PI'}"
        data = xdm_zip(doc, patient_id=patient_id, pid5=pid5, pid7=pid7, sex=p.sex)
        attachment = ("IHE_XDM.ZIP", "application/zip", data)
        headers = {"X-MSS-CODECDA": code, "X-MSS-INS": "O" if case.show_ins else "N"}
    else:
        attachment = (rng.choice(("DOC0001.XML", "cda.xml", "document.xml")), "text/xml", doc)
    if contra_in_doc:
        body = _join(
            [
                greeting(rng),
                rng.choice(
                    (
                        "Document structuré ci-joint.",
                        "Ci-joint le document CDA.",
                        "Veuillez trouver ci-joint le document.",
                    )
                ),
                closing(rng),
                _sig(case, rng),
            ]
        )
    else:
        body = _attachment_body(case, rng, rng.choice(("le document CDA", "le document structuré")))
    subj = subject(case, rng)
    if case.show_family and rng.random() < 0.4:
        name = patient_name(case, rng, upper=True)
        born = p.birth_date.strftime("%Y%m%d") if case.birth_mode == "date" else ""
        subj = f"XDM/1.0/DDM+{title} {name} {born}".strip()
    return Rendered(subj, text=body, attachments=[attachment], headers=headers)


# -- short_note --------------------------------------------------------------------------
def _short_note(case: Case, rng: random.Random) -> Rendered:
    p = case.patient
    bits = []
    name = civil_name(case, rng, upper=True)
    if name:
        bits.append(name)
    born = birth_inline(case, rng)
    if born:
        bits.append(born)
    if case.addr_mode in ("full", "cp_city"):
        bits.append(f"{p.postal_code} {p.city}")
    elif case.addr_mode == "city":
        bits.append(p.city)
    elif case.addr_mode == "cp":
        bits.append(p.postal_code)
    head = {
        "signalement": "Signalement",
        "tele_expertise": "TE",
        "appui_dac": "DAC",
        "medecin_referent": "Médecin référent",
    }[case.programme]
    if case.programme == "tele_expertise" and case.filiere_stated and case.filiere:
        head += " " + filiere_label(case.filiere, rng)
    subj = f"{head} : " + " - ".join(bits) if bits else head
    facts = fact_rows(case, rng, terse=True)
    if case.programme == "tele_expertise":
        facts = [f for f in facts if not f[0].startswith(("Filière", "Spécialité"))]
    lines = [
        f"{label} {value}" if label.endswith(":") else f"{label} : {value}"
        for label, value in facts
    ]
    if case.show_ins:
        lines.insert(0, f"INS {p.ins}")
    if case.addr_mode == "full":
        lines.insert(0, f"Adresse : {p.street}")
    if case.contradiction:
        lines.append(contradiction_sentence(case, rng))
    sig = signature_lines(case, rng)
    body = _join(
        [
            rng.choice(("Cf objet.", "Bonjour, cf objet.", "Voir objet.")),
            "\n".join(lines),
            rng.choice(("Merci.", "Merci !", "Bonne journée.")),
            "\n".join(x for x in (*sig[:2], rpps_line(case)) if x),
        ]
    )
    return Rendered(subj, text=body)
