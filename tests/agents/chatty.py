"""An agent file that prints while it is imported and while it runs."""

import sys

from pydantic_ai import Agent
from pydantic_ai.models.function import FunctionModel

print("hello from import")
print("to stderr at import", file=sys.stderr)


async def _stream(messages, info):
    print("printing inside the model")
    yield "quiet answer"


agent = Agent(FunctionModel(stream_function=_stream, model_name="chatty"))
