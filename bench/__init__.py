"""Benchmarks: `python -m bench.NAME ...`; each creates and drops its own PostgreSQL database (bench._db)."""
