"""Deterministic generator of the bundled example sources (sources/example/)."""
