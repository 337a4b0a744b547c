"""A log tail's thread handing lines to an app that is closing ends quietly (meshtui.screens.delivery).

The app runs for real, headless, in a fresh interpreter: the call is cut short when App.run()
shuts its loop down, which a Pilot test (its loop outlives the app) never does.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import asyncio, sys, threading
from textual.app import App
from meshtui.screens.delivery import deliver

finished = threading.Event()

class Closing(App):
    def on_mount(self):
        threading.Thread(target=self.tail, name="logtail-dispatch", daemon=True).start()

    def tail(self):
        deliver(self, self.take_lines)  # the loop cancels this call on its way out
        finished.set()

    async def take_lines(self):
        self.call_later(self.exit)  # the user quits while lines are being taken
        await asyncio.sleep(60)

Closing().run(headless=True)
print("thread finished" if finished.wait(10) else "thread still waiting")
"""


@pytest.mark.parametrize("call", ["deliver", "app.call_from_thread"])
def test_a_delivery_cut_short_by_quitting_leaves_no_traceback(call: str) -> None:
    script = SCRIPT if call == "deliver" else SCRIPT.replace("deliver(self, self.take_lines)",
                                                             "self.call_from_thread(self.take_lines)")
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    if call == "deliver":
        assert (child.returncode, child.stdout, child.stderr) == (0, "thread finished\n", "")
    else:  # what the tails did before: the thread died with a traceback after the app had closed
        assert "Exception in thread logtail-dispatch" in child.stderr and "CancelledError" in child.stderr
