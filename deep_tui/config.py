"""Preferences kept between runs, in ``$XDG_CONFIG_HOME/deep-tui/config.toml`` (``~/.config/deep-tui/config.toml``).

A flat TOML file::

    theme = "nord"          # any of Textual's themes (the palette's "Theme" command lists them)
    side_column = false     # the todos and files column (F2 in the dashboard)

The dashboard writes it when one of these changes there, replacing only that key's line, so comments and
anything else in the file stay as they were. A file that cannot be read is reported and never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

Value = str | bool


@dataclass
class Preferences:
    """What the dashboard keeps between runs; the defaults stand for what the file does not say."""

    theme: str | None = None
    """A Textual theme's name; None keeps Textual's default."""
    side_column: bool = True


KINDS: dict[str, type] = {"theme": str, "side_column": bool}
"""Each setting of ``Preferences`` and the TOML type it takes."""
KIND_NAMES = {str: "a string in quotes", bool: "true or false"}


class ConfigError(Exception):
    """The file cannot be read or updated; the message says which file and why."""


def config_path() -> Path:
    """Where the preferences live (the XDG base directory spec: a relative ``XDG_CONFIG_HOME`` is ignored)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".config") / "deep-tui" / "config.toml"


def load(path: Path | None = None) -> tuple[Preferences, list[str]]:
    """The preferences, and what is wrong in the file (each problem one line); what is wrong is left at its
    default, the rest is used."""
    path = path or config_path()
    if not path.exists():  # the usual case costs no parser import before the first frame
        return Preferences(), []
    try:
        table = _parse(path)
    except ConfigError as exc:
        return Preferences(), [f"{exc}: using the defaults"]
    preferences, problems = Preferences(), []
    for key, value in table.items():
        kind = KINDS.get(key)
        if kind is None:
            problems.append(f"{path}: unknown setting {key!r} (known: {', '.join(KINDS)})")
        elif not isinstance(value, kind):
            problems.append(f"{path}: {key} must be {KIND_NAMES[kind]}, not {value!r}")
        else:
            setattr(preferences, key, value)
    return preferences, problems


def save(changes: dict[str, Value], path: Path | None = None) -> None:
    """Set ``changes`` in the file, creating it if need be; raises ``ConfigError`` rather than overwrite a file
    it cannot read, or write one it could not read back."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = "# deep-tui's preferences: see the README's Preferences section.\n"
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc})") from None
    _check(text, path)
    for key, value in changes.items():
        text = _set_line(text, key, value)
    if any(_check(text, path).get(key) != value for key, value in changes.items()):
        raise ConfigError(f"cannot update {path}: set {', '.join(changes)} there by hand")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as out:
            out.write(text)
        os.replace(out.name, path)  # whole or not at all, even if two dashboards save at once
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc})") from None


def _parse(path: Path) -> dict[str, object]:
    try:
        return _check(path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path} ({exc})") from None


def _check(text: str, path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc})") from None


def _set_line(text: str, key: str, value: Value) -> str:
    """``text`` with ``key = value`` in place of the key's line among the top-level keys, or added after them.

    A JSON string or boolean is a valid TOML one, with the same escapes.
    """
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
    table = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    head, tail = (text[: table.start()], text[table.start() :]) if table else (text, "")
    existing = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=.*$", re.MULTILINE)
    if existing.search(head):
        head = existing.sub(lambda _: line, head, count=1)
    else:
        head += ("\n" if head and not head.endswith("\n") else "") + line + "\n"
    return head + tail
