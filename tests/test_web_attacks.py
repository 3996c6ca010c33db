"""Attacks on ``deep-tui serve`` from the pages a browser on this machine opens, and from too much of anything.

Each request carries the headers Chromium sends for it: an ``<img>``, a
``fetch(no-cors)``, an ``EventSource``, a form, a page reached under an
attacker's DNS name. The server is a real uvicorn on a free loopback port.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import quote

from test_web import FOREVER, GARDEN, events, served, start_run

from deep_tui.web import server

EVIL = "http://evil.example"

IMG = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image", "Accept": "image/*"}
"""An ``<img src>`` on another site's page: no Origin, a GET."""
NO_CORS_FETCH = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "empty"}
EVENT_SOURCE = {
    "Origin": EVIL,
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "Accept": "text/event-stream",
}
FORM = {
    "Origin": EVIL,
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "iframe",
    "Content-Type": "application/x-www-form-urlencoded",
}
"""A form on another site's page, posted into a hidden frame."""


def own_page(url: str) -> dict[str, str]:
    """What the server's own page sends with its requests."""
    return {"Origin": url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}


def test_a_page_under_a_rebound_name_can_neither_start_nor_read_runs():
    """DNS rebinding: the attacker's name resolves to 127.0.0.1, so the browser sends ``Host: evil.example:PORT``."""
    with served(GARDEN) as web, web.client() as client:
        port = web.url.rsplit(":", 1)[1]
        rebound = {"Host": f"evil.example:{port}"}
        started = client.post("/runs", json={"prompt": "steal"}, headers=rebound)
        assert started.status_code == 421, started.text
        assert "--allow-host" in started.json()["detail"]
        assert client.get("/runs", headers=rebound).status_code == 421
        assert client.get("/", headers=rebound).status_code == 421
        assert client.get("/runs").json() == []
        for name in ("localhost", "127.0.0.1", "[::1]"):  # this machine's names, with any port (an SSH tunnel's)
            assert client.get("/runs", headers={"Host": f"{name}:1234"}).status_code == 200, name
            assert client.get("/runs", headers={"Host": name}).status_code == 200, name


def test_another_sites_img_fetch_and_event_source_cannot_start_a_run():
    with served(GARDEN) as web, web.client() as client:
        stream = f"/agent/stream?prompt={quote('rm -rf')}"
        for headers in (IMG, NO_CORS_FETCH, EVENT_SOURCE, {**EVENT_SOURCE, "Origin": "http://localhost:9000"}):
            refused = client.get(stream, headers=headers)
            assert refused.status_code == 403, (headers, refused.text)
            assert "another site" in refused.json()["detail"] or "cannot start" in refused.json()["detail"]
        refused = client.get(stream, headers={"Origin": "http://localhost:9000"})  # a same-site page, other port
        assert refused.status_code == 403
        assert client.get("/runs").json() == []
        with client.stream("GET", stream, headers=own_page(web.url)) as response:  # the page's own EventSource
            assert events(response)[-1].status == "completed"
        with client.stream("GET", stream, headers={"Sec-Fetch-Site": "none"}) as response:  # typed in the bar
            assert events(response)[-1].status == "completed"
        with client.stream("GET", stream) as response:  # curl
            assert events(response)[-1].status == "completed"


def test_another_sites_form_cannot_cancel_a_run_nor_start_one():
    with served(FOREVER) as web, web.client() as client:
        run_id = start_run(client)
        for headers in (FORM, {"Origin": "null", "Content-Type": "application/x-www-form-urlencoded"}):
            refused = client.post(f"/runs/{run_id}/cancel", content=b"x=1", headers=headers)
            assert refused.status_code == 403, (headers, refused.text)
            refused = client.post(
                "/runs", content=b'{"prompt": "x"}', headers={**headers, "Content-Type": "text/plain"}
            )
            assert refused.status_code == 403
        assert client.get(f"/runs/{run_id}").json()["status"] == "running"
        assert len(client.get("/runs").json()) == 1
        cancelled = client.post(f"/runs/{run_id}/cancel", headers=own_page(web.url))
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_no_page_may_frame_the_page_nor_embed_an_answer():
    with served(GARDEN) as web, web.client() as client:
        for path in ("/", "/runs", "/no/such/path"):
            response = client.get(path)
            assert "frame-ancestors 'none'" in response.headers.get_list("content-security-policy"), path
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["cross-origin-resource-policy"] == "same-origin"
        page = client.get("/")
        assert "connect-src 'self'" in page.headers["content-security-policy"]  # the page's own policy stays


def test_runs_beyond_the_cap_are_a_429_until_one_ends():
    with served(FOREVER, max_runs=2) as web, web.client() as client:
        first, _ = start_run(client), start_run(client)
        refused = client.post("/runs", json={"prompt": "one more"})
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith("2 runs are going, the most this server runs at once (--max-runs 2)")
        assert client.get("/agent/stream?prompt=more").status_code == 429
        assert len(web.run_tasks()) == 2
        client.post(f"/runs/{first}/cancel")
        assert client.post("/runs", json={"prompt": "now"}).status_code == 201


def test_a_request_too_large_to_be_a_prompt_is_a_413():
    with served(GARDEN) as web, web.client() as client:
        huge = client.post("/runs", json={"prompt": "x" * 1_100_000})
        assert huge.status_code == 413 and "over 1,000,000 bytes" in huge.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
            yield b'{"prompt": "'
            for _ in range(200):
                yield b"y" * 10_000
            yield b'"}'

        chunked = client.post("/runs", content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        long_query = client.get("/agent/stream", params={"prompt": "z" * 10_000})
        assert long_query.status_code == 413 and "POST /runs" in long_query.json()["detail"]
        assert client.get("/runs").json() == []


def test_listings_cut_a_long_prompt_and_the_run_gets_all_of_it():
    prompt = "plan the garden " + "with tulips " * 100
    with served(GARDEN) as web, web.client() as client:
        info = client.post("/runs", json={"prompt": prompt}).json()
        assert info["prompt"] == prompt[:200] + "…"
        assert [run["prompt"] for run in client.get("/runs").json()] == [prompt[:200] + "…"]
        with client.stream("GET", f"/runs/{info['run_id']}/events") as response:
            assert events(response)[0].prompt == prompt


def test_openapi_answers_with_the_token():
    with served(GARDEN, token="s3cret") as web, web.client() as client:
        schema = client.get("/openapi.json", headers={"Authorization": "Bearer s3cret"})
    assert schema.status_code == 200
    assert {"/agent/stream", "/runs", "/runs/{run_id}/events", "/runs/{run_id}/cancel"} <= schema.json()["paths"].keys()


def test_the_servers_log_masks_secrets_in_prompts(monkeypatch):
    secret = "sk-test-0123456789"
    monkeypatch.setenv("MY_API_KEY", secret)
    monkeypatch.setattr(server.log, "handlers", [])
    monkeypatch.setattr(server.log, "propagate", True)
    monkeypatch.setattr(server.log, "level", server.log.level)
    written = io.StringIO()
    server.log_to(written)
    with served(GARDEN) as web, web.client() as client:
        for prompt in (f"my key is {secret}, keep it", "x" * 52 + secret):  # the second is cut mid-secret
            with client.stream("GET", "/agent/stream", params={"prompt": prompt}) as response:
                assert events(response)[-1].status == "completed"
    started = [line for line in written.getvalue().splitlines() if " started: " in line]
    assert len(started) == 2 and "my key is [redacted], keep it" in started[0]
    assert secret[:5] not in written.getvalue()
