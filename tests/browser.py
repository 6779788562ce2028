"""A real headless Chromium driven over its DevTools protocol (``--remote-debugging-pipe``), with the standard library.

It opens a page with the network cut off, and records every request the page makes and every error it logs.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
    # Every host name fails to resolve: nothing could be fetched even if the page asked.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)  # fmt: skip

# Moves both pipe ends above 4 first, so that neither dup2 clobbers the other, then becomes the browser.
WIRE_PIPES = """
import fcntl, os, sys
read, write = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(read, 3)
os.dup2(write, 4)
os.close(read)
os.close(write)
os.execv(sys.argv[3], sys.argv[3:])
"""


@dataclass
class PageVisit:
    """What happened while a page loaded: requests other than the page itself, errors, and the page's layout."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    content_width: float = 0.0
    content_height: float = 0.0
    values: dict[str, Any] = field(default_factory=dict)  # what each expression asked of the page gave


class Chromium:
    """One browser process; use as a context manager."""

    def __init__(self) -> None:
        if CHROMIUM is None:
            raise RuntimeError("chromium is not installed")
        self.profile = tempfile.mkdtemp(prefix="rnnbench-chromium-")
        to_browser_read, self.to_browser = os.pipe()
        self.from_browser, from_browser_write = os.pipe()

        # The browser reads commands on fd 3 and writes replies on fd 4. A small Python process puts the pipe ends
        # there and execs the browser: a preexec_fn would fork this (multithreaded, JAX-running) test process.
        self.process = subprocess.Popen(
            [sys.executable, "-c", WIRE_PIPES, str(to_browser_read), str(from_browser_write), CHROMIUM, *FLAGS,
             f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(to_browser_read, from_browser_write),
        )  # fmt: skip
        os.close(to_browser_read)
        os.close(from_browser_write)
        self.next_id = 0
        self.buffer = b""
        self.pending: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no message from chromium in time")
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium closed its pipe (exit status {self.process.poll()})")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:  # fmt: skip
        """Send a command and wait for its reply; events that arrive meanwhile are kept for :meth:`events`."""
        self.next_id += 1
        command: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self.to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.pending.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for index, message in enumerate(self.pending):
            if message.get("method") == method:
                return self.pending.pop(index)
        while True:
            message = self._read_message(deadline)
            if message.get("method") == method:
                return message
            self.pending.append(message)

    def visit(
        self, url: str, width: int, height: int, mobile: bool = False, measures: dict[str, str] | None = None
    ) -> PageVisit:
        """Load ``url`` offline in a fresh tab of ``width`` x ``height`` CSS pixels; screenshot the whole page.
        ``measures``: JavaScript expressions to evaluate in the loaded page, by name (their values in ``values``)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                       "uploadThroughput": -1}, session)  # fmt: skip
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}, session)  # fmt: skip
        self.pending.clear()
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired")
        # Let late events (a failing request, an error logged after load) arrive.
        self.send("Runtime.evaluate", {"expression": "new Promise(r => setTimeout(r, 300))", "awaitPromise": True},
                  session)  # fmt: skip
        visit = PageVisit()
        for message in self.pending:
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.requestWillBeSent":
                requested = params["request"]["url"]
                if requested != url and not requested.startswith("data:"):
                    visit.requests.append(requested)
            elif method == "Runtime.exceptionThrown":
                visit.errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                visit.errors.append(params["entry"]["text"])
        for name, expression in (measures or {}).items():
            reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
            visit.values[name] = reply["result"].get("value")
        size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        visit.content_width, visit.content_height = size["width"], size["height"]
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                         "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}},
                         session)  # fmt: skip
        visit.screenshot = base64.b64decode(shot["data"])
        self.send("Target.closeTarget", {"targetId": target})
        return visit


def file_url(path: Path) -> str:
    return path.resolve().as_uri()
