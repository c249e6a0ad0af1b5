"""Images as facts: repositories (or tags) that can no longer be pulled, since when, and what replaced them.

Sources: ../shared/upstream/CURRENT.md §5 (image renames) and §1/§2 (what each release ships). A fact here is
what a compiled stack must not emit: check/images.py (LLMD501) reports every emitted image listed below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Gone:
    repository: str
    since: str  # when pulls started failing (as precisely as the evidence says)
    replacement: str  # repository, or what takes the image's place
    # The release preset whose images replace it (what `llmd-compile upgrade --to` moves a spec to).
    upgrade_to: str
    # False: no public report of a failed pull was found; the fact rests on the rename alone (said in the message).
    reported: bool
    # None: every tag.
    tags: frozenset[str] | None = None

    def covers(self, tag: str) -> bool:
        return self.tags is None or tag in self.tags


GONE: Mapping[str, Gone] = MappingProxyType({
    # Renamed by llm-d-router PR #1098 (2026-05-16; first release router v0.9.0, 2026-06-23; last old tag v0.8.0:
    # ROUTER@v0.10.0:Makefile L21-22 vs ROUTER@v0.8.0:Makefile L13-14, https://github.com/llm-d/llm-d/issues/1819).
    # Unpullable, every tag: anonymous pulls denied and the package page 404s (CURRENT.md §5). Reports:
    #   https://github.com/ai-runway/airunway/issues/402           (2026-09-01, tag v0.6.0)
    #   https://github.com/vllm-project/semantic-router/issues/3404 (2026-09-03, tag v0.3.2)
    #   https://github.com/kserve/kserve/issues/6215                (2026-09-15, tag v0.7.1)
    "ghcr.io/llm-d/llm-d-inference-scheduler": Gone(
        "ghcr.io/llm-d/llm-d-inference-scheduler", "2026-09", "ghcr.io/llm-d/llm-d-router-endpoint-picker",
        "v0.9", reported=True),
    # Renamed by the same router PR #1098 and release (CURRENT.md §5). No report of a failed pull was found; that
    # it is gone is the premise of issue 16 (CURRENT.md §5: "the brief's premise says they are gone too").
    "ghcr.io/llm-d/llm-d-routing-sidecar": Gone(
        "ghcr.io/llm-d/llm-d-routing-sidecar", "2026-09", "ghcr.io/llm-d/llm-d-router-disagg-sidecar",
        "v0.9", reported=False),
    # Built by llm-d-kv-cache; dropped by llm-d-router #1234 (2026-05-27, v0.9.0) for vLLM's `vllm launch render`
    # server (image vllm/vllm-openai-cpu; ROUTER@ebab6879:RELEASE-NOTES.md), and by inference-sim #478 for
    # --render-url (CURRENT.md §8). No report of a failed pull was found: premise of issue 16, as above.
    "ghcr.io/llm-d/llm-d-uds-tokenizer": Gone(
        "ghcr.io/llm-d/llm-d-uds-tokenizer", "2026-09", "a vLLM render server (`vllm launch render`, image "
        "vllm/vllm-openai-cpu)", "v0.9", reported=False),
})


def split(image: str) -> tuple[str, str]:
    """`registry/path:tag@digest` -> (repository, tag); tag '' when the reference has none."""
    ref = image.partition("@")[0]
    head, _, last = ref.rpartition("/")
    name, colon, tag = last.partition(":")
    return (f"{head}/{name}" if head else name), (tag if colon else "")


def gone(image: str) -> Gone | None:
    """The fact about an image that can no longer be pulled, or None."""
    repository, tag = split(image)
    fact = GONE.get(repository)
    return fact if fact is not None and fact.covers(tag) else None
