"""An agent whose model streams forever, for timeouts and cancels."""

import asyncio

from pydantic_ai import Agent
from pydantic_ai.models.function import FunctionModel


async def _stream(messages, info):
    n = 0
    while True:
        await asyncio.sleep(0.01)
        n += 1
        yield f"tick{n} "


agent = Agent(FunctionModel(stream_function=_stream, model_name="forever"))
