"""Agents whose every text is an attack on a page that shows it, for the web tests.

``build`` thinks twice (the two thoughts must not run together), writes a file
of HTML, calls a tool whose result is longer than an event's preview, and
answers in markdown full of HTML, script and link tricks. ``endless`` streams a
markdown heading and the start of a list, then text for ever.
"""

from __future__ import annotations

import asyncio
import json
import os

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models.function import AgentInfo, DeltaThinkingPart, DeltaToolCall, FunctionModel
from pydantic_deep import DeepAgentDeps, create_deep_agent

SECRET_ENV = "DEEP_TUI_TEST_SECRET"
"""A secret the agent puts in its file and its tool result, when the environment has one."""
FEATURES = dict(include_skills=False, include_memory=False, cost_tracking=False, web_search=False, web_fetch=False)

THOUGHTS = ("First I look at the notes, then I work through them.", "parse() calls int() on blank lines.")
EVIL_FILE = '<img src=x onerror="window.pwned=\'file\'"><script>window.pwned="file-script"</script>\nline two\n'
RESULT_END = "END-OF-THE-WHOLE-RESULT"
ANSWER = """# Report 📋

Here is **bold**, *emphasis* and `inline code`.

<img src=x onerror="window.pwned='img'">
<script>window.pwned='script'</script>

- [click me](javascript:window.pwned='link') and [caps](JaVaScRiPt:window.pwned='caps')
- ![pixel](javascript:window.pwned='image') and ![tracker](https://tracker.example/p.png)
- [start a run](/agent/stream?prompt=pwned) and <javascript:window.pwned='autolink'>
- [data](data:text/html,<script>window.pwned='data'</script>) and [home](https://example.com/docs)
- [entity](java&#x73;cript:window.pwned='entity') and [ok](<https://example.com/a b>)

```python
def total(items):
    return sum(item.weight for item in items)  # "<b>not bold</b>"
```

| tool | calls |
|:-----|------:|
| `<i>read</i>` | 2 |
"""


def big_report(topic: str) -> str:
    """A report longer than an event's preview."""
    return f"Report on {topic}: {os.environ.get(SECRET_ENV, '')} " + "lorem ipsum " * 400 + RESULT_END


def _responses(messages) -> int:
    return sum(isinstance(m, ModelResponse) for m in messages)


def _pieces(text: str, size: int = 7):
    for start in range(0, len(text), size):
        yield text[start : start + size]


async def _stream(messages, info: AgentInfo):
    step = _responses(messages)
    if step < 2:
        for piece in _pieces(THOUGHTS[step]):
            yield {100: DeltaThinkingPart(content=piece)}
        if step == 0:
            args = {"path": "/notes/evil.html", "content": EVIL_FILE + os.environ.get(SECRET_ENV, "")}
            yield {0: DeltaToolCall("write_file", json.dumps(args), tool_call_id="write")}
        else:
            yield {0: DeltaToolCall("big_report", json.dumps({"topic": "<b>tulips</b>"}), tool_call_id="report")}
        return
    for piece in _pieces(ANSWER):
        await asyncio.sleep(0)
        yield piece


def build():
    return create_deep_agent(
        model=FunctionModel(stream_function=_stream, model_name="hostile"), tools=[big_report], **FEATURES
    ), DeepAgentDeps()


async def _endless(messages, info: AgentInfo):
    yield "# Ticking\n\nThe clock **starts**.\n\n- one\n- two\n"
    n = 0
    while True:
        await asyncio.sleep(0.01)
        n += 1
        yield f"tick{n} "


endless = Agent(FunctionModel(stream_function=_endless, model_name="endless"))


LONG_PARAGRAPHS = 700
"""``long`` answers this many paragraphs of about 150 characters (longer than the page re-renders whole), then
one more after a pause."""


async def _long(messages, info: AgentInfo):
    for n in range(LONG_PARAGRAPHS):
        yield f"Paragraph **{n}**: " + "lorem ipsum " * 11 + "\n\n"
    await asyncio.sleep(1)
    yield "The **last** one."


long = Agent(FunctionModel(stream_function=_long, model_name="long"))
