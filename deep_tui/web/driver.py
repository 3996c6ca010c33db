"""The dashboard's end of a browser tab: Textual's web driver, ending as the dashboard does in a terminal.

``serve --tui`` starts each tab's dashboard with this driver. It differs from
Textual's own in how the process ends:

- Textual's driver handles SIGINT and SIGTERM on the event loop, and in doing
  so takes the signal wakeup descriptor from deep-tui's signal watcher
  (``deep_tui.signals``). A dashboard whose loop was stuck then ignored SIGTERM
  and SIGHUP for ever. The watcher gets the descriptor back, so those signals end
  the dashboard as in a terminal: cleanly, or within 8 s when it is stuck.
  SIGINT is then ignored: no terminal sends it to a tab's process (each runs in
  a session of its own), and the server ends tabs with SIGTERM.
- When the server goes away without asking it to quit (it was killed), the
  dashboard's input ends. That is a closed terminal, so the dashboard hangs up
  (keeps its session and exits) instead of staying behind with nobody to see it.
"""

from __future__ import annotations

import os
import signal
import threading

from textual.drivers.web_driver import WebDriver


class DashboardDriver(WebDriver):
    def start_application_mode(self) -> None:
        main = threading.current_thread() is threading.main_thread()
        watcher = signal.set_wakeup_fd(-1) if main else -1
        if watcher != -1:
            signal.set_wakeup_fd(watcher, warn_on_full_buffer=False)
        super().start_application_mode()
        if watcher != -1:  # Textual's signal handlers took it: SIGTERM and SIGHUP go to the watcher again
            signal.set_wakeup_fd(watcher, warn_on_full_buffer=False)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set() and hasattr(signal, "SIGHUP"):  # the input ended, not the app: hang up
            os.kill(os.getpid(), signal.SIGHUP)
