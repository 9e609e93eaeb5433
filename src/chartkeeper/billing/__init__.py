"""Coding and billing: claims, remittances and the code sets they carry."""
