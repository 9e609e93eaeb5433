"""Tests of chartkeeper.privacy: identity, tokens, scopes, OAuth, access decision, audit."""
