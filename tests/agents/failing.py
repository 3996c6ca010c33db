"""An agent whose provider fails mid-answer."""

from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.models.function import FunctionModel


async def _stream(messages, info):
    yield "Starting the answer "
    raise ModelHTTPError(status_code=503, model_name="flaky", body={"error": "overloaded, try again"})


agent = Agent(FunctionModel(stream_function=_stream, model_name="flaky"))
