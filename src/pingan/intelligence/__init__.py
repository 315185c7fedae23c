"""Intake intelligence: suggesting a category and a department from free text, and measuring how
well that (and duplicate detection) works on labelled data."""
