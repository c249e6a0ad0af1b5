"""catalog/images.py: image references split as the registries read them; the gone repositories are CURRENT.md §5's."""

from __future__ import annotations

import pytest

from llmd_compile.catalog import images

# (image, repository, tag) — the reference grammar of distribution/reference: the last ':' after the last '/'
SPLITS = [
    ("ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1", "ghcr.io/llm-d/llm-d-inference-scheduler", "v0.2.1"),
    ("localhost:5000/llm-d/picker", "localhost:5000/llm-d/picker", ""),
    ("localhost:5000/picker:v1@sha256:" + "a" * 64, "localhost:5000/picker", "v1"),
    ("busybox", "busybox", ""),
]


@pytest.mark.parametrize(("image", "repository", "tag"), SPLITS)
def test_split(image: str, repository: str, tag: str) -> None:
    assert images.split(image) == (repository, tag)


# (image, replacement or None) — CURRENT.md §5: every tag of the three renamed repositories; the new names are not gone
GONE = [
    ("ghcr.io/llm-d/llm-d-inference-scheduler:v0.8.0", "ghcr.io/llm-d/llm-d-router-endpoint-picker"),
    ("ghcr.io/llm-d/llm-d-inference-scheduler@sha256:" + "b" * 64, "ghcr.io/llm-d/llm-d-router-endpoint-picker"),
    ("ghcr.io/llm-d/llm-d-routing-sidecar:v0.2.0", "ghcr.io/llm-d/llm-d-router-disagg-sidecar"),
    ("ghcr.io/llm-d/llm-d-uds-tokenizer:v0.7.1", "a vLLM render server (`vllm launch render`, image "
                                                 "vllm/vllm-openai-cpu)"),
    ("ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0", None),
    ("ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.10.0", None),
    ("example.com/llm-d/llm-d-inference-scheduler:v0.2.1", None),  # a mirror someone runs is not the gone package
]


@pytest.mark.parametrize(("image", "replacement"), GONE)
def test_gone(image: str, replacement: str | None) -> None:
    fact = images.gone(image)
    assert (fact.replacement if fact else None) == replacement


def test_only_the_picker_has_reports() -> None:
    # CURRENT.md §5 cites three failed-pull reports for the picker and none for the other two.
    assert {r for r, g in images.GONE.items() if g.reported} == {"ghcr.io/llm-d/llm-d-inference-scheduler"}


def test_the_router_catalog_agrees() -> None:
    """catalog/router.py keeps its own list for the router shape's resolve error; both say CURRENT.md §5."""
    from llmd_compile.catalog import router

    assert set(router.DEAD_IMAGE_REPOS) == set(images.GONE)
    for repository in ("ghcr.io/llm-d/llm-d-inference-scheduler", "ghcr.io/llm-d/llm-d-routing-sidecar"):
        assert router.RENAMED[repository] == images.GONE[repository].replacement
