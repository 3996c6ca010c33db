"""An agent that says one thing, then goes quiet for a minute, as a model does while it thinks."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.models.function import FunctionModel


async def _stream(messages, info):
    yield "Thinking it over"
    await asyncio.sleep(60)
    yield " and done."


agent = Agent(FunctionModel(stream_function=_stream, model_name="quiet"))
