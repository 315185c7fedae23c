"""Benchmarks that print figures (`make bench`); none of them passes or fails on time."""
