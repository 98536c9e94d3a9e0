"""A household cluster: two Rosi and two Mechthilde Trommler records (each person twice)."""

from __future__ import annotations

from dataclasses import dataclass

from parties import models as m
from tests.factories import PartyFactory, SourceRecordFactory, SourceSystemFactory


@dataclass
class Household:
    rosi: list[m.Party]
    mechthilde: list[m.Party]

    @property
    def ids(self) -> list[int]:
        return [p.pk for p in (*self.rosi, *self.mechthilde)]


def household() -> Household:
    crm, shop = SourceSystemFactory(name="CRM", trust_rank=5), SourceSystemFactory(name="Shop", trust_rank=30)
    people = {"Rosi": "1961-03-02", "Mechthilde": "1958-11-20"}
    made: dict[str, list[m.Party]] = {}
    for given, born in people.items():
        for source in (crm, shop):
            party = PartyFactory(given_name=given, family_name="Trommler", display_name=f"{given} Trommler")
            SourceRecordFactory(
                party=party,
                source_system=source,
                standardized={
                    "kind": "individual",
                    "attributes": {"given_name": given, "family_name": "Trommler", "birth_date": born},
                },
            )
            m.ContactPointAddress.objects.create(
                party=party,
                raw_value="Lindenweg 4",
                line1="Lindenweg 4",
                city="Jena",
                postal_code="07743",
                country="DE",
                normalized="lindenweg 4|07743|jena|de",
            )
            made.setdefault(given, []).append(party)
    return Household(rosi=made["Rosi"], mechthilde=made["Mechthilde"])
