"""What the user asked to run, kept free of heavy imports so the dashboard can start first."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

MODEL_ENV = "DEEP_TUI_MODEL"


@dataclass(frozen=True)
class AgentSpec:
    """Which agent to run, as the command line or the environment asked."""

    model: str | None = None
    agent: str | None = None
    demo_speed: float = 1.0
    web: bool = False
    """Give agents deep-tui builds web search and fetch (they need the network)."""
    stress: str | None = None
    """Run the stress agent with these options (``"turns=10,answer=5000"``; empty for the defaults)."""
    stall_timeout: float | None = None
    """Seconds a model may send nothing before its request fails; None for the default."""
    retries: int | None = None
    """How many times the provider's client retries a failed request; None for its own default."""
    save: bool = True
    """Keep the session on disk (events as they happen, the workspace at each turn's end and at quit)."""
    approve: str | None = None
    """Tools deep-tui asks a person about before they run (``"write_file,execute"``), or ``"none"``."""
    approval_timeout: float | None = None
    """Seconds a call may wait for a decision before it is denied; None waits for ever."""

    @classmethod
    def from_options(cls, **options: Any) -> AgentSpec:
        """The spec from command-line options; the model falls back to ``$DEEP_TUI_MODEL``."""
        known = {f.name: options[f.name] for f in fields(cls) if options.get(f.name) is not None}
        if not {"model", "agent", "stress"} & known.keys() and os.environ.get(MODEL_ENV):
            known["model"] = os.environ[MODEL_ENV]
        return cls(**known)

    @property
    def label(self) -> str:
        """How the header and events name the agent, before it is loaded."""
        if self.agent:
            return self.agent
        if self.stress is not None:
            return "stress"
        return self.model or "demo"
