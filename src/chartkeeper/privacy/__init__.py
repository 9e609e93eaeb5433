"""Security and privacy: identity, tokens and scopes, the access decision, the audit ledger."""
