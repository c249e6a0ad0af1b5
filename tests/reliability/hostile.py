"""The hostile and malformed input corpus, as data. test_hostile.py runs every case through the CLI.

A case is (id, the file's bytes, the problem lines expected). Bytes come from BASE (a frozen copy of
specs/h100.yaml, so line numbers stay put) with one edit, or are built whole. An expected line is
`line:col: field: message`, matched as a prefix of the reported line after `specs/bad.yaml:` (messages that
quote long patterns are cut short). Every case must give exit 2, exactly one stderr line per problem with
`path:line:col`, the summary line, no traceback, an answer within 2 s, and out/ byte-identical.

`xfail` marks a case where llmd-compile still gets it wrong in a file this suite does not own; the reason
names the file and what is wrong, and the case starts passing (strict xfail: the suite then says so) once
fixed. TRAPS are the other half of the YAML 1.1 traps: strings a YAML 1.2 reader takes as strings, which the
compiler accepts and must write back quoted so that Helm (YAML 1.1) reads the same string.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = """\
# yaml-language-server: $schema=../schema/stack.schema.json
# The seed's verified working stack (see ../../seed/): Llama-3.1-8B-Instruct on 4x H100, TP=1,
# upstream Istio gateway (LoadBalancer), queue-depth scoring, charts infra v1.3.0 /
# inferencepool v0.5.1 / modelservice v0.2.7, 50Gi model PVC, guidellm multiturn benchmark.
# Field names here are the interface: extend the spec, do not rename these.
apiVersion: llmd-compile/v1alpha1
kind: Stack
metadata:
  name: inference-scheduling            # release postfix: infra-/gaie-/ms-<name>
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
cluster:
  gpus: 4
decode:
  replicas: 4
  parallelism:
    tensor: 1
  image: ghcr.io/llm-d/llm-d-dev:pr-170
gateway:
  provider: istio
  service:
    type: LoadBalancer
scheduler:
  image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1
  scorers:
    queue: 1.0
  picker: max-score
route:
  name: llm-d-inference-scheduling
  timeouts:
    request: 0s
    backendRequest: 0s
platforms:
  openshift:
    storageClassName: ocs-storagecluster-cephfs
  kubernetes:
    storageClassName: standard
monitoring:
  podMonitor:
    enabled: true
    interval: 30s
benchmark:
  guidellm:
    turns: 3
    users: 16
    duration: 120s
    promptTokens: 256
    outputTokens: 256
gitops:
  argocd:
    repoURL: https://github.com/example/llm-d-gitops.git
    targetRevision: main
checks:
  # The seed replaced OpenShift Service Mesh with upstream Istio (inference extension enabled).
  ignore: [LLMD401]
"""
HF = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345"  # token-shaped, not a real token
GH = "ghp_" + "0123456789abcdefghijABCDEFGHIJklmnop"
ENV = "  image: ghcr.io/llm-d/llm-d-dev:pr-170\n"


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    expect: tuple[str, ...]
    xfail: str = ""
    # Also run as a real process (startup included in the 2 s): inputs that once crashed or hung it.
    process: bool = False


def edit(old: str, new: str) -> bytes:
    assert BASE.count(old) >= 1, old
    return BASE.replace(old, new, 1).encode()


def edit_bytes(old: bytes, new: bytes) -> bytes:
    base = BASE.encode()
    assert old in base, old
    return base.replace(old, new, 1)


def env(value: str) -> bytes:
    return edit(ENV, f"{ENV}  env:\n    SOME_VAR: {value}\n")


def nested_flow(depth: int) -> bytes:
    return BASE.encode() + b"extra: " + b"[" * depth + b"]" * depth + b"\n"


def nested_block(depth: int) -> bytes:
    return BASE.encode() + b"".join(b" " * i + b"k:\n" for i in range(depth)) + b" " * depth + b"k: 1\n"


def bomb(levels: int) -> bytes:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return (BASE + "\n".join(lines) + "\n").encode()


def many_keys(n: int) -> bytes:
    return BASE.encode() + b"extra:\n" + b"".join(b"  k%d: v\n" % i for i in range(n))


NAME = "name: inference-scheduling            # release postfix: infra-/gaie-/ms-<name>"
DNS_LABEL = " is not a DNS-1123 label: lower case letters, digits and '-'"
BIG = BASE.encode() + b"# " + b"x" * 20_000_000 + b"\n"

CASES: tuple[Case, ...] = (
    # --- YAML syntax ----------------------------------------------------------------------------------------
    Case("unclosed flow sequence", edit("[ReadWriteMany]", "[ReadWriteMany"),
         ("25:12: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence at line 24, "
          "column 20)",)),
    Case("unclosed quote", edit("name: llm-d-hf-token", "name: 'llm-d-hf-token"),
         ("72:1: YAML syntax: found unexpected end of stream (while scanning a quoted scalar at line 18, column 11)",)),
    Case("bad indentation", edit("  replicas: 4", "   replicas: 4"),
         ("32:3: YAML syntax: did not find expected key",)),
    Case("mapping value in a scalar", edit("kind: Stack", "kind: Stack: x"),
         ("7:12: YAML syntax: mapping values are not allowed in this context",)),
    Case("sequence item in a mapping", BASE.encode() + b"- stray\n",
         ("72:1: YAML syntax: did not find expected key",)),
    Case("bad escape", edit("namespace: llm-d-inference-scheduling", 'namespace: "llm\\q"'),
         ("10:18: YAML syntax: found unknown escape character",)),
    Case("reserved indicator @", edit("model: H100", "model: @H100"),
         ("27:10: YAML syntax: found character that cannot start any token",)),
    Case("reserved indicator `", edit("model: H100", "model: `H100`"),
         ("27:10: YAML syntax: found character that cannot start any token",)),
    Case("two documents", BASE.encode() + b"---\nkind: Stack\n",
         ("72:1: expected exactly one YAML document; found a second one here",)),
    Case("empty file", b"", ("1:1: expected exactly one YAML document; found none",)),
    Case("only comments", b"# nothing here\n", ("1:1: expected exactly one YAML document; found none",)),
    Case("null document", b"~\n", ("1:1: a stack spec is a mapping",)),
    Case("list document", b"- apiVersion: llmd-compile/v1alpha1\n", ("1:1: a stack spec is a mapping",)),
    Case("scalar document", b"just some text\n", ("1:1: a stack spec is a mapping",)),
    Case("undefined alias", edit("model: H100", "model: *gpu"),
         ("27:10: accelerator.model: anchors and aliases are not allowed in a stack spec",)),
    Case("empty flow mapping key", edit("  vendor: nvidia", "  {: nvidia}: x"),
         ("26:4: YAML syntax: did not find expected node content",)),
    # --- duplicate keys -------------------------------------------------------------------------------------
    Case("duplicate top-level key", edit("kind: Stack\n", "kind: Stack\nkind: Fleet\n"),
         ("8:1: kind: duplicate key (first at line 7)",)),
    Case("duplicate nested key", edit("  replicas: 4\n", "  replicas: 4\n  replicas: 8\n"),
         ("32:3: decode.replicas: duplicate key (first at line 31)",)),
    Case("duplicate key in a flow mapping", edit("  gpus: 4", "  gpus: 4\n  nodes: {a: 1, a: 2}"),
         ("30:17: cluster.nodes.a: duplicate key (first at line 30)",)),
    Case("duplicate key, once quoted", edit("kind: Stack\n", 'kind: Stack\n"kind": Stack\n'),
         ("8:1: kind: duplicate key (first at line 7)",)),
    # --- tabs, BOM, encodings, control characters ------------------------------------------------------------
    Case("tab indentation", edit("  replicas: 4", "\treplicas: 4"),
         ("31:1: YAML syntax: a tab character; YAML indents with spaces only (replace each tab with spaces)",)),
    Case("tab indentation in a list", edit("  ignore: [LLMD401]", "  ignore:\n\t- LLMD401"),
         ("72:1: YAML syntax: a tab character; YAML indents with spaces only (replace each tab with spaces)",)),
    Case("BOM, then an error: lines still count from 1", b"\xef\xbb\xbf" + edit("replicas: 4", "replicas: -1"),
         ("31:13: decode.replicas: Input should be greater than or equal to 0",)),
    Case("BOM inside the file", edit_bytes(b"model: H100", b"model: \xef\xbb\xbfH100"),
         ("27:10: control character U+FEFF is not allowed",)),
    Case("UTF-16 file", BASE.encode("utf-16"), ("1:1: not valid UTF-8",)),
    Case("invalid UTF-8 byte", edit_bytes(b"model: H100", b"model: H\xff100"), ("27:11: not valid UTF-8",)),
    Case("truncated UTF-8 sequence", edit_bytes(b"model: H100", b"model: H\xe2\x82"), ("27:11: not valid UTF-8",)),
    Case("overlong UTF-8 encoding of /", edit_bytes(b"model: H100", b"model: \xc0\xafH100"),
         ("27:10: not valid UTF-8",)),
    Case("UTF-8-encoded surrogate", edit_bytes(b"model: H100", b"model: \xed\xa0\x80"), ("27:10: not valid UTF-8",)),
    Case("NUL byte", edit_bytes(b"model: H100", b"model: H1\x0000"), ("27:12: control character U+0000",)),
    Case("terminal escape sequence", edit_bytes(b"model: H100", b"model: \x1b[31mH100"),
         ("27:10: control character U+001B",)),
    Case("DEL character", edit_bytes(b"model: H100", b"model: H100\x7f"), ("27:14: control character U+007F",)),
    Case("form feed", edit_bytes(b"cluster:", b"\x0ccluster:"), ("28:1: control character U+000C",)),
    Case("vertical tab", edit_bytes(b"  gpus: 4", b"  gpus:\x0b4"), ("29:8: control character U+000B",)),
    # --- size, nesting, bombs ---------------------------------------------------------------------------------
    Case("20 MB file", BIG,
         (f"1:1: file is {len(BIG)} bytes; a stack spec is at most 1048576",), process=True),
    Case("1 MiB + 1 byte", BASE.encode() + b"#" * ((1 << 20) - len(BASE.encode())) + b"\n",
         ("1:1: file is 1048577 bytes",)),
    Case("10 000-deep flow nesting", nested_flow(10_000),
         ("72:40: extra" + "[0]" * 32 + ": nested deeper than 32 levels",), process=True),
    Case("400 000-deep flow nesting (crashed the C composer)", nested_flow(400_000),
         ("72:40: extra" + "[0]" * 32 + ": nested deeper than 32 levels",), process=True),
    Case("1 000-deep block nesting", nested_block(1000), ("104:33: k" + ".k" * 32 + ": nested deeper than 32",),
         process=True),
    Case("alias bomb (billion laughs)", bomb(10), ("72:5: a0: anchors and aliases are not allowed",), process=True),
    Case("one anchor, one alias", edit("  model: H100", "  model: &gpu H100\ncluster2: *gpu"),
         ("27:10: accelerator.model: anchors and aliases are not allowed",)),
    Case("20 000 keys", many_keys(20_000), ("5005:10: more than 10000 YAML nodes; a stack spec has a few hundred",),
         process=True),
    # --- tags -------------------------------------------------------------------------------------------------
    Case("python/object/apply tag", edit("model: H100", "model: !!python/object/apply:os.system [id]"),
         ("27:10: accelerator.model: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",),
         process=True),
    Case("python/name tag", edit("model: H100", "model: !!python/name:os.system"),
         ("27:10: accelerator.model: tag 'tag:yaml.org,2002:python/name:os.system' is not allowed",)),
    Case("verbatim python tag", edit("model: H100", "model: !<tag:yaml.org,2002:python/object:os.system> x"),
         ("27:10: accelerator.model: tag 'tag:yaml.org,2002:python/object:os.system' is not allowed",)),
    Case("binary tag", edit("model: H100", "model: !!binary SDEwMA=="),
         ("27:10: accelerator.model: tag 'tag:yaml.org,2002:binary' is not allowed",)),
    Case("set tag", edit("  gpus: 4", "  gpus: !!set {4}"), ("29:9: cluster.gpus: tag 'tag:yaml.org,2002:set'",)),
    Case("local tag", edit("model: H100", "model: !gpu H100"),
         ("27:10: accelerator.model: tag '!gpu' is not allowed",)),
    Case("TAG directive", b"%TAG !e! tag:example.com,2000:\n---\n" + edit("model: H100", "model: !e!gpu H100"),
         ("29:10: accelerator.model: tag 'tag:example.com,2000:gpu' is not allowed",)),
    Case("int tag on text (crashed the loader)", edit("replicas: 4", "replicas: !!int four"),
         ("31:13: decode.replicas: 'four' is not a valid int",), process=True),
    Case("float tag on text (crashed the loader)", edit("queue: 1.0", "queue: !!float high"),
         ("42:12: scheduler.scorers.queue: 'high' is not a valid float",)),
    # --- merge keys -----------------------------------------------------------------------------------------
    Case("merge key", edit("gateway:\n", "gateway:\n  <<: {provider: istio}\n"),
         ("36:3: gateway: merge keys (<<) are not allowed",)),
    Case("merge key with an alias", edit("gateway:\n", "defaults: &d {provider: istio}\ngateway:\n  <<: *d\n"),
         ("35:11: defaults: anchors and aliases are not allowed",)),
    # --- wrong types ------------------------------------------------------------------------------------------
    Case("string for an int", edit("replicas: 4", "replicas: '4'"),
         ("31:13: decode.replicas: '4' is a string here, not an integer: write it without quotes",)),
    Case("list for an int", edit("replicas: 4", "replicas: [4]"),
         ("31:13: decode.replicas: a list is not an integer",)),
    Case("bool for an int", edit("gpus: 4", "gpus: true"), ("29:9: cluster.gpus: true is not an integer",)),
    Case("float for an int (1e3)", edit("replicas: 4", "replicas: 1e3"),
         ("31:13: decode.replicas: 1000.0 is not an integer",)),
    Case("list for a mapping", edit("  provider: istio\n  service:\n    type: LoadBalancer\n", "  - istio\n"),
         ("35:1: gateway: a list is not a mapping",)),
    Case("int for a string", edit("model: H100", "model: 100"),
         ("27:10: accelerator.model: 100 is read as a number here, not a string: quote the value",)),
    Case("scalar for a list", edit("accessModes: [ReadWriteMany]", "accessModes: ReadWriteMany"),
         ("24:20: model.cache.pvc.accessModes: 'ReadWriteMany' is not a list",)),
    Case("null for a mapping",
         edit("metadata:\n  name: inference-scheduling", "metadata: ~\nxname: inference-scheduling")
         .replace(b"  namespace: llm-d-inference-scheduling\n", b""),
         ("8:11: metadata: is empty: give it a mapping ({} for all defaults)", "9:1: xname: unknown field")),
    Case("word for a weight", edit("queue: 1.0", "queue: high"),
         ("42:12: scheduler.scorers.queue: 'high' is not a number",)),
    Case("non-string key", edit("  gpus: 4", "  gpus: 4\n  1: x"), ("30:3: cluster: key '1' must be a string",)),
    Case("null key", edit("  gpus: 4", "  gpus: 4\n  ~: x"), ("30:3: cluster: key '~' must be a string",)),
    Case("complex key", edit("  gpus: 4", "  gpus: 4\n  ? [a, b]\n  : x"),
         ("30:5: cluster: keys must be plain strings",)),
    Case("unquoted date", edit("targetRevision: main", "targetRevision: 2024-01-01"),
         ('68:21: gitops.argocd.targetRevision: 2024-01-01 reads as a date in YAML; quote it',)),
    Case("unknown field", edit("  replicas: 4", "  replicaz: 4"),
         ("31:3: decode.replicaz: unknown field; did you mean 'replicas'?",)),
    Case("missing required field", edit(ENV, ""), ("30:1: decode.image: required field is missing",)),
    # --- numbers out of range ---------------------------------------------------------------------------------
    Case("negative replicas", edit("replicas: 4", "replicas: -1"),
         ("31:13: decode.replicas: Input should be greater than or equal to 0",)),
    Case("too many replicas", edit("replicas: 4", "replicas: 100000"),
         ("31:13: decode.replicas: Input should be less than or equal to 1000",)),
    Case("huge integer", edit("replicas: 4", "replicas: 99999999999999999999999999999"),
         ("31:13: decode.replicas: Input should be less than or equal to 1000",)),
    Case("zero tensor parallelism", edit("tensor: 1", "tensor: 0"),
         ("33:13: decode.parallelism.tensor: Input should be greater than 0",)),
    Case("weight above 1000", edit("queue: 1.0", "queue: 1001"),
         ("42:12: scheduler.scorers.queue: Input should be less than or equal to 1000",)),
    Case("NaN weight", edit("queue: 1.0", "queue: .nan"), ("42:12: scheduler.scorers.queue: Input should be",)),
    Case("infinite weight", edit("queue: 1.0", "queue: .inf"),
         ("42:12: scheduler.scorers.queue: Input should be less than or equal to 1000",)),
    Case("too many turns", edit("turns: 3", "turns: 101"),
         ("60:12: benchmark.guidellm.turns: Input should be less than or equal to 100",)),
    Case("1e3 users as a float", edit("users: 16", "users: 1e3"),
         ("61:12: benchmark.guidellm.users: 1000.0 is not an integer",)),
    # --- names: DNS-1123 and length ---------------------------------------------------------------------------
    Case("name with capitals", edit(NAME, "name: Inference-Scheduling"),
         (f"9:9: metadata.name: 'Inference-Scheduling'{DNS_LABEL}",)),
    Case("name with underscore", edit(NAME, "name: inference_scheduling"),
         (f"9:9: metadata.name: 'inference_scheduling'{DNS_LABEL}",)),
    Case("name starting with a dash", edit(NAME, "name: -inference"),
         (f"9:9: metadata.name: '-inference'{DNS_LABEL}",)),
    Case("name of 41 characters", edit(NAME, "name: " + "a" * 41),
         ("9:9: metadata.name: String should have at most 40 characters",)),
    Case("namespace of 64 characters", edit("namespace: llm-d-inference-scheduling", "namespace: " + "n" * 64),
         ("10:14: metadata.namespace: String should have at most 63 characters",)),
    Case("name with a space", edit("name: llm-d-inference-scheduling", "name: llm d"),
         ("45:9: route.name: 'llm d' is not a DNS-1123 subdomain",)),
    Case("PVC name with a slash", edit("name: llama-model-storage", "name: llama/storage"),
         ("22:13: model.cache.pvc.name: 'llama/storage' is not a DNS-1123 subdomain",)),
    Case("secret name with ..", edit("name: llm-d-hf-token", "name: llm..token"),
         ("18:11: model.tokenSecret.name: 'llm..token' is not a DNS-1123 subdomain",)),
    Case("name of 10 000 characters", edit("name: llm-d-inference-scheduling", "name: " + "a" * 10_000),
         ("45:9: route.name: String should have at most 253 characters",)),
    # --- ../ and absolute paths in fields that become paths ----------------------------------------------------
    Case("stack name ..", edit(NAME, "name: '..'"),
         (f"9:9: metadata.name: '..'{DNS_LABEL}",)),
    Case("stack name ../../etc", edit(NAME, "name: ../../etc"),
         (f"9:9: metadata.name: '../../etc'{DNS_LABEL}",)),
    Case("stack name with a slash", edit(NAME, "name: a/b"),
         (f"9:9: metadata.name: 'a/b'{DNS_LABEL}",)),
    Case("stack name absolute", edit(NAME, "name: /etc"),
         (f"9:9: metadata.name: '/etc'{DNS_LABEL}",)),
    Case("PVC path ../", edit("      size: 50Gi", "      size: 50Gi\n      path: models/../../etc"),
         ("24:13: model.cache.pvc.path: must stay inside the volume (no '..')",)),
    Case("PVC path absolute", edit("      size: 50Gi", "      size: 50Gi\n      path: /etc/passwd"),
         ("24:13: model.cache.pvc.path: '/etc/passwd' is not a relative path",)),
    Case("model config ../", edit("  tokenSecret:", "  config: ../secrets/config.json\n  tokenSecret:"),
         ("17:11: model.config: '../secrets/config.json' is not a relative path to a .json file",)),
    Case("model config a/../../", edit("  tokenSecret:", "  config: a/../../config.json\n  tokenSecret:"),
         ("17:11: model.config: must be a path below the spec's directory (no '..')",)),
    Case("model config absolute", edit("  tokenSecret:", "  config: /etc/config.json\n  tokenSecret:"),
         ("17:11: model.config: '/etc/config.json' is not a relative path to a .json file",)),
    Case("argocd path ../", edit("targetRevision: main", "targetRevision: main\n    path: out/../../elsewhere"),
         ("69:11: gitops.argocd.path: must stay inside the repository (no '..')",)),
    Case("argocd path absolute", edit("targetRevision: main", "targetRevision: main\n    path: /srv/out"),
         ("69:11: gitops.argocd.path: '/srv/out' is not a relative path",)),
    Case("model name ../", edit("name: meta-llama/Llama-3.1-8B-Instruct", "name: ../../etc"),
         ("16:9: model.name: '../../etc' is not a Hugging Face model id",)),
    Case("benchmark namespace ../", edit("    turns: 3", "    turns: 3\n    namespace: ../x"),
         ("61:16: benchmark.guidellm.namespace: '../x' is not a DNS-1123 label",)),
    Case("extends an absolute path", edit("kind: Stack\n", "kind: Stack\nextends: /etc/passwd\n"),
         ("8:10: extends: each base is a relative path to a spec file",)),
    Case("extends a missing file", edit("kind: Stack\n", "kind: Stack\nextends: ../nowhere/base.yaml\n"),
         ("8:10: extends: base ../nowhere/base.yaml not found",)),
    Case("extends itself", edit("kind: Stack\n", "kind: Stack\nextends: [bad.yaml]\n"),
         ("8:11: extends[0]: extends cycle: bad.yaml -> bad.yaml",)),
    # --- inline secrets where a reference belongs -------------------------------------------------------------
    Case("token instead of a Secret reference", edit("  tokenSecret:\n    name: llm-d-hf-token\n    key: HF_TOKEN\n",
                                                      f"  tokenSecret: {HF}\n"),
         ("17:16: model.tokenSecret: a value that looks like a secret token is not a mapping",)),
    Case("token as the Secret name", edit("name: llm-d-hf-token", f"name: {HF}"),
         ("18:11: model.tokenSecret.name: a value that looks like a secret token is not a DNS-1123 subdomain",)),
    Case("token in env", env(HF), ("35:3: decode.env: looks like a secret token",)),
    Case("GitHub token in env", env(GH), ("35:3: decode.env: looks like a secret token",)),
    Case("token in args", edit(ENV, f"{ENV}  args: [--hf-token={HF}]\n"),
         ("35:9: decode.args: looks like a secret token",)),
    Case("token as the served name", edit("  tokenSecret:", f"  servedName: {HF}\n  tokenSecret:"),
         ("17:15: model.servedName: looks like a secret token",)),
    Case("credentials in the repository URL",
         edit("repoURL: https://github.com/example/llm-d-gitops.git",
              f"repoURL: https://bot:{GH}@github.com/example/llm-d-gitops.git"),
         ("67:14: gitops.argocd.repoURL:",)),
    Case("token as the target revision", edit("targetRevision: main", f"targetRevision: {GH}"),
         ("68:21: gitops.argocd.targetRevision:",)),
    Case("token as the accelerator model", edit("model: H100", f"model: {HF[:40]}"),
         ("27:10: accelerator.model:",)),
    Case("AWS access key in env", env("AKIAIOSFODNN7EXAMPLE"), ("35:3: decode.env: looks like a secret token",)),
    Case("token in the EndpointPickerConfig escape hatch",
         edit("  scorers:\n    queue: 1.0\n  picker: max-score\n",
              "  endpointPickerConfig:\n    plugins:\n      - type: single-profile-handler\n"
              "      - type: queue-scorer\n      - type: max-score-picker\n"
              f"      - type: prefill-header-handler\n        parameters: {{prefillProfile: {HF}}}\n"
              "    schedulingProfiles:\n      - name: default\n"
              "        plugins: [{pluginRef: queue-scorer, weight: 1}, {pluginRef: max-score-picker}]\n"),
         ("47:38: scheduler.endpointPickerConfig.plugins[3].parameters.prefillProfile: looks like a secret",)),
    # --- YAML 1.1 traps a YAML 1.2 reader does not take for strings ---------------------------------------------
    Case("0755 as an env value", env("0755"),
         ("36:15: decode.env.SOME_VAR: 755 is read as a number here, not a string: quote the value",)),
    Case("1e3 as an env value", env("1e3"),
         ("36:15: decode.env.SOME_VAR: 1000.0 is read as a number here, not a string: quote the value",)),
    Case("null as an env value", env("~"), ("36:15: decode.env.SOME_VAR: null is not a string",)),
    Case("true as an env value", env("true"), ("36:15: decode.env.SOME_VAR: true is not a string",)),
    Case("chart version read as a number", edit("infra: v1.3.0", "infra: 1.3"),
         ("12:10: charts.infra: 1.3 is read as a number here, not a string: quote the value",)),
    Case("on as a platform switch", edit("    enabled: true", "    enabled: on"),
         ("56:14: monitoring.podMonitor.enabled: 'on' is not true or false",)),
    # --- compile-time problems: located in the spec too -------------------------------------------------------
    Case("unsupported chart version", edit("modelservice: v0.2.7", "modelservice: v0.1.0"),
         ("14:17: charts.modelservice: v0.1.0 is not a supported version",)),
    Case("picker that cannot run under the pool chart", edit("inferencepool: v0.5.1", "inferencepool: v1.4.0"),
         ("40:10: scheduler.image: endpoint picker sched-v0.2.1 (GAIE v0.5.1 API) cannot run under inferencepool "
          "v1.4.0",)),
    Case("unknown scheduler image", edit("image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1",
                                         "image: example.com/my-picker:latest"),
         ("40:10: scheduler.image: cannot tell the picker version",)),
    Case("capacity error", edit("gpus: 4", "gpus: 2"), ("31:13: decode.replicas: error LLMD301",)),
    # --- the router shape (release v0.8/v0.9): the seed's Helm-era pins and dead images, refused where written ---
    Case("router release with the seed's chart pins and images", edit("charts:\n", "release: v0.9\ncharts:\n"),
         ("13:10: charts.infra: release v0.9 installs the llm-d router chart", "14:18: charts.inferencepool:",
          "15:17: charts.modelservice:", "41:10: scheduler.image: ghcr.io/llm-d/llm-d-inference-scheduler can no "
          "longer be pulled", "41:10: scheduler.image: release v0.9 runs the llm-d router's endpoint picker")),
    Case("router chart pin on a Helm-era release",
         edit("charts:\n  infra: v1.3.0\n  inferencepool: v0.5.1\n  modelservice: v0.2.7\n",
              "release: v0.6\ncharts:\n  router: v0.10.0\n"),
         ("13:11: charts.router: release v0.6 installs the Helm-era charts",)),
    Case("unknown release", edit("charts:\n", "release: v0.7\ncharts:\n"),
         ("11:10: release: 'v0.7' is not one of seed, v0.3.0, v0.4.0, v0.6, v0.8, v0.9",)),
)

# Accepted: a YAML 1.2 reader reads each as a string. (where, value as written, the string it must stay).
TRAPS: tuple[tuple[str, str, str], ...] = (
    ("env", "on", "on"), ("env", "off", "off"), ("env", "yes", "yes"), ("env", "no", "no"), ("env", "y", "y"),
    ("env", "n", "n"), ("env", "'0755'", "0755"), ("env", "'1e3'", "1e3"), ("env", "'true'", "true"),
    ("env", "'~'", "~"), ("env", "'null'", "null"), ("env", "'2024-01-01'", "2024-01-01"),
    ("env", "12:30:00", "12:30:00"),
    ("env", "'0x1F'", "0x1F"), ("env", "'.inf'", ".inf"), ("env", "'1_000'", "1_000"), ("env", "'+1'", "+1"),
    ("env", "'=='", "=="), ("env", "'<<'", "<<"), ("env", "''", ""),
    ("servedName", "'yes'", "yes"), ("servedName", "'0755'", "0755"), ("servedName", "on", "on"),
    ("targetRevision", "'1e3'", "1e3"), ("targetRevision", "off", "off"), ("targetRevision", "'0755'", "0755"),
)


def trap_spec(where: str, written: str) -> bytes:
    if where == "env":
        return env(written)
    if where == "servedName":
        return edit("  tokenSecret:", f"  servedName: {written}\n  tokenSecret:")
    return edit("targetRevision: main", f"targetRevision: {written}")
