"""Where patients live: the CPTS du Massif Vosgien territory, outside communes, streets."""

from __future__ import annotations

__all__ = [
    "LUXEMBOURG_COMMUNES",
    "OUT_OF_TERRITORY",
    "STREETS",
    "TERRITORY_COMMUNES",
    "TERRITORY_POSTAL_CODES",
    "in_commune",
]

TERRITORY_COMMUNES: dict[str, str] = {
    "Gérardmer": "88400",
    "Xonrupt-Longemer": "88400",
    "Liézey": "88400",
    "Le Tholy": "88530",
    "La Bresse": "88250",
    "Cornimont": "88310",
    "Ventron": "88310",
    "Saulxures-sur-Moselotte": "88290",
    "Thiéfosse": "88290",
    "Vagney": "88120",
    "Rochesson": "88120",
    "Sapois": "88120",
    "Remiremont": "88200",
    "Saint-Étienne-lès-Remiremont": "88200",
    "Le Thillot": "88160",
    "Ramonchamp": "88160",
    "Fresse-sur-Moselle": "88160",
    "Granges-Aumontzey": "88640",
}

TERRITORY_POSTAL_CODES: tuple[str, ...] = tuple(sorted(set(TERRITORY_COMMUNES.values())))

OUT_OF_TERRITORY: dict[str, str] = {
    "Épinal": "88000",
    "Nancy": "54000",
    "Strasbourg": "67000",
    "Mulhouse": "68100",
    "Paris": "75011",
    "Saint-Dié-des-Vosges": "88100",
    "Bruyères": "88600",
}

# Médecin référent patients live in Luxembourg; only the commune is ever written.
LUXEMBOURG_COMMUNES: tuple[str, ...] = (
    "Esch-sur-Alzette",
    "Differdange",
    "Dudelange",
    "Luxembourg",
    "Ettelbruck",
    "Pétange",
    "Diekirch",
    "Wiltz",
)

STREETS: tuple[str, ...] = (
    "rue du Lac",
    "chemin de la Creuse",
    "route de Retournemer",
    "rue Charles de Gaulle",
    "place du Tilleul",
    "rue des Écoles",
    "chemin des Fies",
    "rue de la Moselotte",
    "impasse des Sapins",
    "rue du Général Leclerc",
    "rue de la Gare",
    "Grande Rue",
    "rue des Jardiniers",
    "chemin du Haut du Tôt",
    "rue du 8 Mai 1945",
    "route du Col de la Schlucht",
    "rue de l'Église",
    "chemin des Brimbelles",
)


def in_commune(city: str) -> str:
    """French preposition + commune: "au Tholy", "à La Bresse", "à Gérardmer"."""
    if city.startswith("Le "):
        return "au " + city[3:]
    if city.startswith("Les "):
        return "aux " + city[4:]
    return "à " + city
