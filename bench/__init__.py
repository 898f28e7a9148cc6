"""Benchmarks (`make bench`, `python -m bench`): alert latency, connections, intake,
recommendation and statistics on PostgreSQL + a private Redis + daphne, all on loopback.

Figures are printed and written to bench/results/<name>.json; nothing here is asserted in tests.
"""
