"""Pingan (平安): a city's social-governance command centre."""

__version__ = "0.1.0"
