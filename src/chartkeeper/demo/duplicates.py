"""Near-duplicate patients: a second record of one person with a realistic registration error."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from .ids import resource_id
from .names import FAMILY, NICKNAMES
from .people import Person

# One person in each block of this many is registered twice (about 3%), wherever the block ends,
# so whether patient i has a twin never depends on how many patients are generated.
BLOCK = 33


def has_duplicate(seed: int, index: int) -> bool:
    """Whether patient ``index`` gets a second record."""
    return random.Random(f"{seed}-dup-{index // BLOCK}").randrange(BLOCK) == index % BLOCK


def patient_scope(index: int, duplicate: bool = False) -> str:
    """The id scope of a patient record."""
    return f"patient-{index}-b" if duplicate else f"patient-{index}"


def patient_id(seed: int, index: int, duplicate: bool = False) -> str:
    """The Patient id of the primary (or duplicate) record of patient ``index``."""
    return resource_id(seed, patient_scope(index, duplicate), "Patient", 1)


def duplicate_pairs(patients: int, seed: int) -> list[tuple[str, str]]:
    """(original, duplicate) Patient ids of the same person, for tests and MPI evaluation."""
    return [
        (patient_id(seed, i), patient_id(seed, i, duplicate=True))
        for i in range(patients)
        if has_duplicate(seed, i)
    ]


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name + name[-1]
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # transposed letters
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:  # dropped letter
        return name[:i] + name[i + 1 :]
    return name[: i + 1] + name[i] + name[i + 1 :]  # doubled letter


def _family_typo(rng: random.Random, p: Person) -> Person:
    return replace(p, family=_typo(rng, p.family))


def _nickname(rng: random.Random, p: Person) -> Person:
    if p.given not in NICKNAMES:
        return _family_typo(rng, p)
    return replace(p, given=rng.choice(NICKNAMES[p.given]), middle=None)


def _swapped_birth(rng: random.Random, p: Person) -> Person:
    b = p.birth
    if b.day > 12 or b.day == b.month:
        return _family_typo(rng, p)
    return replace(p, birth=b.replace(month=b.day, day=b.month))


def _hyphenated(rng: random.Random, p: Person) -> Person:
    other = rng.choice([f for f in FAMILY if f != p.family])
    return replace(p, family=f"{p.family}-{other}" if rng.random() < 0.5 else f"{other}-{p.family}")


def _swapped_names(rng: random.Random, p: Person) -> Person:
    return replace(p, given=p.family, family=p.given, middle=None)


VARIANTS: tuple[Callable[[random.Random, Person], Person], ...] = (
    _family_typo,
    _nickname,
    _swapped_birth,
    _hyphenated,
    _swapped_names,
)


def duplicate_person(seed: int, person: Person) -> Person:
    """The same person as entered at a second registration: one error, sometimes less data."""
    rng = random.Random(f"{seed}-{person.index}-dup-variant")
    twin = rng.choice(VARIANTS)(rng, person)
    if rng.random() < 0.5:
        twin = replace(twin, ssn=None)
    if rng.random() < 0.3:
        twin = replace(twin, phone=f"555-555-01{rng.randint(0, 99):02d}")
    return twin
