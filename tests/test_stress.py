"""The stress agent: the load the benchmark and a curious user run."""

from __future__ import annotations

import pytest
from scripted import collect, of_type, text_of

from deep_tui.agents import AgentError, open_session
from deep_tui.spec import AgentSpec
from deep_tui.stress import StressConfig, answer_text


def test_options_parse_and_bad_ones_are_refused():
    config = StressConfig.parse("turns=3,calls_per_turn=4,answer=100,rate=2.5")
    assert (config.turns, config.calls_per_turn, config.calls, config.answer, config.rate) == (3, 4, 12, 100, 2.5)
    assert StressConfig.parse("") == StressConfig()
    for bad in ("turns", "bogus=1", "turns=x", "delta=0", "answer=-1"):
        with pytest.raises(ValueError):
            StressConfig.parse(bad)


def test_the_answer_has_the_size_and_the_long_paragraph_asked_for():
    text = answer_text(StressConfig(answer=5000, paragraph=2000))
    assert len(text) == 5000
    assert "\n" not in text[:2000] and text[2000:2002] == "\n\n"


async def test_a_stress_run_makes_the_calls_files_and_deltas_asked_for():
    session = open_session(AgentSpec(stress="turns=5,calls_per_turn=4,files=6,answer=400,paragraph=100,delta=5"))
    events = await collect(session)
    assert events[-1].status == "completed"
    calls = of_type(events, "tool_call_finished")
    assert len(calls) == 20 and all(c.outcome == "success" for c in calls)
    assert len(session.files.files) == 6
    assert len(of_type(events, "text_delta")) == 80 and len(text_of(events)) == 400


def test_a_bad_stress_option_is_an_agent_error():
    with pytest.raises(AgentError, match="unknown stress option 'bogus=1'"):
        open_session(AgentSpec(stress="bogus=1"))
