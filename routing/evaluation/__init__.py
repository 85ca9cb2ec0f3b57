"""Evaluation: metrics, reports, champion/challenger comparison, audit of past dispositions."""
