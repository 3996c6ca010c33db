"""A new kind of event cannot be forgotten: every registered view handles or ignores every kind."""

from __future__ import annotations

import importlib
from typing import Literal

import pytest

from deep_tui import dispatch
from deep_tui.events import BaseEvent


def registered_views() -> dict[str, dispatch.Table]:
    for where in dispatch.VIEW_MODULES:
        module, _, function = where.partition(":")
        imported = importlib.import_module(module)
        if function:
            getattr(imported, function)()
    return dispatch.views()


def test_the_fold_and_the_headless_display_are_registered():
    names = registered_views()
    assert "run state (deep_tui.state)" in names
    assert "headless progress (LiveProgress.show)" in names
    assert "dashboard (deep_tui.screens.dashboard)" in names
    assert "dashboard app (deep_tui.app)" in names


@pytest.mark.parametrize("name", sorted(registered_views()))
def test_every_view_handles_or_ignores_every_kind_of_event(name):
    table = registered_views()[name]
    assert dispatch.unhandled(table) == [], f"{name} says nothing about these kinds of event"
    assert dispatch.unknown(table) == [], f"{name} handles kinds that are not in the Event union"
    assert all(handler is dispatch.IGNORED or callable(handler) for handler in table.values())


def test_a_kind_added_to_the_union_is_reported_for_every_view(monkeypatch):
    class ApprovalRequested(BaseEvent):
        type: Literal["approval_requested"] = "approval_requested"

    monkeypatch.setattr(dispatch, "EVENT_KINDS", (*dispatch.EVENT_KINDS, ApprovalRequested))
    for table in registered_views().values():
        assert dispatch.unhandled(table) == ["ApprovalRequested"]


def test_the_kinds_are_read_from_the_union():
    names = {kind.__name__ for kind in dispatch.EVENT_KINDS}
    assert {"RunStarted", "RunFinished", "FilesChanged", "TextDelta"} <= names
    assert all(issubclass(kind, BaseEvent) for kind in dispatch.EVENT_KINDS)
