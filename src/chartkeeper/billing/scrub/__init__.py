"""The claim scrubber: data-driven rules that stop a wrong bill before it leaves.

Public API::

    context = ScrubContext(registry, timely_filing={...}, charge_ceiling=..., duplicates=...)
    scrubber = Scrubber(context)                     # engine.py
    issues = scrubber.scrub(scrub_claim)             # list[Issue], errors first
    is_clean(issues)                                 # no error
    to_operation_outcome(issues, scrub_claim.locations)   # outcome.py, FHIR R4
    engine.RULES / engine.rules()                    # the rule modules and their metadata

Inputs and outputs are ``model.ScrubClaim`` and ``model.Issue``; ``signature.claim_signature``
is the duplicate key; ``docs.rule_table()`` is the rule table of docs/billing.md.
"""
