"""Command-centre figures computed from case facts: pure functions, no I/O."""
