"""Approving over the web: the stream says a call waits, a POST decides it, and a second decision is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from agents.gated import PLAN
from test_web import messages, served, start_run
from test_web_page import CHROMIUM, INERT, browser_tab

from deep_tui.events import parse_event
from deep_tui.spec import AgentSpec

AGENTS = Path(__file__).parent / "agents"
INTERRUPTING = AgentSpec(agent=f"{AGENTS}/gated.py:interrupting", save=False)


def test_calls_are_approved_and_denied_over_the_web_and_decided_once():
    with served(INTERRUPTING) as web, web.client() as client:
        run_id = start_run(client, "write two")
        with client.stream("GET", f"/runs/{run_id}/events") as response:
            stream = (parse_event(m["data"]) for m in messages(response) if "data" in m)
            asked = []
            for event in stream:
                if event.type == "approval_requested":
                    asked.append(event)
                if len(asked) == 2:
                    break
            assert [(e.tool, e.args["path"], e.preview_kind) for e in asked] == [
                ("write_file", "/notes/plan.md", "diff"),
                ("write_file", "/notes/todo.md", "diff"),
            ]
            assert "+# Plan\n" in asked[0].preview
            first, second = (f"/runs/{run_id}/approvals/{e.call_id}" for e in asked)

            approved = client.post(first, json={"approve": True})
            assert approved.status_code == 200 and approved.json() == {
                "call_id": asked[0].call_id,
                "decision": "approved",
            }
            again = client.post(first, json={"approve": False})
            assert again.status_code == 409 and "not waiting" in again.json()["detail"]
            denied = client.post(second, json={"approve": False, "reason": "keep the todo list in the app"})
            assert denied.json()["decision"] == "denied"
            rest = list(stream)
        resolved = [(e.call_id, e.decision, e.by, e.reason) for e in rest if e.type == "approval_resolved"]
        assert resolved == [
            (asked[0].call_id, "approved", "web", None),
            (asked[1].call_id, "denied", "web", "keep the todo list in the app"),
        ]
        assert rest[-1].type == "run_finished" and rest[-1].status == "completed"
        assert "The user denied this call: keep the todo list in the app" in rest[-1].output
        session = web.runs.get(run_id).session
        assert {p: session.files.read_bytes(p) for p in session.files.files} == {"/notes/plan.md": PLAN.encode()}

        assert client.post(second, json={"approve": True}).status_code == 409  # the run has ended
        assert client.post(f"/runs/{run_id}/approvals/nope", json={"approve": True}).status_code == 409
        assert client.post(f"/runs/nope/approvals/{asked[0].call_id}", json={"approve": True}).status_code == 404
        assert client.post(first, json={"approve": "maybe"}).status_code == 422


def test_an_edit_over_the_web_runs_the_call_with_the_new_arguments():
    with served(INTERRUPTING) as web, web.client() as client:
        run_id = start_run(client, "write one")
        with client.stream("GET", f"/runs/{run_id}/events") as response:
            stream = (parse_event(m["data"]) for m in messages(response) if "data" in m)
            asked = next(e for e in stream if e.type == "approval_requested")
            edited = {"path": "/notes/plan.md", "content": "# Plan, edited in the browser\n"}
            answer = client.post(f"/runs/{run_id}/approvals/{asked.call_id}", json={"approve": True, "args": edited})
            assert answer.json()["decision"] == "edited"
            assert list(stream)[-1].status == "completed"
        session = web.runs.get(run_id).session
        assert session.files.read_bytes("/notes/plan.md") == b"# Plan, edited in the browser\n"


@pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium: apt-get install chromium")
async def test_the_page_shows_waiting_calls_as_text_and_its_buttons_decide_them(tmp_path):
    markup = '<img src=x onerror="window.pwned=1"> write two'
    with served(INTERRUPTING) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start(markup)
            await page.wait("document.querySelectorAll('#approvals .approval').length === 2")
            assert await page.eval("document.getElementById('status').textContent") == "waiting for approval (2)"
            first = await page.eval("document.querySelector('#approvals .approval pre').textContent")
            assert f"+++ /notes/plan.md\n@@ -0,0 +1 @@\n+{markup}\n" in first  # the diff, as text
            assert await page.eval(INERT)
            await page.eval("document.querySelector('#approvals .approval button.approve').click()")
            await page.wait("document.querySelectorAll('#approvals .approval').length === 1")
            assert await page.eval("document.getElementById('status').textContent") == "waiting for approval"
            await page.eval("document.querySelector('#approvals .approval input').value = 'not the todo list'")
            await page.eval("document.querySelector('#approvals .approval button.deny').click()")
            await page.wait("document.body.dataset.status === 'completed'")
            assert await page.eval("document.getElementById('approvals-panel').hidden")
            assert await page.eval(INERT)
        (run,) = web.runs
        assert run.session.files.read_bytes("/notes/plan.md") == markup.encode()
        assert "/notes/todo.md" not in run.session.files.files
        assert "The user denied this call: not the todo list" in run.finished.output
