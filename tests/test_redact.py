"""Secrets stay masked however they arrive: whole, split across streamed pieces, overlapping, JSON-escaped."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_ai.models.function import DeltaThinkingPart, FunctionModel
from pydantic_deep import DeepAgentDeps
from scripted import collect, of_type, plain_session, text_of

from deep_tui.events import PREVIEW_LIMIT, parse_event
from deep_tui.redact import MASK, RedactingFilter, StreamRedactor, json_forms, redact
from deep_tui.runner import Session
from deep_tui.sessions import SessionRecorder
from deep_tui.spec import AgentSpec

AGENTS = Path(__file__).parent / "agents"
KEY = "sk-test-123"
OTHER = "test-123-xyz"
"""A second secret that overlaps the end of ``KEY``: ``sk-test-123-xyz`` holds both."""


def streamed(pieces: list[str], known: tuple[str, ...]) -> list[str]:
    redactor = StreamRedactor(known)
    return [redactor.feed(piece) for piece in pieces] + [redactor.flush()]


# The masking itself ---------------------------------------------------------------------------------


def test_overlapping_secrets_are_masked_whole():
    assert redact(f"a {KEY}-xyz b", (OTHER, KEY)) == f"a {MASK} b"
    assert redact(f"{KEY}{KEY}", (KEY,)) == f"{MASK}{MASK}"
    assert redact("aaaaaaaaa", ("aaaaaaaa",)) == MASK  # two occurrences overlapping: one mask, no "a" left over


def test_streaming_equals_masking_the_whole_text_at_every_pair_of_split_points():
    text = f"key {KEY} then {KEY}-xyz and sk-te and {OTHER}."
    known = (OTHER, KEY)
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1):
            out = streamed([text[:i], text[i:j], text[j:]], known)
            assert "".join(out) == redact(text, known), (i, j)


def test_streaming_equals_masking_on_random_texts_and_secrets():
    """Small alphabets make secrets overlap, repeat and nest far more often than real text does."""
    rng = random.Random(7)
    for _ in range(3000):
        known = tuple(sorted({"".join(rng.choices("ab-", k=rng.randint(2, 6))) for _ in range(rng.randint(1, 3))}))
        text = "".join(rng.choices("ab-c", k=rng.randint(0, 40)))
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 8))))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        masked = "".join(streamed(pieces, known))
        assert masked == redact(text, known), (text, known, pieces)
        assert not any(secret in masked for secret in known)


def test_only_what_could_still_become_a_secret_is_held_back():
    redactor = StreamRedactor((KEY,))
    assert redactor.feed("plain words ") == "plain words "  # nothing like a key: shown at once
    assert redactor.feed("and sk-te") == "and "  # the start of the key waits for the next piece
    assert redactor.feed("a, not a key") == "sk-tea, not a key"
    assert redactor.feed("sk-test-12") == ""
    assert redactor.flush() == "sk-test-12"  # the text ended before it became the key


def test_json_escaped_secrets_are_masked_in_json_text():
    secret = 'pa"ss\\wörd-123'
    known = json_forms((secret,))
    for ascii_only in (False, True):
        once = json.dumps({"content": f"x {secret} y"}, ensure_ascii=ascii_only)
        twice = json.dumps({"args": once}, ensure_ascii=ascii_only)
        assert json.loads(redact(once, known)) == {"content": f"x {MASK} y"}
        assert json.loads(json.loads(redact(twice, known))["args"]) == {"content": f"x {MASK} y"}


# Every event a turn makes, and every line saved ------------------------------------------------------


def assert_masked(events: list, saved: Path | None, *, text: str, thinking: str = "") -> None:
    """No event, no saved line, and no stream joined back together holds a secret in clear."""
    lines = [event.model_dump_json() for event in events]
    if saved is not None:
        lines = (saved / "events.jsonl").read_text(encoding="utf-8").splitlines()
        events = [parse_event(line) for line in lines]
    joined = [text_of(events), "".join(e.text for e in of_type(events, "thinking_delta"))]
    for chunk in lines + joined:
        assert KEY not in chunk and OTHER not in chunk
    assert joined == [text, thinking]


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OTHER_TOKEN", OTHER)


async def recorded(session: Session, tmp_path: Path, prompt: str = "go") -> tuple[list, Path]:
    recorder = SessionRecorder(session, tmp_path)
    events = []
    async for event in session.events(prompt):
        recorder.record(event)
        events.append(event)
    return events, recorder.close()


@pytest.mark.parametrize("split", range(1, len(KEY)))
async def test_a_key_streamed_in_two_pieces_is_masked_in_events_and_on_disk(keys, tmp_path, split):
    session = plain_session([f"my key is {KEY[:split]}", f"{KEY[split:]}, keep it."])
    events, saved = await recorded(session, tmp_path)
    assert_masked(events, saved, text=f"my key is {MASK}, keep it.")
    assert events[-1].output == f"my key is {MASK}, keep it."


async def test_overlapping_keys_cut_inside_the_mask_are_masked_as_one(keys, tmp_path):
    session = plain_session(["a sk-", "test", "-12", "3-x", "yz b ", "sk-te", "st-123", " c"])
    events, saved = await recorded(session, tmp_path)
    assert_masked(events, saved, text=f"a {MASK} b {MASK} c")


async def test_thinking_is_masked_apart_from_the_answer(keys, tmp_path):
    session = plain_session([("think", "I will use sk-te"), ("think", "st-123 now"), "the key: sk", "-test-123"])
    events, saved = await recorded(session, tmp_path)
    assert_masked(events, saved, text=f"the key: {MASK}", thinking=f"I will use {MASK} now")


async def test_held_back_text_comes_before_the_tool_call_that_follows_it(keys, tmp_path):
    def noop() -> str:
        """Does nothing."""
        return "ok"

    session = plain_session(["call sk-", ("tool", "noop", {})], ["done"], tools=[noop])
    events, saved = await recorded(session, tmp_path)
    assert_masked(events, saved, text="call sk-\n\ndone")
    before_the_call = events[: [e.type for e in events].index("tool_call_started")]
    assert text_of(before_the_call) == "call sk-"


def held_then_stuck(pieces: list[str], reached: asyncio.Event) -> Session:
    """An agent that streams ``pieces``, the last of them held back, then waits until it is stopped."""

    async def stream(messages, info):
        for index, piece in enumerate(pieces):
            yield {0: DeltaThinkingPart(content=piece[6:])} if piece.startswith("think:") else piece
            if index == len(pieces) - 1:
                reached.set()
        await asyncio.sleep(60)

    return Session(Agent(FunctionModel(stream_function=stream, model_name="stuck")), DeepAgentDeps(), name="stuck")


@pytest.mark.parametrize("how", ["task", "token"])
async def test_a_key_held_back_when_the_turn_is_cancelled_is_sent_masked(keys, tmp_path, how):
    """``sk-test-123`` is held whole (``-xyz`` could still follow); the cancel must send it, masked."""
    reached = asyncio.Event()
    session = held_then_stuck(["end: sk-te", "st-1", "23"], reached)
    recorder = SessionRecorder(session, tmp_path)
    events: list = []
    task = asyncio.create_task(session.run("go", lambda e: (events.append(e), recorder.record(e))))
    await asyncio.wait_for(reached.wait(), 10)
    await asyncio.sleep(0.05)  # the runner takes the last piece
    assert text_of(events) == "end: "
    if how == "task":
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        session.cancel()
        await asyncio.wait_for(task, 10)
    assert events[-1].type == "run_finished" and events[-1].status == "cancelled"
    assert_masked(events, recorder.close(), text=f"end: {MASK}")


async def test_a_timed_out_turn_sends_what_it_held_back(keys, tmp_path):
    session = held_then_stuck(["think:about sk-te", "think:st-12"], asyncio.Event())
    events = await collect(session, timeout=0.3)
    assert events[-1].status == "timeout"
    assert_masked(events, None, text="", thinking="about sk-test-12")


async def test_a_result_cut_for_its_preview_or_given_as_json_shows_no_part_of_a_key(keys, monkeypatch):
    secret = 'pa"ss\\wörd-123'
    monkeypatch.setenv("DB_PASSWORD", secret)

    def long_result() -> str:
        """Ends its preview in the middle of the key."""
        return "x" * (PREVIEW_LIMIT - 5) + KEY

    def dict_result() -> dict[str, str]:
        """A result pydantic-ai turns into JSON."""
        return {"password": secret}

    session = plain_session([("tool", "long_result", {}), ("tool", "dict_result", {})], ["done"],
                            tools=[long_result, dict_result])  # fmt: skip
    previews = {e.tool: e.preview for e in of_type(await collect(session), "tool_call_finished")}
    assert previews["long_result"] == "x" * (PREVIEW_LIMIT - 5) + MASK[:5]
    assert json.loads(previews["dict_result"]) == {"password": MASK}


async def test_prompt_arguments_results_and_errors_are_masked(keys, tmp_path, monkeypatch):
    secret = 'pa"ss\\wörd-123'
    monkeypatch.setenv("DB_PASSWORD", secret)

    def leak(value: str) -> str:
        """Echoes its argument and the key."""
        raise ValueError(f"bad {value} for {KEY}")

    session = plain_session([("tool", "leak", {"value": secret})], tools=[leak])
    events, saved = await recorded(session, tmp_path, prompt=f"use {KEY} and {secret}")
    assert events[0].prompt == f"use {MASK} and {MASK}"
    assert of_type(events, "tool_call_started")[0].args == {"value": MASK}
    failed = of_type(events, "tool_call_finished")[0]
    assert failed.outcome == "failed" and failed.preview == f"ValueError: bad {MASK} for {MASK}"
    assert f"ValueError: bad {MASK} for {MASK}" in failed.traceback
    assert events[-1].error == f"ValueError: bad {MASK} for {MASK}"
    for name in ("events.jsonl", "messages.json", "session.json", "todos.json", "workspace.json"):
        content = (saved / name).read_text(encoding="utf-8")
        assert not any(form in content for form in json_forms((KEY, secret))), name


def test_a_logged_traceback_is_masked(keys):
    logger = logging.getLogger("deep_tui.test_redact")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"the provider said {KEY}")
        except RuntimeError:
            logger.exception("failed with %s", KEY)
    finally:
        logger.removeHandler(handler)
    assert KEY not in stream.getvalue()
    assert f"failed with {MASK}" in stream.getvalue() and f"RuntimeError: the provider said {MASK}" in stream.getvalue()


async def test_the_server_log_and_run_listing_mask_the_prompt(keys, caplog):
    httpx = pytest.importorskip("httpx")
    from deep_tui.web.server import create_app

    app = create_app(AgentSpec(agent=f"{AGENTS}/chatty.py:agent", save=False))
    prompt = f"my key is {KEY}, " + "and then some more words " * 4
    with caplog.at_level(logging.INFO, logger="deep_tui.web"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            started = await client.post("/runs", json={"prompt": prompt})
            listed = await client.get("/runs")
    masked = f"my key is {MASK}, " + "and then some more words " * 4
    assert started.json()["prompt"] == listed.json()[0]["prompt"] == masked
    assert f"started: 'my key is {MASK}, and then" in caplog.text and "sk-te" not in caplog.text
