"""Bad specs, as a table: each gives exactly these `line:col: field: message` lines and nothing else."""

from __future__ import annotations

import pytest

from llmd_compile.errors import SpecError
from llmd_compile.spec.load import load_text

BASE = """\
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata:
  name: inference-scheduling
  namespace: llm-d-inference-scheduling
charts:
  infra: v1.3.0
  inferencepool: v0.5.1
  modelservice: v0.2.7
model:
  name: meta-llama/Llama-3.1-8B-Instruct
  tokenSecret:
    name: llm-d-hf-token
    key: HF_TOKEN
  cache:
    pvc:
      name: llama-model-storage
      size: 50Gi
      accessModes: [ReadWriteMany]
accelerator:
  vendor: nvidia
  model: H100
decode:
  replicas: 4
  parallelism:
    tensor: 1
  image: ghcr.io/llm-d/llm-d-dev:pr-170
gateway:
  provider: istio
scheduler:
  image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1
  scorers:
    queue: 1.0
route:
  name: llm-d-inference-scheduling
  timeouts:
    request: 0s
platforms:
  kubernetes:
    storageClassName: standard
"""

# (case id, text replaced, replacement, expected problem lines without the "x.yaml:" prefix)
CASES = [
    ("negative replicas", "replicas: 4", "replicas: -1",
     ["24:13: decode.replicas: Input should be greater than or equal to 0, not -1"]),
    ("typo in key", "    tensor: 1", "    tensr: 1",
     ["26:5: decode.parallelism.tensr: unknown field; did you mean 'tensor'?"]),
    ("unknown provider", "provider: istio", "provider: nginx",
     ["29:13: gateway.provider: 'nginx' is not one of istio, kgateway, agentgateway, gke, none"]),
    ("name not DNS-1123", "name: inference-scheduling", "name: Inference_Scheduling",
     ["4:9: metadata.name: 'Inference_Scheduling' is not a DNS-1123 label: lower case letters, digits and '-', "
      "starting and ending with a letter or digit (at most 63 characters)"]),
    ("name too long", "name: inference-scheduling", "name: " + "a" * 41,
     ["4:9: metadata.name: String should have at most 40 characters; '" + "a" * 41 + "' has 41"]),
    ("missing image", "  image: ghcr.io/llm-d/llm-d-dev:pr-170\n", "",
     ["23:1: decode.image: required field is missing"]),
    ("string for int", "replicas: 4", "replicas: '4'",
     ["24:13: decode.replicas: '4' is a string here, not an integer: write it without quotes"]),
    ("YAML 1.1 boolean trap", "    tensor: 1", "    tensor: on",
     ["26:13: decode.parallelism.tensor: 'on' is not an integer"]),
    ("chart version read as a number", "infra: v1.3.0", "infra: 1.3",
     ["7:10: charts.infra: 1.3 is read as a number here, not a string: quote the value"]),
    ("bad quantity", "size: 50Gi", "size: fifty",
     ["18:13: model.cache.pvc.size: 'fifty' is not a Kubernetes quantity: a number with an optional unit (50Gi, "
      "512Mi, 1.5G, 100m)"]),
    ("bad route timeout", "request: 0s", "request: forever",
     ["37:14: route.timeouts.request: 'forever' is not a Gateway API duration: one to four number+unit parts, "
      "units h, m, s, ms (0s, 30s, 1h30m)"]),
    ("inline token in env", "  image: ghcr.io/llm-d/llm-d-dev:pr-170",
     "  image: ghcr.io/llm-d/llm-d-dev:pr-170\n  env:\n    HF_TOKEN: hf_abcdefghijklmnopqrstuvwxyz0123",
     ["28:3: decode.env: looks like a secret token; reference a Secret (model.tokenSecret) instead"]),
    ("pvc path escapes volume", "      size: 50Gi", "      size: 50Gi\n      path: models/../../etc",
     ["19:13: model.cache.pvc.path: must stay inside the volume (no '..')"]),
    ("no platform", "platforms:\n  kubernetes:\n    storageClassName: standard\n", "platforms: {}\n",
     ["38:12: platforms: name at least one platform (openshift, kubernetes)"]),
    ("weight zero", "queue: 1.0", "queue: 0",
     ["33:12: scheduler.scorers.queue: Input should be greater than 0, not 0"]),
    ("unknown scorer", "queue: 1.0", "round-robin: 1.0",
     ["33:5: scheduler.scorers.round-robin: unknown field; expected one of: queue, kvCache, prefixCache, "
      "loadAware, sessionAffinity, loraAffinity, precisePrefixCache, tokenLoad, activeRequest"]),
    ("duplicate key", "kind: Stack\n", "kind: Stack\nkind: Stack\n",
     ["3:1: kind: duplicate key (first at line 2)"]),
    ("tab indentation", "  tensor: 1", "\ttensor: 1",
     ["26:3: YAML syntax: a tab character; YAML indents with spaces only (replace each tab with spaces)"]),
    ("anchor and alias", "  model: H100", "  model: &m H100\n  extra: *m", None),
    ("custom tag", "model: H100", "model: !!python/object:os.system H100",
     ["22:10: accelerator.model: tag 'tag:yaml.org,2002:python/object:os.system' is not allowed"]),
    ("merge key", "gateway:\n", "gateway:\n  <<: {provider: istio}\n",
     ["29:3: gateway: merge keys (<<) are not allowed; use extends: instead"]),
    ("wrong apiVersion", "apiVersion: llmd-compile/v1alpha1", "apiVersion: v1",
     ["1:13: apiVersion: 'v1' is not one of llmd-compile/v1alpha1"]),
    ("a word for an integer", "replicas: 4", "replicas: eight", ["24:13: decode.replicas: 'eight' is not an integer"]),
    ("namespace not a DNS label", "namespace: llm-d-inference-scheduling", "namespace: LLM_D",
     ["5:14: metadata.namespace: 'LLM_D' is not a DNS-1123 label: lower case letters, digits and '-', starting and "
      "ending with a letter or digit (at most 63 characters)"]),
    ("near-miss provider", "provider: istio", "provider: istoi",
     ["29:13: gateway.provider: 'istoi' is not one of istio, kgateway, agentgateway, gke, none; did you mean "
      "'istio'?"]),
    ("near-miss vendor", "vendor: nvidia", "vendor: NVIDIA",
     ["21:11: accelerator.vendor: 'NVIDIA' is not one of nvidia, amd, google, intel, intel-gaudi, cpu, simulated; "
      "did you mean 'nvidia'?"]),
    ("empty section", "gateway:\n  provider: istio\n", "gateway:\n",
     ["28:9: gateway: is empty: give it a mapping ({} for all defaults)"]),
    ("token in an annotation", "  namespace: llm-d-inference-scheduling\n",
     "  namespace: llm-d-inference-scheduling\n  annotations:\n    note: hf_abcdefghijklmnopqrstuvwxyz0123\n",
     ["6:3: metadata.annotations: looks like a secret token; reference a Secret (model.tokenSecret) instead"]),
    ("two problems at once", "replicas: 4", "replicas: -1\n  extra: 1",
     ["24:13: decode.replicas: Input should be greater than or equal to 0, not -1",
      "25:3: decode.extra: unknown field; expected one of: replicas, parallelism, image, args, env, "
      "resources, shmSize, podAnnotations, probes, privileges, sidecar"]),
]


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec(old: str, new: str, expected: list[str] | None) -> None:
    assert old in BASE
    with pytest.raises(SpecError) as info:
        load_text(BASE.replace(old, new, 1), "x.yaml")
    lines = [str(p) for p in info.value.problems]
    if expected is None:  # syntax-level: one located problem, whatever the parser's wording
        assert len(lines) == 1 and lines[0].startswith("x.yaml:"), lines
        assert lines[0].split(":")[1].isdigit(), lines
    else:
        assert lines == [f"x.yaml:{line}" for line in expected]


def test_base_is_valid() -> None:
    assert load_text(BASE, "x.yaml").decode.replicas == 4
