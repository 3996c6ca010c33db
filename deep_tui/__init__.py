"""deep-tui: a terminal dashboard for running and watching pydantic-deep agents."""

__version__ = "0.1.0"
