"""The scrubber's rule table for docs/billing.md: ``python -m chartkeeper.billing.scrub.docs``.

Generated from each rule's ``RULE`` so the documentation cannot drift (a test compares them).
"""

from __future__ import annotations

import sys

from chartkeeper.billing.scrub.engine import rules

BEGIN = "<!-- scrub-rules:begin -->"
END = "<!-- scrub-rules:end -->"


def rule_table() -> str:
    """A markdown table: id, severity, what it checks, source."""
    lines = ["| Rule | Severity | Checks | Source |", "|---|---|---|---|"]
    for rule in rules():
        lines.append(f"| `{rule.id}` | {rule.severity} | {rule.checks} | {rule.source} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print the table."""
    sys.stdout.write(rule_table())


if __name__ == "__main__":
    main()
