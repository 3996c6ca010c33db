"""What the user asked to run, kept free of heavy imports so the dashboard can start first."""

from __future__ import annotations

import os
from dataclasses import dataclass

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

    @classmethod
    def from_options(
        cls, model: str | None, agent: str | None, demo_speed: float, web: bool = False, stress: str | None = None
    ) -> AgentSpec:
        if model is None and agent is None and stress is None:
            model = os.environ.get(MODEL_ENV) or None
        return cls(model=model, agent=agent, demo_speed=demo_speed, web=web, stress=stress)

    @property
    def label(self) -> str:
        """How the header and events name the agent, before it is loaded."""
        if self.agent:
            return self.agent
        if self.stress is not None:
            return "stress"
        return self.model or "demo"
