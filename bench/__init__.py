"""Scale benchmarks (not part of ``make test``): ``python -m bench.list_views``."""
