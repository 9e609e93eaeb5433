"""Tests of chartkeeper.summary."""
