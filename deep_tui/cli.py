"""The ``deep-tui`` command: the dashboard by default, ``run`` for headless turns.

Only the standard library is imported here, so the dashboard's first frame is
not held up by pydantic-ai; each command imports what it needs when it runs.
Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from deep_tui.spec import AgentSpec

USAGE_ERROR = 2
COMMANDS = ("run",)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no delays) or more, got {text}")
    return value


def _agent_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("agent (default: the built-in offline demo)")
    group.add_argument(
        "--model",
        "-m",
        help="a pydantic-ai model string, e.g. anthropic:claude-sonnet-4-5 "
        "(default: $DEEP_TUI_MODEL); keys come from the provider's usual variable",
    )
    group.add_argument("--agent", "-a", help="your own agent: path/to/file.py:NAME or package.module:NAME")
    group.add_argument(
        "--demo-speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="pace of the demo agent: 2 is twice as fast, 0 removes every delay (default 1)",
    )
    group.add_argument("--web", action="store_true", help="give agents deep-tui builds web search and fetch")
    parser.add_argument("--timeout", type=_positive, metavar="SECONDS", help="end a turn that runs longer")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deep-tui",
        description="A terminal dashboard for running and watching pydantic-deep agents. Commands: run (headless).",
    )
    parser.add_argument("prompt", nargs="?", help="start a run with this prompt at once")
    _agent_options(parser)
    return parser


def build_run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deep-tui run",
        description="Run one turn without the dashboard. Exit codes: 0 completed, 1 failed, "
        "2 bad input, 3 timeout, 4 cancelled.",
    )
    parser.add_argument("prompt", help="the prompt; - reads it from stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON event per line on stdout")
    _agent_options(parser)
    return parser


def fail(message: str) -> int:
    print(f"deep-tui: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "run":
        return _run(build_run_parser().parse_args(args[1:]))
    return _dashboard(build_parser().parse_args(args))


def _spec(options: argparse.Namespace) -> AgentSpec:
    return AgentSpec.from_options(options.model, options.agent, options.demo_speed, options.web)


def _read_prompt(prompt: str) -> str:
    return sys.stdin.read() if prompt == "-" else prompt


def _run(options: argparse.Namespace) -> int:
    import asyncio
    import logging

    from deep_tui.quiet import quiet_libraries

    quiet_libraries(logging.StreamHandler(sys.stderr))
    prompt = _read_prompt(options.prompt)
    if not prompt.strip():
        return fail("the prompt is empty: give the agent something to do, e.g. deep-tui run 'write a haiku'")
    if options.model and options.agent:
        return fail("give --model or --agent, not both")

    import contextlib

    from deep_tui.agents import AgentError, open_session
    from deep_tui.headless import event_stdout, run_headless

    with event_stdout() if options.json else contextlib.nullcontext(sys.stdout) as out:
        try:
            session = open_session(_spec(options))
        except AgentError as exc:
            return fail(str(exc))
        return asyncio.run(run_headless(session, prompt, out, as_json=options.json, timeout=options.timeout))


def _dashboard(options: argparse.Namespace) -> int:
    if options.model and options.agent:
        return fail("give --model or --agent, not both")
    if options.prompt is not None and not options.prompt.strip():
        return fail("the prompt is empty: leave it out to type one in the dashboard")
    from deep_tui.app import DeepTUI

    app = DeepTUI(_spec(options), prompt=options.prompt, timeout=options.timeout)
    app.run()
    if app.startup_error:
        return fail(app.startup_error)
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
