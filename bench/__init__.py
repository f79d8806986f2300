"""Benchmarks. `make bench` (python -m bench) runs every bench_*.py and records bench/results/."""
