"""Upstream facts as our own data: chart versions and value shapes, release presets, picker registries."""
