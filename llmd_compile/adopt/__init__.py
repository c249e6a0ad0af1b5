"""Adopt a running llm-d deployment: `import` (adopt/importer.py) reads it as the guides write it and writes a spec
that compiles back to it; `upgrade` (adopt/upgrade.py) moves a spec to another release preset, as a reviewed diff.

Kept empty so that registering the subcommands (adopt/commands.py, at every CLI start) loads nothing else.
"""
