"""Synthetic people for the matching tests: originals, and duplicates with registration errors.

Seeded, so every run sees the same records; names and places are invented or very common.
"""

from __future__ import annotations

import random
from dataclasses import replace

from chartkeeper.mpi.matching.record import PersonRecord

GIVEN = [
    "william",
    "bill",
    "margaret",
    "peggy",
    "maggie",
    "robert",
    "bob",
    "elizabeth",
    "liz",
    "james",
    "jim",
    "mary",
    "john",
    "jon",
    "patricia",
    "linda",
    "michael",
    "barbara",
    "david",
    "susan",
    "richard",
    "jessica",
    "joseph",
    "sarah",
    "thomas",
    "karen",
    "charles",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "sandra",
    "mark",
    "ashley",
    "donald",
    "emily",
    "steven",
    "kimberly",
    "paul",
    "donna",
    "andrew",
    "michelle",
    "joshua",
    "carol",
    "kenneth",
    "amanda",
    "kevin",
    "melissa",
    "brian",
    "deborah",
    "george",
    "stephanie",
    "timothy",
    "rebecca",
    "ronald",
    "sharon",
    "edward",
    "laura",
    "jason",
    "cynthia",
]
FAMILY = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "o'brien",
    "garcia-lopez",
    "van",
    "der",
    "berg",
    "quennell",
    "okafor",
]
STREETS = ["main", "oak", "pine", "maple", "cedar", "elm", "washington", "lake", "hill", "park"]
CITIES = [
    "springfield",
    "riverton",
    "fairview",
    "madison",
    "georgetown",
    "salem",
    "franklin",
    "clinton",
]


def person(rng: random.Random, number: int) -> PersonRecord:
    """One invented person with every field filled."""
    ssn = f"{rng.randrange(100, 900)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
    day = rng.randrange(1, 29)
    return PersonRecord(
        id=f"p{number}",
        given=(rng.choice(GIVEN).title(),),
        family=rng.choice(FAMILY).title(),
        birth_date=f"{rng.randrange(1930, 2020)}-{rng.randrange(1, 13):02d}-{day:02d}",
        sex=rng.choice(("male", "female")),
        identifiers=(("ssn", ssn),),
        phone=f"({rng.randrange(200, 999)}) 555-{rng.randrange(1000, 9999)}",
        email=f"user{number}@example.org",
        address_lines=(f"{rng.randrange(1, 999)} {rng.choice(STREETS).title()} Street",),
        city=rng.choice(CITIES).title(),
        state=rng.choice(("MA", "NY", "CA", "TX")),
        postal_code=f"{rng.randrange(10000, 99999)}",
    )


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + rng.choice("aeiourstn") + text[i + 1 :]


def duplicate(rng: random.Random, original: PersonRecord, number: int) -> PersonRecord:
    """A second registration of ``original`` with one or two typical errors."""
    dup = replace(original, id=f"{original.id}-dup{number}")
    for _ in range(rng.randrange(1, 3)):
        error = rng.randrange(6)
        if error == 0:
            dup = replace(dup, given=(_typo(rng, dup.given[0]),))
        elif error == 1:
            dup = replace(dup, family=_typo(rng, dup.family))
        elif error == 2 and dup.birth_date:
            year, month, day = dup.birth_date.split("-")
            dup = replace(dup, birth_date=f"{year}-{day}-{month}" if int(day) <= 12 else "")
        elif error == 3:
            dup = replace(dup, phone="", email="")
        elif error == 4:
            dup = replace(dup, address_lines=(), city="", postal_code="")
        else:
            dup = replace(dup, given=(dup.family,), family=dup.given[0])
    return dup


def population(size: int, duplicates: int, seed: int = 7) -> list[PersonRecord]:
    """``size`` people, the first ``duplicates`` of them registered twice (ids ``pN-dup1``)."""
    rng = random.Random(seed)
    people = [person(rng, n) for n in range(size)]
    return people + [duplicate(rng, people[n], 1) for n in range(duplicates)]


def same_person(a: PersonRecord, b: PersonRecord) -> bool:
    """Truth for scoring only: the ids name the same invented person."""
    return a.id.split("-")[0] == b.id.split("-")[0]
