"""Benchmarks at national scale (never asserted in tests): `python bench/national.py`."""
