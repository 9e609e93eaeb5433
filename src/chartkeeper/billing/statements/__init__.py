"""Patient statements in plain words: what was billed, what insurance paid, what the patient
owes and why, and whom to ask — as HTML and as PDF.

Public API: `BillingOffice`, `statement_html`, `statement_pdf`, `statement_css` (render);
`explain`, `claim_summary`, `status_words` (words); `flesch_kincaid_grade` (readability).
"""

from __future__ import annotations

from chartkeeper.billing.statements.render import (
    BillingOffice,
    statement_css,
    statement_html,
    statement_pdf,
)
from chartkeeper.billing.statements.words import claim_summary, explain, status_words
from chartkeeper.language.readability import flesch_kincaid_grade

__all__ = [
    "BillingOffice",
    "claim_summary",
    "explain",
    "flesch_kincaid_grade",
    "statement_css",
    "statement_html",
    "statement_pdf",
    "status_words",
]
