"""Directory search over the Annuaire Santé tables."""

from __future__ import annotations

from sqlmodel import Session

from gateway.storage.directory_models import MssanteAddress, Professional
from tests.gateway.web.conftest import Web
from tests.support.web import login


def _professional(rpps: str, family: str, commune: str, active: bool = True) -> Professional:
    return Professional(
        national_id=f"8{rpps}",
        id_type="8",
        pp_id=rpps,
        family_name=family,
        given_name="Anne",
        profession_label="Médecin",
        commune_label=commune,
        postal_code="88400",
        active=active,
        batch_id=1,
        changed_batch_id=1,
        created_batch_id=1,
    )


def test_search_by_name_commune_and_rpps_shows_mssante_addresses(web: Web) -> None:
    with Session(web.engine) as db:
        db.add(_professional("10001045367", "LEFEBVRE", "GERARDMER"))
        db.add(_professional("10002345678", "LEGRAND", "EPINAL"))
        db.add(_professional("10003456789", "LEMAIRE", "GERARDMER", active=False))
        db.add(
            MssanteAddress(
                address="anne.lefebvre@medecin.mssante.fr",
                bal_type="PER",
                national_id="810001045367",
                batch_id=1,
                changed_batch_id=1,
                created_batch_id=1,
            )
        )
        db.commit()
    client = web.client()
    login(client, "viewer")
    page = client.get("/directory?q=lef").text
    assert "LEFEBVRE" in page and "anne.lefebvre@medecin.mssante.fr" in page
    assert "LEGRAND" not in page
    by_commune = client.get("/directory?q=gerard").text
    assert "LEFEBVRE" in by_commune and "LEMAIRE" not in by_commune  # inactive rows are hidden
    assert "LEGRAND" in client.get("/directory?q=10002345678").text
    assert "Aucun professionnel" in client.get("/directory?q=zz").text
