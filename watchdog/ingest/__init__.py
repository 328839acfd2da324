"""Ingest: raw bytes from any source become one normalised ``Message``."""
