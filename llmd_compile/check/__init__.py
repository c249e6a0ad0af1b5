"""Diagnostics over the compiled artifact set (wiring, capacity, platform)."""
