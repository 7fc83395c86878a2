"""The bench's requests differ where real mails differ."""

from __future__ import annotations

from email import message_from_bytes

from bench.e2e_workload import RequestFactory


def test_requests_built_from_one_template_differ_in_id_and_boundary() -> None:
    factory = RequestFactory(te_every=1000)
    rounds = len(factory._signalements) + 1
    requests = [
        factory.make("dr@test.mssante.fr", "cpts@test.mssante.fr", "te@test.mssante.fr")
        for _ in range(rounds)
    ]
    one, other = requests[0], requests[-1]  # the same template, one round apart
    assert one.message_id != other.message_id
    a, b = message_from_bytes(one.raw), message_from_bytes(other.raw)
    assert a.get_boundary() and b.get_boundary()
    assert a.get_boundary() != b.get_boundary()
    assert len(a.get_payload()) == len(b.get_payload()) == 2  # the boundary still splits it
