"""Failure alerts of profiler runs (interfaces.md "Alerts"): one payload builder, senders."""
