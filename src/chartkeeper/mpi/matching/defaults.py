"""Hand-set m and u of the built-in model, used before a site trains its own (and as EM's start).

m: how often the records of one person agree at each level (registration typos, nicknames,
moves); u: how often two different people do (a first name shared by 1 in 100, a birth date by
about 1 in 10,000, an SSN by nobody). The prior assumes about one duplicate per million pairs.
In ``COMPARISONS`` order; each row sums to 1.
"""

from __future__ import annotations

DEFAULT_PRIOR = 1e-6

#: comparison → (m per level, u per level)
_TABLE: tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...] = (
    (
        "given_name",  # exact swapped nickname middle jw.92 jw.80 phonetic different
        (0.80, 0.02, 0.03, 0.01, 0.07, 0.03, 0.01, 0.03),
        (0.01, 0.00001, 0.002, 0.002, 0.005, 0.03, 0.01, 0.94099),
    ),
    (
        "family_name",  # exact part jw.92 jw.80 phonetic different
        (0.85, 0.02, 0.07, 0.03, 0.01, 0.02),
        (0.003, 0.001, 0.004, 0.03, 0.01, 0.952),
    ),
    (
        "birth_date",  # exact transposed one-digit two-parts partial different
        (0.88, 0.01, 0.05, 0.03, 0.01, 0.02),
        (0.0001, 0.00002, 0.002, 0.02, 0.005, 0.97288),
    ),
    ("ssn", (0.95, 0.03, 0.02), (0.000001, 0.00002, 0.999979)),
    ("dl", (0.95, 0.03, 0.02), (0.000001, 0.00002, 0.999979)),
    ("passport", (0.95, 0.03, 0.02), (0.000001, 0.00002, 0.999979)),
    ("sex", (0.98, 0.02), (0.5, 0.5)),
    ("phone", (0.75, 0.03, 0.22), (0.0005, 0.0005, 0.999)),
    ("email", (0.70, 0.05, 0.25), (0.0001, 0.0005, 0.9994)),
    ("address_number", (0.80, 0.05, 0.15), (0.02, 0.05, 0.93)),
    ("street", (0.75, 0.10, 0.05, 0.10), (0.001, 0.003, 0.03, 0.966)),
    ("address_other", (0.70, 0.10, 0.05, 0.15), (0.002, 0.005, 0.04, 0.953)),
    ("city", (0.80, 0.08, 0.04, 0.08), (0.005, 0.005, 0.03, 0.96)),
    ("state", (0.95, 0.05), (0.2, 0.8)),
    ("postal_code", (0.85, 0.08, 0.07), (0.002, 0.02, 0.978)),
)

DEFAULT_NAMES = tuple(name for name, _, _ in _TABLE)
DEFAULT_M = tuple(m for _, m, _ in _TABLE)
DEFAULT_U = tuple(u for _, _, u in _TABLE)
