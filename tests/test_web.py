"""The web endpoint against a real uvicorn on a loopback port, as a browser or curl meets it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from agents.hostile import EVIL_FILE, RESULT_END, SECRET_ENV

from deep_tui.agents import AgentError
from deep_tui.events import parse_event
from deep_tui.source import RecordingSource
from deep_tui.spec import AgentSpec
from deep_tui.web import details, server
from deep_tui.web.server import Runs, create_app

AGENTS = Path(__file__).parent / "agents"
GARDEN = AgentSpec(agent=f"{AGENTS}/custom.py:build")
FOREVER = AgentSpec(agent=f"{AGENTS}/forever.py:agent")
QUIET = AgentSpec(agent=f"{AGENTS}/quiet.py:agent")
GARDEN_BEDS = "# Beds\n- north: tulips\n"
"""What the garden agent writes to /garden/beds.md."""


@dataclass
class Served:
    url: str
    runs: Runs
    loop: asyncio.AbstractEventLoop

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **options)

    def run_tasks(self) -> list[asyncio.Task[Any]]:
        """The tasks on the server's loop that are driving a run."""

        async def tasks() -> list[asyncio.Task[Any]]:
            return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "LiveSource._run"]  # type: ignore[union-attr]

        return asyncio.run_coroutine_threadsafe(tasks(), self.loop).result(5)

    def wait_finished(self, run_id: str, within: float = 5.0) -> str:
        deadline = time.monotonic() + within
        run = self.runs.get(run_id)
        while run.finished is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert run.finished is not None, f"run {run_id} still running after {within} s"
        return run.finished.status


@contextlib.contextmanager
def served(spec: AgentSpec, **options: Any) -> Iterator[Served]:
    """The app on a real uvicorn in a thread, on a port the OS picked."""
    app = create_app(spec, **options)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(uv.serve(sockets=[sock]),), daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.runs, loop)
    finally:
        loop.call_soon_threadsafe(app.state.runs.cancel_all)
        uv.should_exit = True
        thread.join(10)
        loop.close()


def messages(response: httpx.Response) -> Iterator[dict[str, str]]:
    """SSE messages as field dicts; comment lines come as {"comment": text}."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if fields:
                yield fields
                fields = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def events(stream: httpx.Response | Iterator[dict[str, str]], limit: int | None = None) -> list[Any]:
    """The events of a response or message stream (the next ``limit`` of them), checked against their fields."""
    found = []
    for message in messages(stream) if isinstance(stream, httpx.Response) else stream:
        if "comment" in message:
            continue
        event = parse_event(message["data"])
        assert (message["event"], message["id"]) == (event.type, str(event.seq))
        found.append(event)
        if len(found) == limit:
            break
    return found


def start_run(client: httpx.Client, prompt: str = "go") -> str:
    response = client.post("/runs", json={"prompt": prompt})
    assert response.status_code == 201, response.text
    return response.json()["run_id"]


def test_stream_delivers_every_fact_of_a_users_agent_in_order():
    with served(GARDEN) as web, web.client() as client, client.stream("GET", "/agent/stream?prompt=plan") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        found = events(response)
    assert [e.seq for e in found] == list(range(len(found)))
    assert found[0].type == "run_started" and found[0].prompt == "plan"
    assert found[-1].type == "run_finished" and found[-1].status == "completed"
    assert {t.content for e in found if e.type == "todos_changed" for t in e.todos} == {
        "Survey the garden",
        "Plant the tulips",
    }
    assert [c.path for e in found if e.type == "files_changed" for c in e.changes] == ["/garden/beds.md"]
    assert {e.tool for e in found if e.type == "tool_call_started"} == {"write_todos", "write_file", "count_petals"}
    assert {e.outcome for e in found if e.type == "tool_call_finished"} == {"success"}
    text = "".join(e.text for e in found if e.type == "text_delta")
    assert text.strip() == "Garden planned: the north bed gets tulips, six petals each."


def test_a_client_that_leaves_a_quiet_run_cancels_it_at_once(monkeypatch):
    monkeypatch.setattr(server, "HEARTBEAT_SECONDS", 0.2)
    with served(QUIET) as web, web.client() as client:
        with client.stream("GET", "/agent/stream?prompt=ponder") as response:
            stream = messages(response)
            run_id = parse_event(next(stream)["data"]).run_id
            assert next(m for m in stream if m.get("event") == "text_delta")
            assert next(stream) == {"comment": "keep-alive"}  # the model is silent now
            assert web.run_tasks()
        left = time.monotonic()
        assert web.wait_finished(run_id) == "cancelled"
        assert time.monotonic() - left < 2
        assert web.run_tasks() == []
        assert client.get(f"/runs/{run_id}").json()["status"] == "cancelled"


def test_the_cancel_endpoint_ends_the_run_for_its_followers():
    with served(FOREVER) as web, web.client() as client:
        run_id = start_run(client)
        with client.stream("GET", f"/runs/{run_id}/events") as response:
            stream = messages(response)
            assert [next(stream)["event"] for _ in range(3)][0] == "run_started"
            cancelled = client.post(f"/runs/{run_id}/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
            rest = [parse_event(m["data"]) for m in stream]
        assert rest[-1].type == "run_finished" and rest[-1].status == "cancelled"
        assert web.run_tasks() == []
        again = client.post(f"/runs/{run_id}/cancel")
        assert again.json()["status"] == "cancelled" and again.json()["events"] == rest[-1].seq + 1
        assert client.post("/runs/nope/cancel").status_code == 404


def test_a_follower_that_reconnects_gets_what_it_missed_and_nothing_twice():
    with served(FOREVER) as web, web.client() as client:
        run_id = start_run(client)
        with client.stream("GET", f"/runs/{run_id}/events") as response:
            first = events(response, limit=20)
        time.sleep(0.2)  # the run goes on while nobody watches
        resumed_from = str(first[-1].seq)
        with client.stream("GET", f"/runs/{run_id}/events", headers={"Last-Event-ID": resumed_from}) as response:
            stream = messages(response)
            second = events(stream, limit=10)
            client.post(f"/runs/{run_id}/cancel")
            second += events(stream)
        seqs = [e.seq for e in first + second]
        assert seqs == list(range(len(seqs)))
        assert second[-1].type == "run_finished" and second[-1].status == "cancelled"
        after_end = client.get(f"/runs/{run_id}/events", headers={"Last-Event-ID": str(second[-1].seq)})
        assert after_end.status_code == 204  # an EventSource stops reconnecting
        bad = client.get(f"/runs/{run_id}/events", headers={"Last-Event-ID": "x1"})
        assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]


def test_two_clients_follow_one_run_and_get_every_event():
    with served(FOREVER) as web, web.client() as starter:
        run_id = start_run(starter)

        def follow(_: int) -> list[Any]:
            with web.client() as client, client.stream("GET", f"/runs/{run_id}/events") as response:
                return events(response)

        with ThreadPoolExecutor(2) as pool:
            followers = [pool.submit(follow, n) for n in range(2)]
            time.sleep(0.3)
            starter.post(f"/runs/{run_id}/cancel")
            one, two = (f.result(10) for f in followers)
        assert [e.model_dump_json() for e in one] == [e.model_dump_json() for e in two]
        assert [e.seq for e in one] == list(range(len(one))) and one[-1].type == "run_finished"
        assert len(one) > 10


def test_a_finished_run_replays_whole_and_runs_are_listed():
    with served(GARDEN) as web, web.client() as client:
        run_id = start_run(client, "plan the garden")
        assert web.wait_finished(run_id) == "completed"
        with client.stream("GET", f"/runs/{run_id}/events") as response:
            replay = events(response)
        assert replay[0].run_id == run_id and replay[-1].status == "completed"
        listed = client.get("/runs").json()
        saved_in = listed[0]["saved_in"]
        assert listed == [
            {
                "run_id": run_id,
                "prompt": "plan the garden",
                "status": "completed",
                "events": len(replay),
                "saved_in": saved_in,
            }
        ]
        assert client.get("/runs/nope").status_code == 404
        assert client.get("/runs/nope/events").status_code == 404


def test_each_run_is_kept_on_disk_unless_asked_not_to():
    with served(GARDEN) as web, web.client() as client:
        run_id = start_run(client, "plan the garden")
        assert web.wait_finished(run_id) == "completed"
        saved = Path(client.get(f"/runs/{run_id}").json()["saved_in"])
        source = web.runs.get(run_id).source
        for _ in range(500):  # the run's source is closed, its last save written, off the loop after the run ends
            if source is not None and source.recorder is None:
                break
            time.sleep(0.02)
        assert (saved / "files" / "garden" / "beds.md").read_text() == GARDEN_BEDS
        recorded = [parse_event(line) for line in (saved / "events.jsonl").read_text().splitlines()]
        assert recorded[0].run_id == run_id and recorded[-1].status == "completed"
        assert [t["content"] for t in json.loads((saved / "todos.json").read_text())] == [
            "Survey the garden",
            "Plant the tulips",
        ]
        # The recording replays: its end is the run's end, its files read back from the recording.
        replayed = RecordingSource.open(saved)
        assert replayed.timeline is not None
        end = replayed.timeline.state_at(len(replayed.timeline))
        assert end.status == "completed" and "/garden/beds.md" in end.files
        assert replayed.file("/garden/beds.md", end.files["/garden/beds.md"].latest.version) == GARDEN_BEDS.encode()
    with served(replace(GARDEN, save=False)) as web, web.client() as client:
        run_id = start_run(client, "plan the garden")
        assert web.wait_finished(run_id) == "completed"
        assert client.get(f"/runs/{run_id}").json()["saved_in"] is None


def test_only_the_last_finished_runs_are_kept(monkeypatch):
    monkeypatch.setattr(server, "KEEP_FINISHED", 2)
    with served(GARDEN) as web, web.client() as client:
        ids = []
        for _ in range(3):
            with client.stream("GET", "/agent/stream?prompt=go") as response:
                ids.append(events(response)[0].run_id)
        assert [r["run_id"] for r in client.get("/runs").json()] == ids[1:]
        assert client.get(f"/runs/{ids[0]}").status_code == 404


def test_an_empty_prompt_is_refused_with_a_reason():
    with served(GARDEN) as web, web.client() as client:
        for response in (
            client.get("/agent/stream?prompt=%20%20"),
            client.get("/agent/stream"),
            client.post("/runs", json={"prompt": ""}),
        ):
            assert response.status_code == 422
            assert response.json()["detail"].startswith("the prompt is empty")
        assert client.get("/runs").json() == []


def test_an_agent_that_stops_loading_is_a_503_with_its_reason(monkeypatch):
    def broken(spec: AgentSpec) -> None:
        raise AgentError("cannot import agents.py: SyntaxError")

    monkeypatch.setattr(server, "open_session", broken)
    with served(GARDEN) as web, web.client() as client:
        response = client.post("/runs", json={"prompt": "go"})
    assert response.status_code == 503
    assert response.json()["detail"] == "the agent cannot be built: cannot import agents.py: SyntaxError"


def test_a_timeout_ends_the_run_with_status_timeout():
    with served(QUIET) as web, web.client() as client:
        with client.stream("GET", "/agent/stream?prompt=ponder&timeout=0.3") as response:
            found = events(response)
        assert found[-1].status == "timeout" and "0.3" in (found[-1].error or "")
        assert client.get("/agent/stream?prompt=x&timeout=-1").status_code == 422


def test_with_a_token_every_request_must_carry_it():
    with served(GARDEN, token="s3cret") as web, web.client() as client:
        for path in ("/", "/runs", "/agent/stream?prompt=hi", "/openapi.json", "/no/such/path"):
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/runs?token=wrong").status_code == 401
        assert client.get("/runs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.post("/runs", json={"prompt": "hi"}).status_code == 401
        assert client.get("/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/?token=s3cret").status_code == 200
        with client.stream("GET", "/agent/stream?prompt=hi&token=s3cret") as response:  # as EventSource sends it
            assert events(response)[-1].status == "completed"


def test_the_page_loads_nothing_from_elsewhere_and_never_parses_event_text_as_html():
    with served(GARDEN) as web, web.client() as client:
        page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert "EventSource" in page.text and "Cancel" in page.text
    for forbidden in ("http://", "https://", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert forbidden not in page.text


HOSTILE = AgentSpec(agent=f"{AGENTS}/hostile.py:build")
SLOW = AgentSpec(agent=f"{AGENTS}/slow.py:build")


def elements(nodes: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every element of a markdown tree, as (tag, attributes)."""
    for node in nodes:
        if isinstance(node, list):
            yield node[0], node[1]
            yield from elements(node[2:])


def text_of(nodes: list[Any]) -> str:
    return "".join(node if isinstance(node, str) else text_of(node[2:]) for node in nodes)


def test_the_answer_is_a_markdown_tree_with_its_html_as_text_and_only_web_links():
    with served(HOSTILE) as web, web.client() as client:
        run_id = start_run(client)
        assert web.wait_finished(run_id) == "completed"
        answer = client.get(f"/runs/{run_id}/answer").json()
    nodes = answer["nodes"]
    assert nodes[0] == ["h1", {}, "Report 📋"]
    found = dict(elements(nodes))
    assert {"strong", "em", "code", "pre", "ul", "li", "table", "th", "td", "a"} <= set(found)
    assert not {"img", "script", "i", "b"} & set(found)  # the agent's HTML stays text
    text = text_of(nodes)
    for attack in ("<img src=x onerror=", "<script>window.pwned='script'</script>", "<i>read</i>", "<b>not bold</b>"):
        assert attack in text
    links = [attributes["href"] for tag, attributes in elements(nodes) if tag == "a"]
    assert links == ["https://tracker.example/p.png", "https://example.com/docs", "https://example.com/a%20b"]
    assert "[click me](javascript:window.pwned='link')" in text and "[start a run](/agent/stream?prompt=pwned)" in text
    assert ["span", {"hl": "k"}, "def"] in found_code(nodes)


def found_code(nodes: list[Any]) -> list[Any]:
    return next(node[2][2:] for node in nodes if isinstance(node, list) and node[0] == "pre")


def test_the_answer_can_be_fetched_in_settled_parts_that_add_up_to_the_whole():
    with served(HOSTILE) as web, web.client() as client:
        run_id = start_run(client)
        assert web.wait_finished(run_id) == "completed"
        whole = client.get(f"/runs/{run_id}/answer").json()
        deltas = [e for e in events(client.get(f"/runs/{run_id}/events")) if e.type == "text_delta"]
        first = deltas[0].seq
        so_far = ""
        for delta in deltas:  # stop in the middle of the list's fourth item, as a page streaming it would
            so_far += delta.text
            if "and [home]" in so_far:
                last = delta.seq
                break
        answer = f"/runs/{run_id}/answer"
        halfway = client.get(answer, params={"first": first, "last": last, "settled": True}).json()
        assert halfway["nodes"] == whole["nodes"][: len(halfway["nodes"])] == whole["nodes"][:3]  # up to a blank line
        growing = halfway["partial"]  # the list so far: its three finished items, for the page to replace later
        assert [node[0] for node in growing] == ["ul"] and len(growing[0]) - 2 == 3
        complete_lines = so_far[: so_far.rfind("\n") + 1]
        assert halfway["utf16"] + halfway["partial_utf16"] == len(complete_lines.encode("utf-16-le")) // 2
        rest = client.get(answer, params={"first": first, "offset": halfway["end"]}).json()
        assert halfway["nodes"] + rest["nodes"] == whole["nodes"] and rest["end"] == whole["end"]
        assert halfway["utf16"] + rest["utf16"] == whole["utf16"] == whole["end"] + 1  # 📋 is two UTF-16 units
        nothing = client.get(answer, params={"first": last + 1, "last": last}).json()
        assert nothing == {"nodes": [], "end": 0, "utf16": 0, "partial": [], "partial_utf16": 0}
        assert client.get(answer, params={"offset": -1}).status_code == 422
        assert client.get("/runs/nope/answer").status_code == 404


def test_a_file_of_the_run_can_be_read_with_secrets_masked_and_nothing_changed(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "sk-test-0123456789")
    with served(HOSTILE) as web, web.client() as client:
        run_id = start_run(client)
        assert web.wait_finished(run_id) == "completed"
        files = f"/runs/{run_id}/files"
        shown = client.get(files, params={"path": "/notes/evil.html"})
        assert shown.status_code == 200
        assert shown.json() == {
            "path": "/notes/evil.html",
            "size": len(EVIL_FILE) + len("sk-test-0123456789"),
            "text": EVIL_FILE + "[redacted]",
            "truncated": False,
        }
        assert client.get(files, params={"path": "notes//evil.html"}).json()["text"] == EVIL_FILE + "[redacted]"
        for missing in ("/notes/gone.md", "/notes", "/", "/notes/evil.html\x00", "/notes/evil.html/x"):
            refused = client.get(files, params={"path": missing})
            assert refused.status_code == 404 and "no file" in refused.json()["detail"], missing
        assert client.get(files).status_code == 422  # the path is required
        for method in ("POST", "PUT", "DELETE"):
            assert client.request(method, files, params={"path": "/notes/evil.html"}).status_code == 405
        monkeypatch.setattr(details, "FILE_LIMIT", 5)
        cut = client.get(files, params={"path": "/notes/evil.html"}).json()
        assert cut["text"] == EVIL_FILE[:5] and cut["truncated"] and cut["size"] > 5
        session = web.runs.get(run_id).session
        assert session is not None and list(session.files.files) == ["/notes/evil.html"]


def test_a_file_cut_inside_a_character_or_not_text_is_said_so(monkeypatch):
    with served(HOSTILE) as web, web.client() as client:
        run_id = start_run(client)
        assert web.wait_finished(run_id) == "completed"
        workspace = web.runs.get(run_id).session.files  # type: ignore[union-attr]
        workspace.write_bytes("/bin/blob", b"\x89PNG\r\n\x1a\n\xff\xfe")
        workspace.write_bytes("/notes/tulips.txt", "tulipes é".encode())
        files = f"/runs/{run_id}/files"
        assert client.get(files, params={"path": "/bin/blob"}).json()["text"] is None
        monkeypatch.setattr(details, "FILE_LIMIT", len("tulipes ") + 1)  # the middle of "é"
        cut = client.get(files, params={"path": "/notes/tulips.txt"}).json()
        assert cut == {"path": "/notes/tulips.txt", "size": 10, "text": "tulipes ", "truncated": True}


def test_a_tool_call_is_shown_with_its_whole_result_and_secrets_masked(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "sk-test-0123456789")
    with served(HOSTILE) as web, web.client() as client:
        run_id = start_run(client)
        assert web.wait_finished(run_id) == "completed"
        call = client.get(f"/runs/{run_id}/calls/report").json()
        preview = next(e for e in events(client.get(f"/runs/{run_id}/events")) if e.type == "tool_call_finished")
        assert len(preview.preview) < call["size"]
        assert call["result"].startswith("Report on <b>tulips</b>: [redacted] lorem ipsum")
        assert call["result"].endswith(RESULT_END) and len(call["result"]) == call["size"] - 8  # the key is 8 longer
        assert {k: call[k] for k in ("call_id", "tool", "args", "status", "truncated")} == {
            "call_id": "report",
            "tool": "big_report",
            "args": {"topic": "<b>tulips</b>"},
            "status": "success",
            "truncated": False,
        }
        monkeypatch.setattr(details, "RESULT_LIMIT", 100)
        cut = client.get(f"/runs/{run_id}/calls/report").json()
        assert len(cut["result"]) == 100 - 8 and cut["truncated"]
        assert client.get(f"/runs/{run_id}/calls/nope").status_code == 404
        assert client.post(f"/runs/{run_id}/calls/report").status_code == 405


def test_a_call_still_running_is_shown_as_running():
    with served(SLOW) as web, web.client() as client:
        run_id = start_run(client)
        with client.stream("GET", f"/runs/{run_id}/events") as response:
            next(e for e in events_of(response) if e.type == "tool_call_started" and e.call_id == "b")
            running = client.get(f"/runs/{run_id}/calls/b").json()
            client.post(f"/runs/{run_id}/cancel")
        assert running == {
            "call_id": "b",
            "tool": "long_build",
            "args": {"target": "all"},
            "status": "running",
            "duration": None,
            "size": None,
            "result": None,
            "truncated": False,
        }
        assert client.get(f"/runs/{run_id}/calls/b").json()["status"] == "cancelled"


def events_of(response: httpx.Response) -> Iterator[Any]:
    """The events of a response one by one, as they come."""
    for message in messages(response):
        if "comment" not in message:
            yield parse_event(message["data"])


def test_an_sse_frame_escapes_the_controls_json_leaves_raw():
    """``curl -N`` prints frames to a terminal: an 8-bit CSI or a DEL from the agent must arrive escaped."""
    from deep_tui.events import TextDelta, parse_event
    from deep_tui.web.server import sse_frame

    event = TextDelta(seq=3, text="a\x9b2Jb\x7fc\x1b]0;t\x07")
    frame = sse_frame(event).decode()
    assert not any(ch in frame for ch in "\x9b\x7f\x1b\x07")
    data = next(line for line in frame.splitlines() if line.startswith("data: "))[6:]
    assert parse_event(data) == event
