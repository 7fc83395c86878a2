from __future__ import annotations

from email.message import EmailMessage

from parsers import parse_message
from tests.parsers.builders import build_mail, build_signalement_docx


def test_rfc2231_and_rfc2047_filenames() -> None:
    raw = (
        b"From: a@b.fr\r\nSubject: =?utf-8?q?Signalement_=C3=A9t=C3=A9?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\nNom : DUPONT\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''fiche%20sign%C3%A9e.pdf\r\n\r\nabc\r\n"
        b"--XX\r\nContent-Type: application/octet-stream; "
        b'name="=?utf-8?b?w6l0w6kucGRm?="\r\n\r\nabc\r\n'
        b"--XX--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.envelope.subject == "Signalement été"
    assert [a.filename for a in parsed.request.attachments] == ["fiche signée.pdf", "été.pdf"]
    assert parsed.request.patient.family_name == "DUPONT"
    assert "mime.charset_fallback" in {p.code for p in parsed.request.problems}


def test_forwarded_message_is_read() -> None:
    inner = build_mail(
        subject="Fiche",
        body="Nom : DURAND\nDate de naissance : 01/02/1940",
        attachments=[
            (
                "f.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                build_signalement_docx(),
            )
        ],
    )
    outer = EmailMessage()
    outer["From"] = "x@y.mssante.fr"
    outer["Subject"] = "TR: signalement"
    outer.set_content("Je vous transfère.")
    outer.add_attachment(inner, maintype="message", subtype="rfc822")
    parsed = parse_message(outer.as_bytes())
    assert "DURAND" in parsed.body_text
    assert parsed.request.patient.family_name == "DUPONT"  # the DOCX (form) beats the body


def test_html_only_body() -> None:
    raw = build_mail(
        subject="Signalement",
        body="",
        html="<p>Nom : <b>DUPONT</b></p>"
        "<table><tr><td>Date de naissance</td><td>12 mars 1950</td></tr></table>",
    )
    message = parse_message(raw)
    assert message.request.patient.family_name == "DUPONT"
    assert str(message.request.patient.birth_date) == "1950-03-12"


def test_dsn_and_mdn_are_reports() -> None:
    dsn = (
        b"From: MAILER-DAEMON@x.fr\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--B\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        b"Final-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.0.0\r\n--B--\r\n"
    )
    parsed = parse_message(dsn)
    assert parsed.report_kind == "dsn"
    mdn = dsn.replace(b"delivery-status", b"disposition-notification")
    assert parse_message(mdn).report_kind == "mdn"


def test_tnef_reported() -> None:
    raw = build_mail(
        subject="x",
        body="y",
        attachments=[("winmail.dat", "application/ms-tnef", b"\x78\x9f\x3e\x22rest")],
    )
    parsed = parse_message(raw)
    assert "mime.tnef" in {p.code for p in parsed.request.problems}
    assert parsed.request.attachments[0].kind == "tnef"


def test_smime_signed_data_content_extracted() -> None:
    from tests.parsers.der import signed_data

    inner = (
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Nom : DUPONT\r\nDate de naissance : 12/03/1950\r\n"
    )
    import base64

    raw = (
        b"From: a@b.fr\r\nSubject: Signalement\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(signed_data(inner))
    )
    parsed = parse_message(raw)
    assert parsed.request.patient.family_name == "DUPONT"


def test_garbage_never_raises() -> None:
    for raw in (
        b"",
        b"\x00\xff" * 100,
        b"Content-Type: multipart/mixed\r\n\r\n--",
        b"From: \xff\xfe\r\n\r\n",
    ):
        parse_message(raw)
