"""Tests of chartkeeper.billing.codes."""
