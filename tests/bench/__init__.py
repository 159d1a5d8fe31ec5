"""Benchmarks: not collected by pytest; `make bench` (python -m tests.bench) runs them all."""
