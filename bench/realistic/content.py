"""What a request says, independent of its layout: sentences, label rows, subject, signature."""

from __future__ import annotations

import random

from .case import DAC_MEDICAL, DAC_SOCIAL, Case
from .dates import fmt_date
from .phrasing import (
    agree,
    ald_label,
    ald_sentence,
    arret_label,
    arret_sentence,
    civil_name,
    consent_label,
    consent_sentence,
    dac_denial_sentence,
    dsp_label,
    dsp_sentence,
    family_history_sentence,
    filiere_label,
    filiere_sentence,
    mt_label,
    mt_sentence,
    patient_name,
    sortie_label,
    sortie_sentence,
)

__all__ = [
    "contradiction_sentence",
    "fact_rows",
    "fact_sentences",
    "first_person_sentences",
    "kin_phrase",
    "request_line",
    "requis_text",
    "rpps_line",
    "signature_lines",
    "subject",
]


# -- Médecin référent ALD (Luxembourg list of 32, numbers only) --------------------------
def _mr_ald_sentence(case: Case, rng: random.Random) -> str:
    nums = [f"{n:02d}" if rng.random() < 0.5 else str(n) for n in case.ald_numbers]
    joined = " et ".join(f"ALD {n}" for n in nums)
    return agree(
        rng.choice(
            (
                f"{{Le_patient}} présente l'{joined} (liste des 32 ALD).",
                f"Affection(s) de longue durée : {joined}.",
                f"{{Il}} est atteint{{e}} d'une affection de longue durée : {joined}.",
                f"Pathologie chronique grave : {joined} selon l'annexe 1 de la convention.",
            )
        ),
        case.patient.sex,
    )


def _mr_ald_value(case: Case, rng: random.Random) -> str:
    return ", ".join(rng.choice((f"{n:02d}", f"ALD {n:02d}", f"n° {n}")) for n in case.ald_numbers)


# -- Télé-expertise ---------------------------------------------------------------------
def requis_text(case: Case, rng: random.Random) -> str:
    r = case.requis
    if r is None:
        return ""
    given, family = r.name[3:].split(" ", 1)
    return rng.choice(
        (r.name, f"Docteur {given} {family.upper()}", f"Dr {family.upper()} {given}", r.name)
    )


def _te_target_sentence(case: Case, rng: random.Random) -> str:
    if case.requis and case.filiere_stated and case.filiere:
        label = filiere_label(case.filiere, rng)
        return rng.choice(
            (
                f"À l'attention du {requis_text(case, rng)} ({label}).",
                f"Je sollicite l'avis du {requis_text(case, rng)}, filière {label}.",
            )
        )
    if case.requis:
        return rng.choice(
            (
                f"À l'attention du {requis_text(case, rng)}.",
                f"Demande d'avis adressée au {requis_text(case, rng)}.",
            )
        )
    if case.filiere_stated and case.filiere:
        return filiere_sentence(case.filiere, rng)
    return rng.choice(("Je souhaiterais un avis en télé-expertise.", "Demande de télé-expertise."))


def _te_question_sentence(case: Case, rng: random.Random) -> str:
    if case.question:
        return (
            rng.choice(("Question : ", "Ma question : ", "", "Question posée : ")) + case.question
        )
    return rng.choice(
        (
            "Je vous rappelle pour les détails.",
            "Photos en pièce jointe.",
            "Je vous envoie ce dossier, on en reparle.",
        )
    )


# -- Sentences --------------------------------------------------------------------------
def fact_sentences(case: Case, rng: random.Random) -> list[str]:
    """The programme facts of ``case`` as sentences (third person)."""
    sex = case.patient.sex
    out: list[str] = []
    if case.programme == "signalement":
        crit: list[str] = []
        if case.ald is not None or case.ald_pending:
            crit.append(ald_sentence(case, rng))
        if case.arret is not None:
            crit.append(arret_sentence(case, rng))
        if case.sortie is not None:
            crit.append(sortie_sentence(case, rng))
        if case.family_history:
            crit.append(family_history_sentence(rng))
        rng.shuffle(crit)
        if case.mt:
            crit.insert(rng.randint(0, len(crit)), mt_sentence(case, rng))
        out += crit
    elif case.programme == "appui_dac":
        medical = [case.dac_text[c] for c in case.dac if c in DAC_MEDICAL]
        social = [case.dac_text[c] for c in case.dac if c in DAC_SOCIAL]
        if case.dac_denied == "medical":
            medical = [dac_denial_sentence("medical", sex, rng)]
        if case.dac_denied == "social":
            social = [dac_denial_sentence("social", sex, rng)]
        blocks = [medical, social]
        if rng.random() < 0.3:
            blocks.reverse()
        out += blocks[0] + blocks[1]
        if case.mt:
            out.append(mt_sentence(case, rng))
    elif case.programme == "medecin_referent":
        if case.ald:
            out.append(_mr_ald_sentence(case, rng))
        if case.dsp is not None:
            out.append(dsp_sentence(case, rng))
    else:
        out.append(_te_target_sentence(case, rng))
        out.append(_te_question_sentence(case, rng))
        if case.consent is not None:
            out.append(consent_sentence(case, rng))
        if case.photos:
            out.append(
                rng.choice((f"{case.photos} photo(s) jointe(s).", "Photos jointes.", "Cf. PJ."))
            )
    return out


def fact_rows(case: Case, rng: random.Random, *, terse: bool) -> list[tuple[str, str]]:
    """The programme facts as label/value rows."""
    rows: list[tuple[str, str]] = []
    if case.programme == "signalement":
        if case.mt:
            rows.append(mt_label(case, rng, terse=terse))
        if case.ald is not None or case.ald_pending:
            rows.append(("ALD", ald_label(case, rng)))
        if case.arret is not None:
            label = rng.choice(("Arret trav.", "Arrêt de travail", "Arret de travail"))
            rows.append((label if terse else "Arrêt de travail", arret_label(case, rng)))
        if case.sortie is not None:
            label = rng.choice(("Sortie hospit.", "Sortie d'hospi", "Sortie hosp"))
            rows.append((label if terse else "Sortie d'hospitalisation", sortie_label(case, rng)))
        if case.family_history:
            rows.append(("Remarque", family_history_sentence(rng)))
    elif case.programme == "appui_dac":
        medical = " ".join(case.dac_text[c] for c in case.dac if c in DAC_MEDICAL)
        social = " ".join(case.dac_text[c] for c in case.dac if c in DAC_SOCIAL)
        if case.dac_denied == "medical":
            medical = dac_denial_sentence("medical", case.patient.sex, rng)
        if case.dac_denied == "social":
            social = dac_denial_sentence("social", case.patient.sex, rng)
        if medical:
            rows.append((rng.choice(("Critère médical", "Situation médicale", "Médical")), medical))
        if social:
            label = rng.choice(("Situation sociale", "Critère psycho-social", "Psycho-social"))
            rows.append((label, social))
        if case.mt:
            rows.append(mt_label(case, rng, terse=terse))
    elif case.programme == "medecin_referent":
        if case.ald:
            rows.append(
                (
                    rng.choice(("ALD", "ALD (liste des 32)", "Affection de longue durée")),
                    _mr_ald_value(case, rng),
                )
            )
        if case.dsp is not None:
            rows.append(dsp_label(case, rng))
    else:
        if case.filiere_stated and case.filiere:
            rows.append(
                (
                    rng.choice(("Filière", "Spécialité", "Filière demandée")),
                    filiere_label(case.filiere, rng),
                )
            )
        if case.requis:
            rows.append(
                (
                    rng.choice(("Médecin requis", "Requis", "À l'attention de")),
                    requis_text(case, rng),
                )
            )
        if case.question:
            rows.append(
                (rng.choice(("Question posée", "Question", "Motif de la demande")), case.question)
            )
        if case.consent is not None:
            rows.append(consent_label(case, rng))
        if case.photos:
            rows.append(("Pièces jointes", f"{case.photos} photo(s)"))
    return rows


def contradiction_sentence(case: Case, rng: random.Random) -> str:
    """The statement that contradicts the rest of the request (coordinator cases)."""
    sex = case.patient.sex
    kind = case.contradiction
    if kind == "ald":
        return agree(
            rng.choice(("Je précise : {il} n'a pas d'ALD.", "Pas d'ALD à ce jour.", "ALD : non.")),
            sex,
        )
    if kind == "mt":
        return agree(
            rng.choice(
                (
                    f"Son médecin traitant, le {case.current_mt}, {{le}} suit toujours.",
                    f"{{Il}} est suivi{{e}} par son médecin traitant, le {case.current_mt}.",
                )
            ),
            sex,
        )
    if kind == "commune":
        x = case.patient.extra
        return agree(
            f"{{Il}} est domicilié{{e}} {x['contra_street']}, {x['contra_cp']} {x['contra_city']}.",
            sex,
        )
    if kind == "dsp":
        return rng.choice(("Attention : le DSP n'est pas encore activé.", "DSP non activé."))
    if kind == "consent":
        return agree("{Le_patient} n'a pas donné son accord pour la télé-expertise.", sex)
    if kind == "isolement":
        return agree(
            "{Il} vit avec son fils, très présent, qui l'accompagne à tous ses rendez-vous.", sex
        )
    return ""


# -- First person (the patient writes) ---------------------------------------------------
def first_person_sentences(case: Case, rng: random.Random) -> list[str]:
    sex = case.patient.sex
    out: list[str] = []
    if case.programme in ("signalement", "medecin_referent") and case.mt:
        out.append(
            agree(
                {
                    "none": rng.choice(
                        ("Je n'ai pas de médecin traitant.", "Je n'ai plus de médecin.")
                    ),
                    "searching": "Je cherche un médecin traitant depuis des mois, personne ne "
                    "prend.",
                    "retired": f"Mon médecin, le {case.former_mt}, est parti à la retraite et je "
                    "n'ai plus de médecin traitant.",
                    "has": f"J'ai un médecin traitant, le {case.current_mt}, mais je voudrais en "
                    "changer.",
                }[case.mt],
                sex,
            )
        )
    if case.programme == "signalement":
        if case.ald_pending:
            out.append("Une demande d'ALD est en cours.")
        elif case.ald is False:
            out.append("Je n'ai pas d'ALD.")
        elif case.ald:
            if case.ald_numbers and case.ald_text:
                out.append(f"Je suis en ALD {case.ald_numbers[0]} ({case.ald_text}).")
            elif case.ald_numbers:
                out.append(f"Je suis en ALD n°{case.ald_numbers[0]}.")
            else:
                out.append("Je suis en ALD, pris en charge à 100 %.")
        if case.arret is not None:
            out.append(
                "Je suis en arrêt de travail et j'ai besoin d'un suivi."
                if case.arret
                else "Je ne suis pas en arrêt de travail."
            )
        if case.sortie is not None:
            out.append(
                agree(
                    "Je suis sorti{e} de l'hôpital il y a quelques jours et je dois être suivi{e}."
                    if case.sortie
                    else "Je n'ai pas été hospitalisé{e}.",
                    sex,
                )
            )
    elif case.programme == "appui_dac":
        out += [case.dac_text[c] for c in case.dac]
    elif case.programme == "medecin_referent":
        out.append("Je souhaite que mon médecin devienne mon médecin référent.")
        if case.ald:
            out.append(f"J'ai une ALD (n° {case.ald_numbers[0]}).")
        if case.dsp is not None:
            out.append("J'ai activé mon DSP." if case.dsp else "Je n'ai pas encore activé mon DSP.")
    else:
        out.append(case.question or "")
        if case.filiere_stated and case.filiere:
            out.append(
                f"Est-ce qu'un spécialiste en {filiere_label(case.filiere, rng).lower()} "
                "pourrait donner son avis ?"
            )
    return [s for s in out if s]


def kin_phrase(relation: str, patient_sex: str) -> str:
    """How a relative names the patient: "ma mère", "mon mari"…"""
    f = patient_sex == "F"
    return {
        "fille": "ma mère" if f else "mon père",
        "fils": "ma mère" if f else "mon père",
        "petite-fille": "ma grand-mère" if f else "mon grand-père",
        "nièce": "ma tante" if f else "mon oncle",
        "épouse": "mon mari",
        "mari": "ma femme",
        "mère": "ma fille" if f else "mon fils",
        "sœur": "ma sœur" if f else "mon frère",
        "frère": "ma sœur" if f else "mon frère",
    }[relation]


# -- Subject, request line, signature ---------------------------------------------------
def subject(case: Case, rng: random.Random) -> str:
    name = patient_name(case, rng, upper=True) if case.show_family else ""
    who = civil_name(case, rng, upper=True) if name else ""
    p = case.programme
    if p == "signalement":
        if case.mt in ("none", "retired", "searching"):
            bank = [
                "Signalement patient sans médecin traitant",
                "Signalement patient sans MT",
                "signalement sans MT",
                "Recherche médecin traitant",
            ]
            if who:
                bank += [f"Patient sans médecin traitant – {who}", f"Recherche MT pour {who}"]
        else:
            bank = ["Signalement", "Signalement CPTS", "Fiche de signalement", "Demande CPTS"]
            if who:
                bank += [f"Signalement – {who}", f"Signalement patient {name}"]
    elif p == "tele_expertise":
        bank = ["Demande de télé-expertise", "Demande d'avis en télé-expertise", "Télé-expertise"]
        if case.filiere_stated and case.filiere:
            label = filiere_label(case.filiere, rng)
            bank += [f"Télé-expertise {label}", f"Demande TE – {label}"]
        if who:
            bank.append(f"Demande d'avis – {who}")
    elif p == "appui_dac":
        bank = ["Demande d'appui DAC", "Situation complexe", "Demande d'intervention DAC"]
        if who:
            bank += [f"Demande d'appui à la coordination – {who}", f"Sollicitation DAC {name}"]
    else:
        bank = ["Déclaration médecin référent", "Dispositif médecin référent : demande d'adhésion"]
        if who:
            bank.append(f"Médecin référent – {who}")
    return rng.choice(bank)


def request_line(case: Case, rng: random.Random) -> str:
    p = case.programme
    if p == "signalement":
        if case.mt in ("none", "retired", "searching"):
            return agree(
                rng.choice(
                    (
                        "Merci de lui trouver un médecin traitant.",
                        "Pourriez-vous rechercher un médecin généraliste qui accepterait de {le} "
                        "suivre ?",
                        "Merci de me tenir au courant de la suite donnée.",
                        "Je reste disponible pour tout complément.",
                    )
                ),
                case.patient.sex,
            )
        return rng.choice(
            (
                "Merci de votre retour.",
                "Pourriez-vous étudier cette situation ?",
                "Je reste disponible pour tout complément.",
            )
        )
    if p == "appui_dac":
        return agree(
            rng.choice(
                (
                    "Pourriez-vous évaluer la situation et organiser la coordination ?",
                    "Merci de prendre contact avec {le_patient} et son entourage.",
                    "Je reste joignable pour en discuter.",
                    "Une évaluation à domicile me semble nécessaire.",
                )
            ),
            case.patient.sex,
        )
    if p == "medecin_referent":
        return rng.choice(
            (
                "Merci d'enregistrer cette déclaration.",
                "Pouvez-vous confirmer l'éligibilité ?",
                "Merci de votre traitement.",
            )
        )
    return rng.choice(
        (
            "Merci pour votre avis.",
            "Merci d'avance pour votre retour.",
            "Merci de votre retour rapide si possible.",
        )
    )


def signature_lines(case: Case, rng: random.Random) -> list[str]:
    r = case.reporter
    if r.role == "family":
        fw = r.family
        name = f"{r.given_name} {r.family_name}" if r.signs_family_name else r.given_name
        lines = [name]
        if fw and rng.random() < 0.5:
            lines[0] += f" ({'sa' if fw.sex == 'F' else 'son'} {fw.relation})"
        return lines
    if r.role == "patient":
        return [f"{r.given_name} {r.family_name}" if r.signs_family_name else r.given_name]
    s = r.sender
    assert s is not None
    doctor = s.profession_code == "10"
    if r.secretary:
        lines = [
            rng.choice(
                (
                    "Secrétariat médical",
                    f"Le secrétariat du Dr {s.family_name}",
                    f"Secrétariat du Dr {s.given_name} {s.family_name}",
                )
            )
        ]
        lines.append(s.place)
        lines.append(f"Tél. {s.phone}")
        return lines
    name = rng.choice(
        (f"{s.given_name} {s.family_name}", f"{s.family_name.upper()} {s.given_name}")
    )
    if doctor and rng.random() < 0.7:
        name = "Dr " + name
    lines = [name, s.title]
    if rng.random() < 0.6:
        lines.append(s.place)
    if rng.random() < 0.6:
        lines.append(rng.choice(("Tél. ", "Tel : ", "☎ ", "Port. ")) + s.phone)
    if r.show_rpps and s.rpps:
        lines.append(rng.choice(("RPPS ", "RPPS : ", "N° RPPS ", "RPPS n°")) + s.rpps)
    return lines


def rpps_line(case: Case) -> str:
    """The RPPS line of a signature, when the request shows it."""
    s = case.reporter.sender
    if case.reporter.show_rpps and s is not None and s.rpps:
        return f"RPPS {s.rpps}"
    return ""


def birth_inline(case: Case, rng: random.Random) -> str:
    if case.birth_mode == "date":
        return fmt_date(case.patient.birth_date, rng, "numeric")
    if case.birth_mode == "age":
        return f"{case.age} ans"
    return ""
