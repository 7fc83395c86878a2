"""An incomplete signalement gets the missing-fields reply; the sender's answer completes it."""

from __future__ import annotations

import json

import pytest

from deploy.mailstack import MailUser
from tests.e2e.harness import Gateway, signalement_mail, task_of, text_mail, wait_until

pytestmark = pytest.mark.e2e


def test_follow_up_in_thread_completes_the_case(gateway: Gateway, professional: MailUser) -> None:
    gateway.start()
    first = text_mail(
        professional.address,
        gateway.address,
        "Signalement",
        "Nom : LEROY\nPrénom : Marcel\nMédecin traitant : non\nALD : oui\n",
    )
    gateway.send(first)

    wait_until(lambda: len(gateway.replies_to(professional)) == 1, what="the incomplete reply")
    incomplete = gateway.replies_to(professional)[0]
    body = incomplete.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "il manque des informations" in text
    assert "date de naissance" in text.lower()
    task = task_of(incomplete)
    codes = [i["details"]["coding"][0]["code"] for i in task["contained"][0]["issue"]]  # type: ignore[index]
    assert "patient.birth_date.missing" in codes
    assert task["businessStatus"]["coding"][0]["code"] == "incomplet"  # type: ignore[index]

    # The professional answers in the thread, with only what was missing.
    answer = signalement_mail(
        professional.address, gateway.address, subject=f"Re: {incomplete['Subject']}"
    )
    answer.set_content("Date de naissance : 02/05/1950\nCode postal : 88400\nCommune : Gérardmer\n")
    answer["In-Reply-To"] = incomplete["Message-ID"]
    answer["References"] = f"{first['Message-ID']} {incomplete['Message-ID']}"
    gateway.send(answer)

    wait_until(lambda: len(gateway.replies_to(professional)) == 2, what="the follow-up reply")
    gateway.terminate()
    follow = gateway.replies_to(professional)[1]
    follow_body = follow.get_body(("plain",))
    assert follow_body is not None
    assert "Le dossier est complet" in follow_body.get_content()
    (case,) = gateway.db().cases()
    assert case.status == "routed"  # complete and eligible: offered to the roster's GP
    request = json.loads(case.request_json or "{}")
    assert request["patient"]["family_name"] == "LEROY"  # kept from the first message
    assert request["patient"]["birth_date"] == "1950-05-02"  # added by the follow-up
    assert follow["Subject"].startswith(f"[{case.reference}]")
