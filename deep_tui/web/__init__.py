"""deep-tui over HTTP: a run's events as Server-Sent Events, a live page, and the dashboard in a browser.

``auth`` is standard library only, so the command line can check the host and
token rule before the ``web`` extra (FastAPI, uvicorn, textual-serve) is imported;
``server`` is the event stream and page, ``tui`` the dashboard through textual-serve.
"""
