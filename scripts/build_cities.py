"""Build bot/data/icc_cities.csv from the network's shared member list.

Adds what the bot needs and the source leaves out: a network slug and an IANA time zone
(the country's, with the few cities that sit in another zone named). Run it again when the
shared list changes:  python scripts/build_cities.py ../shared/data/icc_cities.csv
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from storage.slugs import slugify

COUNTRY_TZ = {
    "Italy": "Europe/Rome", "Spain": "Europe/Madrid", "Portugal": "Europe/Lisbon",
    "Morocco": "Africa/Casablanca", "United Kingdom": "Europe/London", "Germany": "Europe/Berlin",
    "Ukraine": "Europe/Kyiv", "Norway": "Europe/Oslo", "Canada": "America/Toronto",
    "Turkey": "Europe/Istanbul", "Switzerland": "Europe/Zurich", "Poland": "Europe/Warsaw",
    "France": "Europe/Paris", "Australia": "Australia/Melbourne", "South Korea": "Asia/Seoul",
    "Romania": "Europe/Bucharest", "Netherlands": "Europe/Amsterdam", "Jordan": "Asia/Amman",
    "Ireland": "Europe/Dublin", "Greece": "Europe/Athens", "United States": "America/Chicago",
    "Sweden": "Europe/Stockholm", "Serbia": "Europe/Belgrade", "Russia": "Europe/Samara",
    "New Zealand": "Pacific/Auckland", "Mexico": "America/Mexico_City", "Malta": "Europe/Malta",
    "Luxembourg": "Europe/Luxembourg", "Lithuania": "Europe/Vilnius", "Japan": "Asia/Tokyo",
    "Israel": "Asia/Jerusalem", "Iceland": "Atlantic/Reykjavik", "Hungary": "Europe/Budapest",
    "Faroe Islands": "Atlantic/Faroe", "Denmark": "Europe/Copenhagen", "Cyprus": "Asia/Nicosia",
    "Croatia": "Europe/Zagreb",
}
CITY_TZ = {"Tenerife (Cabildo)": "Atlantic/Canary"}
# Rows whose "network" is a note about membership rather than a national network.
NOTE_NETWORKS = re.compile(r"^(index-list|pilot 2008)")


def build(source: Path, target: Path) -> int:
    rows = list(csv.DictReader(source.open(encoding="utf-8")))
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["city", "country", "language", "network", "network_name", "timezone", "note"])
        for row in rows:
            network_name = row["network"].strip()
            note = ""
            if NOTE_NETWORKS.match(network_name):
                note, network_name = network_name, "international"
            if network_name == "international":
                network_name = "International network"
            tz = CITY_TZ.get(row["city"]) or COUNTRY_TZ[row["country"]]
            slug = "international" if network_name == "International network" else slugify(network_name)
            writer.writerow([row["city"], row["country"], row["language_code"], slug,
                             network_name, tz, note])
    return len(rows)


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/icc_cities.csv")
    count = build(src, Path(__file__).resolve().parent.parent / "bot" / "data" / "icc_cities.csv")
    print(f"{count} cities written")
