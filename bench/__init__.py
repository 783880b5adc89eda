"""Benchmarks (run by hand; see each script)."""
