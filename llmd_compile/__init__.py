"""llmd-compile: one typed llm-d stack spec, compiled into committed GitOps artifacts."""

__version__ = "0.1.0"
