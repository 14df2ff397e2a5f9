"""Segments, campaigns, messages, holdout groups and lift, surveys, re-engagement jobs."""
