"""Plain words for claim adjustments and statuses, and the readability they are held to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from chartkeeper.billing.account_model import Adjustment, ChargeLine, ClaimActivity
from chartkeeper.billing.statements.content import TEXT
from chartkeeper.billing.statements.words import (
    ADJUSTMENT_WORDS,
    GROUP_WORDS,
    OTHER_STATUS,
    OTHER_WORDS,
    STATUS_WORDS,
    claim_summary,
    explain,
    status_words,
)
from chartkeeper.language.readability import (
    count_syllables,
    flesch_kincaid_grade,
    sentence_count,
    words_of,
)

GRADE_LIMIT = 8.0


def claim(
    paid: str = "0", adjustments: tuple[Adjustment, ...] = (), status: str = "paid"
) -> ClaimActivity:
    return ClaimActivity(
        claim_id="CLM-77",
        service_from=date(2026, 2, 3),
        service_to=date(2026, 2, 3),
        provider_name="Dr. Ada Lind",
        payer_name="Acme Health Plan",
        lines=(
            ChargeLine(date(2026, 2, 3), "G0463", "Clinic visit", Decimal("200.00")),
            ChargeLine(date(2026, 2, 3), "J1885", "Ketorolac injection", Decimal("100.00")),
        ),
        status=status,
        insurance_paid=Decimal(paid),
        adjustments=adjustments,
    )


@pytest.mark.parametrize(
    ("group", "reason", "amount", "sentence"),
    [
        ("PR", "1", "40", "Your plan applied $40.00 to your deductible. You pay this part."),
        (
            "PR",
            "2",
            "12.5",
            "Your coinsurance is $12.50. This is your share of the cost. You pay this part.",
        ),
        ("PR", "3", "25.00", "Your copay for this visit is $25.00. You pay this part."),
        (
            "CO",
            "45",
            "1234.5",
            "We agreed with your plan on a lower price, so we took off $1,234.50."
            " You do not owe this.",
        ),
        (
            "CO",
            "29",
            "80",
            "We sent this bill to your plan too late, so we took off $80.00. You do not owe this.",
        ),
        (
            "OA",
            "23",
            "60",
            "Your other insurance already paid or settled $60.00. You do not owe this.",
        ),
    ],
)
def test_explain_gives_the_sentence_with_the_amount(
    group: str, reason: str, amount: str, sentence: str
) -> None:
    assert explain(Adjustment(group, reason, Decimal(amount))) == sentence


def test_not_medically_necessary_says_the_provider_needs_written_agreement_to_bill() -> None:
    words = explain(Adjustment("CO", "50", Decimal("180")))
    assert words.startswith("Your plan says $180.00 of this care was not needed for your health.")
    assert "We cannot bill you for it unless you agreed in writing before the visit." in words


@pytest.mark.parametrize(
    ("group", "reason"),
    [
        ("PR", "96"), ("PR", "204"), ("PR", "27"), ("PR", "31"), ("CO", "97"), ("CO", "16"),
        ("CO", "18"), ("CO", "22"), ("CO", "109"), ("CO", "4"), ("CO", "11"),
    ],
)  # fmt: skip
def test_each_required_reason_has_its_own_sentence(group: str, reason: str) -> None:
    sentence = explain(Adjustment(group, reason, Decimal("10")))
    assert (group, reason) in ADJUSTMENT_WORDS
    assert sentence != GROUP_WORDS[group].format(amount="$10.00")
    assert "$10.00" in sentence


def test_every_sentence_tells_the_patient_whether_they_pay() -> None:
    for (group, reason), template in ADJUSTMENT_WORDS.items():
        sentence = template.format(amount="$1.00")
        if group == "PR":
            assert "You pay this part." in sentence or "billed to you" in sentence, reason
        else:
            assert "do not owe" in sentence or "cannot bill you" in sentence, (group, reason)


def test_a_reason_without_words_falls_back_to_its_group() -> None:
    assert explain(Adjustment("PR", "B9", Decimal("5"))) == (
        "Your plan says $5.00 is your share. You pay this part."
    )
    assert explain(Adjustment("PI", "94", Decimal("7"))) == (
        "Your plan lowered what it paid by $7.00. You do not owe this."
    )
    assert explain(Adjustment("CR", "45", Decimal("3"))).startswith(
        "Your plan fixed an earlier answer on this bill by $3.00."
    )
    assert explain(Adjustment("ZZ", "1", Decimal("2"))) == OTHER_WORDS.format(amount="$2.00")


def test_a_negative_amount_reads_as_taken_back_not_as_a_negative_dollar_figure() -> None:
    assert explain(Adjustment("PR", "1", Decimal("-40"))) == (
        "Your plan took back $40.00 of your share from before. This adds to what you owe."
    )
    assert "-$" not in explain(Adjustment("CO", "45", Decimal("-15")))


def test_claim_summary_says_paid_then_each_adjustment_then_the_share() -> None:
    paid = claim(
        "150",
        (
            Adjustment("CO", "45", Decimal("70"), line=0),
            Adjustment("CO", "45", Decimal("10"), line=1),
            Adjustment("PR", "1", Decimal("40"), line=0),
            Adjustment("PR", "2", Decimal("30"), line=1),
            Adjustment("OA", "23", Decimal("0")),
        ),
    )
    assert claim_summary(paid) == [
        "Acme Health Plan paid $150.00.",
        "We agreed with your plan on a lower price, so we took off $80.00. You do not owe this.",
        "Your plan applied $40.00 to your deductible. You pay this part.",
        "Your coinsurance is $30.00. This is your share of the cost. You pay this part.",
        "Your share for this visit is $70.00.",
    ]


def test_claim_summary_of_a_claim_still_with_the_payer() -> None:
    assert claim_summary(claim(status="submitted")) == [
        "We sent this bill to Acme Health Plan and are waiting for an answer."
        " You do not owe anything for this visit yet."
    ]
    partly = claim("100", (Adjustment("CO", "45", Decimal("50")),))
    assert claim_summary(partly)[-1] == (
        "$150.00 is still with Acme Health Plan. You may owe more later."
    )


def test_claim_summary_of_a_denied_claim_says_the_patient_owes_nothing() -> None:
    denied = claim(adjustments=(Adjustment("CO", "50", Decimal("300")),), status="denied")
    assert claim_summary(denied)[-1] == "You owe nothing for this visit."


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("awaiting insurance", "Waiting for your insurance"),
        ("released", "Waiting for your insurance"),
        ("held", "Waiting for your insurance"),
        ("partial", "Partly paid — we are working on the rest"),
        ("PAID", "Paid"),
        ("denied", "Denied by your insurance — we are working on it"),
        ("4", "Denied by your insurance — we are working on it"),
        ("22", "Your insurance took back its payment — we are working on it"),
        ("something-new", OTHER_STATUS),
    ],
)
def test_status_words(status: str, words: str) -> None:
    assert status_words(status) == words


# Readability: Flesch-Kincaid grade, held to US grade 8.


def test_syllable_guesses_for_everyday_billing_words() -> None:
    guesses = {
        "the": 1, "paid": 1, "share": 1, "charges": 2, "covered": 2, "needed": 2, "table": 2,
        "insurance": 3, "period": 3, "deductible": 4, "information": 4, "40.00": 2,
    }  # fmt: skip
    assert {word: count_syllables(word) for word in guesses} == guesses


def test_grade_follows_the_kincaid_formula() -> None:
    text = "The cat sat on the mat. Your plan paid for the insurance."
    words, sentences = words_of(text), sentence_count(text)
    assert (len(words), sentences) == (12, 2)
    syllables = 6 + 5 + 3  # "The cat sat on the mat"; "Your plan paid for the"; "in-sur-ance"
    expected = 0.39 * 12 / 2 + 11.8 * syllables / 12 - 15.59
    assert flesch_kincaid_grade(text) == pytest.approx(expected)
    assert flesch_kincaid_grade("") == 0.0


def test_hard_text_scores_above_the_limit() -> None:
    legalese = (
        "Notwithstanding contractual obligations, the adjudicated reimbursement determination"
        " constitutes preliminary authorization contingent upon documentation verification."
    )
    assert flesch_kincaid_grade(legalese) > 16


def _every_explanation() -> list[str]:
    templates = [*ADJUSTMENT_WORDS.values(), *GROUP_WORDS.values(), OTHER_WORDS]
    sentences = [template.format(amount="$1,234.56") for template in templates]
    sentences += [explain(Adjustment(group, "0", Decimal("-40"))) for group in GROUP_WORDS]
    return sentences


@pytest.mark.parametrize("sentence", _every_explanation())
def test_every_explanation_reads_at_grade_8_or_below(sentence: str) -> None:
    assert flesch_kincaid_grade(sentence) <= GRADE_LIMIT


SAMPLE_FIELDS = {
    "amount": "$40.00", "due": "May 1, 2026", "dates": "March 2, 2026",
    "phone": "(555) 010-4477", "hours": "Monday to Friday, 8 a.m. to 5 p.m.",
    "account": "PAT-000123", "claims": "CLM-1001, CLM-1002", "page": 1, "pages": 2,
}  # fmt: skip


def test_the_statements_fixed_sentences_read_at_grade_8_or_below() -> None:
    """Each fixed phrase of five words or more, alone, and all fixed text as one passage.

    A lone heading such as "Insurance" scores grade 20 by the formula, which says nothing about
    a reader; Flesch-Kincaid is meant for passages, so short labels are scored together.
    """
    phrases = [text.format(**SAMPLE_FIELDS) for text in TEXT.values()]
    for phrase in phrases:
        if len(words_of(phrase)) >= 5:
            assert flesch_kincaid_grade(phrase) <= GRADE_LIMIT, phrase
    passage = " ".join(p if p.endswith((".", "?", "!")) else f"{p}." for p in phrases)
    assert flesch_kincaid_grade(passage) <= GRADE_LIMIT


def test_status_words_read_at_grade_8_or_below_as_a_passage() -> None:
    passage = ". ".join([*STATUS_WORDS.values(), OTHER_STATUS]) + "."
    assert flesch_kincaid_grade(passage) <= GRADE_LIMIT


def test_the_docs_table_has_every_sentence_and_status() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "billing-statements.md"
    table = docs.read_text(encoding="utf-8")
    for (group, reason), template in ADJUSTMENT_WORDS.items():
        assert f"| {group} | {reason} | {template.format(amount='$X')} |" in table
    for group, template in GROUP_WORDS.items():
        assert f"| {group} | any other | {template.format(amount='$X')} |" in table
    for status, words in STATUS_WORDS.items():
        assert f"| `{status}` | {words} |" in table
