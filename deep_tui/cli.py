"""The ``deep-tui`` command: the dashboard by default, ``run`` for headless turns, ``serve`` for the web.

Only the standard library is imported here, so the dashboard's first frame is
not held up by pydantic-ai; each command imports what it needs when it runs.
Bad input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from deep_tui.spec import AgentSpec

if TYPE_CHECKING:
    from pathlib import Path

USAGE_ERROR = 2
COMMANDS = ("run", "serve", "replay")
TOKEN_ENV = "DEEP_TUI_TOKEN"
FRAME_RATE = 240
"""The most frames a second Textual paints, unless ``TEXTUAL_FPS`` says otherwise (Textual's default is 60).

Textual paints only what changed, and the dashboard's events come in batches of 12 a second, so the cap rarely
adds paints; what it bounds is how soon a key's change is drawn. After a paint that began late (the screen had
been still), Textual's update timer skips to the second frame boundary after the paint, not the first: a key
pressed during a paint waits up to two frames after it (33 ms at 60, 17 at 120, 8 at 240). On a live run
streaming its answer, keys typed into the prompt p50 26 → 11 ms from 60 to 120, 17.6 → 11.5 ms from 120 to
240; on a run of 3,000 tool calls, 37 → 28.5 ms from 120 to 240, for the same CPU and 1-7% more paints."""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, got {text!r}")
    return int(text)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more, got {text!r}")
    return int(text)


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no delays) or more, got {text}")
    return value


class _Version(argparse.Action):
    """``--version``, read from the package's metadata only when asked for (it costs an import at every start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("deep-tui")
        except PackageNotFoundError:
            found = "(not installed: no version)"
        print(f"deep-tui {found}")
        parser.exit()


def _agent_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("agent (default: the built-in offline demo)")
    group.add_argument(
        "--model",
        "-m",
        help="a pydantic-ai model string, e.g. anthropic:claude-sonnet-4-6 "
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
    group.add_argument(
        "--stress",
        nargs="?",
        const="",
        metavar="OPTIONS",
        help="the offline stress agent for long runs, e.g. turns=200,calls_per_turn=10,files=100,answer=240000,"
        "paragraph=120000,delta=4,rate=0 (these are the defaults)",
    )
    parser.add_argument("--timeout", type=_positive, metavar="SECONDS", help="end a turn that runs longer")
    parser.add_argument(
        "--stall-timeout",
        type=_positive,
        metavar="SECONDS",
        help="fail a model request that sends nothing for this long (default 120 with --model)",
    )
    parser.add_argument(
        "--retries", type=_count, metavar="N", help="times the provider's client retries a failed request (default 2)"
    )
    parser.add_argument(
        "--no-save", dest="save", action="store_false", help="do not keep the session under $DEEP_TUI_HOME/sessions"
    )
    approvals = parser.add_argument_group("approvals (the agent's own, e.g. interrupt_on, are always asked)")
    approvals.add_argument(
        "--approve",
        metavar="TOOL[,TOOL...]",
        help="ask before these tools run, in the agent and its subagents; none: ask only what the agent asks",
    )
    approvals.add_argument(
        "--approval-timeout", type=_positive, metavar="SECONDS", help="deny a call no one decides on within this"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deep-tui",
        usage="deep-tui [PROMPT] [options]  |  deep-tui run PROMPT [--json] [options]  |  deep-tui serve [options]"
        "  |  deep-tui replay SESSION",
        description="A terminal dashboard for running and watching pydantic-deep agents. "
        "Commands: run (headless), serve (web), replay (a recorded session).",
    )
    parser.add_argument("prompt", nargs="?", help="start a run with this prompt at once")
    parser.add_argument("--version", action=_Version)
    parser.add_argument(
        "--theme", metavar="NAME", help="the dashboard's colours for this run, e.g. nord (one picked in it is kept)"
    )
    _agent_options(parser)
    return parser


def build_replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deep-tui replay",
        description="Watch a recorded session again, read-only: space plays and pauses, + and - change the speed, "
        "arrows move one event, [ and ] one turn, Home and End to the ends; a click on the timeline seeks.",
    )
    parser.add_argument(
        "session",
        help="a session id (as listed under $DEEP_TUI_HOME/sessions), a session directory, "
        "or an events.jsonl file such as deep-tui run --json prints",
    )
    parser.add_argument("--play", action="store_true", help="start playing at once, from the start")
    parser.add_argument(
        "--theme", metavar="NAME", help="the dashboard's colours for this run, e.g. nord (one picked in it is kept)"
    )
    return parser


def build_run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deep-tui run",
        description="Run one turn without the dashboard. Exit codes: 0 completed, 1 failed, "
        "2 bad input, 3 timeout, 4 cancelled.",
    )
    parser.add_argument("prompt", help="the prompt; - reads it from stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON event per line on stdout")
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="approve every call that needs approval (without it: asked on the terminal, denied with --json)",
    )
    _agent_options(parser)
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, got {text}")
    return value


def build_serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deep-tui serve",
        description="Serve runs over HTTP: Server-Sent Events at /agent/stream?prompt=... and /runs, a live page "
        "at /. With --tui, the dashboard itself in a browser. Needs the web extra: pip install 'deep-tui[web]' "
        "(from a clone: pip install -e '.[web]').",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1); any other needs --token"
    )
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help="require this token on every request, as Authorization: Bearer TOKEN or ?token=TOKEN "
        f"(default: ${TOKEN_ENV})",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name, e.g. the name a proxy or other machines use "
        "(the listening address, and localhost on loopback, always are); may be repeated",
    )
    parser.add_argument(
        "--max-runs", type=_at_least_one, default=8, metavar="N", help="runs going at once; more get 429 (default 8)"
    )
    parser.add_argument(
        "--tui", action="store_true", help="serve the dashboard itself, one process per browser tab (textual-serve)"
    )
    parser.add_argument(
        "--max-sessions",
        type=_at_least_one,
        default=4,
        metavar="N",
        help="with --tui, dashboards open at once, each a process of its own; more are refused (default 4)",
    )
    _agent_options(parser)
    return parser


def fail(message: str) -> int:
    print(f"deep-tui: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def cap_frame_rate() -> None:
    """Set Textual's frame cap to ``FRAME_RATE`` unless the user set one; read once Textual is imported."""
    os.environ.setdefault("TEXTUAL_FPS", str(FRAME_RATE))


def main(argv: Sequence[str] | None = None) -> int:
    cap_frame_rate()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "run":
        command, options = _run, build_run_parser().parse_args(args[1:])
    elif args and args[0] == "serve":
        command, options = _serve, build_serve_parser().parse_args(args[1:])
    elif args and args[0] == "replay":
        return _replay(build_replay_parser().parse_args(args[1:]))
    else:
        command, options = _dashboard, build_parser().parse_args(args)
    chosen = [flag for flag in ("model", "agent", "stress") if getattr(options, flag) is not None]
    if len(chosen) > 1:
        return fail(f"give one agent: --{chosen[0]} or --{chosen[1]}, not both")
    code = command(options)
    _leave_stuck_threads(code)
    return code


def _leave_stuck_threads(code: int) -> None:
    """Exit now if a worker thread is still alive: a sync tool blocked in it cannot be cancelled.

    pydantic-ai runs sync tools in threads; cancelling the turn leaves such a
    thread running, and Python would wait for it at exit, holding the terminal.
    """
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _spec(options: argparse.Namespace) -> AgentSpec:
    return AgentSpec.from_options(**vars(options))


def _read_prompt(prompt: str) -> str:
    return sys.stdin.read().strip() if prompt == "-" else prompt


def _run(options: argparse.Namespace) -> int:
    import asyncio
    import logging

    from deep_tui.quiet import quiet_libraries

    quiet_libraries(logging.StreamHandler(sys.stderr))
    prompt = _read_prompt(options.prompt)
    if not prompt.strip():
        return fail("the prompt is empty: give the agent something to do, e.g. deep-tui run 'write a haiku'")
    import contextlib

    from deep_tui.headless import event_stdout, run_headless
    from deep_tui.source import Live, SourceError

    # Redirected, stdout is the run's output alone (events or the answer); on a terminal it shows the live display.
    own_stdout = options.json or not sys.stdout.isatty()
    with event_stdout() if own_stdout else contextlib.nullcontext(sys.stdout) as out:
        try:
            source = Live(_spec(options), options.timeout).open()
        except SourceError as exc:
            return fail(str(exc))
        code = asyncio.run(run_headless(source, prompt, out, as_json=options.json, approve_all=options.yes))
    _saved(source.close(), source.problems)
    return code


def _dashboard_argv(options: argparse.Namespace) -> list[str]:
    """The command that starts the dashboard for one browser tab, with every agent option ``serve`` was given."""
    agent_options = argparse.ArgumentParser(add_help=False)
    _agent_options(agent_options)
    argv = [sys.executable, "-m", "deep_tui"]
    for action in agent_options._actions:
        value = getattr(options, action.dest)
        if action.nargs == 0:  # a flag: given only when it changes the default
            argv += action.option_strings[:1] if value != action.default else []
        elif value is not None:
            argv += [action.option_strings[0], f"{value:g}" if isinstance(value, float) else str(value)]
    return argv


def _cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not listen on ``host:port`` (taken, not this machine's, unknown), if it could not.

    Asked before the web stack loads, so the answer is one line at once, not a traceback later.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _serve(options: argparse.Namespace) -> int:
    try:
        return _start_server(options)
    except KeyboardInterrupt:  # while the agent was still loading; once serving, Ctrl+C is a normal stop
        return 130


def _start_server(options: argparse.Namespace) -> int:
    from deep_tui.web.auth import Access, is_loopback

    if options.token is not None and not options.token.strip():
        return fail('the token is empty: choose a long random one, e.g. --token "$(openssl rand -hex 16)"')
    if not options.token and not is_loopback(options.host):
        return fail(
            f"--host {options.host} would let other machines start runs: give --token as well "
            "(or serve on 127.0.0.1 and reach it through an SSH tunnel)"
        )
    reason = _cannot_listen(options.host, options.port)
    if reason:
        return fail(f"cannot listen on {options.host}:{options.port}: {reason}")
    import logging

    from deep_tui.quiet import quiet_libraries

    quiet_libraries(logging.StreamHandler(sys.stderr))
    try:
        if options.tui:
            from deep_tui.web.tui import serve_dashboard
        else:
            from deep_tui.web.server import create_app, serve
    except ImportError as exc:
        missing = (exc.name or "a web package").split(".")[0]
        return fail(
            f"serve needs the web extra ({missing} is not installed): pip install 'deep-tui[web]' "
            "(from a clone: pip install -e '.[web]')"
        )
    from deep_tui.agents import AgentError, open_session

    spec = _spec(options)
    access = Access.of(options.host, options.allow_host)
    try:
        open_session(spec)  # once, so a bad agent fails here and not in every run or browser tab
    except AgentError as exc:
        return fail(str(exc))
    if options.tui:
        import shlex

        command = shlex.join(_dashboard_argv(options))
        serve_dashboard(command, port=options.port, token=options.token, access=access, sessions=options.max_sessions)
    else:
        app = create_app(spec, token=options.token, timeout=options.timeout, access=access, max_runs=options.max_runs)
        serve(app, options.host, options.port)
    return 0


def _not_a_terminal() -> str | None:
    """The standard stream that is not a terminal, if one is not: the dashboard reads keys from stdin and draws
    on stderr, and with stdout redirected the user asked for output it never writes there.

    A driver named in ``TEXTUAL_DRIVER`` (textual-serve's web driver, for ``serve --tui``) needs none of them.
    """
    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            if stream is None or not stream.isatty():
                return name
        except ValueError:  # closed
            return name
    return None


def _dashboard(options: argparse.Namespace) -> int:
    if options.prompt is not None and not options.prompt.strip():
        return fail("the prompt is empty: leave it out to type one in the dashboard")
    from deep_tui.app import DeepTUI, UnknownTheme
    from deep_tui.source import Live

    try:  # checked by the app: the names are Textual's, known only once it is imported
        app = DeepTUI(Live(_spec(options), options.timeout), prompt=options.prompt, theme=options.theme)
    except UnknownTheme as exc:
        return fail(str(exc))
    if stream := _not_a_terminal():
        return fail(_needs_a_terminal(stream))
    app.run()
    if app.startup_error:
        return fail(app.startup_error)
    source = app.source
    _saved(app.close_session(), source.problems if source is not None else [])
    return app.return_code or 0


def _replay(options: argparse.Namespace) -> int:
    """The dashboard on a recording. What is not one (no such file, or not starting with an event) is one line and
    exit code 2 before any screen; the recording is read after the dashboard's first frame, and one damaged further
    on closes it and is one line and exit code 2 as well."""
    from deep_tui.source import Recorded, SourceError

    try:
        source = Recorded.find(options.session)
    except SourceError as exc:
        return fail(str(exc))
    from deep_tui.app import DeepTUI, UnknownTheme

    try:
        app = DeepTUI(source, theme=options.theme, play=options.play)
    except UnknownTheme as exc:
        return fail(str(exc))
    if stream := _not_a_terminal():
        return fail(_needs_a_terminal(stream))
    app.run()
    if app.startup_error:
        return fail(app.startup_error)
    return app.return_code or 0


def _needs_a_terminal(stream: str) -> str:
    return (
        f"the dashboard needs a terminal, and {stream} is not one: "
        "deep-tui run PROMPT runs a turn without it (--json for one event per line)"
    )


def _saved(path: Path | None, problems: Sequence[str]) -> None:
    """Where the session was saved, or what of it could not be."""
    if path is None:
        return
    if not problems:
        print(f"deep-tui: session saved in {path}", file=sys.stderr)
        return
    print(f"deep-tui: the session in {path} was not saved in full:", file=sys.stderr)
    for problem in problems[-5:]:
        print(f"  {problem}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
