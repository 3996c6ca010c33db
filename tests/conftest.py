import os

os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEP_TUI_MODEL", "DEEP_TUI_TOKEN"):
    os.environ.pop(_key, None)
