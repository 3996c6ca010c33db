"""``python -m deep_tui``: the same as the ``deep-tui`` command."""

from deep_tui.cli import main

raise SystemExit(main())
