import os
import tempfile

os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEP_TUI_MODEL", "DEEP_TUI_TOKEN"):
    os.environ.pop(_key, None)

# Saved sessions go to a scratch directory, never to the user's own data directory.
os.environ["DEEP_TUI_HOME"] = tempfile.mkdtemp(prefix="deep-tui-tests-")
