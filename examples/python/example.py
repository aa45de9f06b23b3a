"""The README's example, in Python through ctypes."""
from llmkit_ctypes import LlmkitError, Options, version

print(f"llmkit {version()}")
with Options() as opts:
    opts.set("model", "gpt-4o-mini")
    print(f"model = {opts.get('model')}")
    try:
        opts.get("temperature")
    except LlmkitError as e:
        print(f"error {e}")
