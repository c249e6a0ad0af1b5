"""The router emitter family (llm-d v0.8+): router chart values, gateway recipe, kustomize model servers."""
