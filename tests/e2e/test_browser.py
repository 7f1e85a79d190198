"""The lab's MultiQC report in a real browser: headless Chromium (Debian's ``chromium``).

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands
on file descriptor 3, replies on 4, each a JSON message ending in a NUL byte), so no extra
package is needed. The test loads the report of the demo run, waits until the plots are drawn,
checks that the sections are there and rendered, that no JavaScript error was thrown or logged,
and saves a screenshot next to the report: ``results/qc/multiqc_report.png``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
WIDTH, HEIGHT = 1400, 2000
#: Sections the lab reads, by element id, in report order.
SECTIONS = (
    "general_stats",
    "mqc-module-section-genomflow_qc",
    "mqc-module-section-genomflow_identity",
    "mqc-module-section-fastp",
    "mqc-module-section-samtools",
    "mqc-module-section-mosdepth",
    "mqc-module-section-bcftools",
)
#: Plots and tables that must be drawn.
DRAWN = (
    "general_stats_table_table",
    "genomflow_qc_status_table_table",
    "genomflow_identity_heatmap",
    "genomflow_identity_pairs_table_table",
    "genomflow_structural_table_table",
)


@dataclass
class DevTools:
    """A minimal DevTools-protocol client over Chromium's pipe."""

    process: subprocess.Popen[bytes]
    commands: int
    replies: int
    session: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 0
    _buffer: bytes = b""

    def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.replies], [], [], max(left, 0))
            if not ready:
                raise AssertionError("no reply from Chromium in time")
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                raise AssertionError(f"Chromium exited ({self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def errors(self) -> list[str]:
        """JavaScript exceptions and error messages seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                found.append(f"exception: {text}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url')}")
        return found


@pytest.fixture
def chromium() -> Iterator[DevTools]:
    executable = shutil.which("chromium")
    if executable is None:
        message = "chromium not installed (make setup installs Debian's chromium package)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    # Chromium reads commands on fd 3 and writes replies on fd 4. The child's ends are first
    # copied above 10, so that putting them on 3 and 4 cannot overwrite one with the other.
    child_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
    child_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
    for fd in (to_chrome_r, from_chrome_w):
        os.close(fd)
    profile = tempfile.mkdtemp(prefix="genomflow-chromium-")

    def pipe_fds() -> None:  # in the child, before exec: only dup2, async-signal-safe
        os.dup2(child_in, 3)
        os.dup2(child_out, 4)

    process = subprocess.Popen(
        [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(3, 4),
        preexec_fn=pipe_fds,
    )
    os.close(child_in)
    os.close(child_out)
    client = DevTools(process, commands=to_chrome_w, replies=from_chrome_r)
    try:
        yield client
    finally:
        process.kill()
        process.wait(timeout=30)
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        shutil.rmtree(profile, ignore_errors=True)


def _open_page(browser: DevTools, url: str) -> None:
    targets = browser.send("Target.getTargets")["targetInfos"]
    page = next(t for t in targets if t["type"] == "page")
    browser.session = browser.send(
        "Target.attachToTarget", targetId=page["targetId"], flatten=True
    )["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable")
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=WIDTH,
        height=HEIGHT,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.send("Page.navigate", url=url)
    browser.wait_for("Page.loadEventFired", timeout=60)


def _wait_until_drawn(browser: DevTools, timeout: float = 60) -> dict[str, int]:
    """Wait until every plot in :data:`DRAWN` has content; the counts of drawn elements."""
    expression = (
        f"Object.fromEntries({json.dumps(DRAWN)}.map(id => {{"
        " const e = document.getElementById(id);"
        " return [id, e ? e.querySelectorAll('svg, tr').length : -1]; }))"
    )
    deadline = time.monotonic() + timeout
    while True:
        drawn: dict[str, int] = browser.evaluate(expression)
        if all(count > 0 for count in drawn.values()) or time.monotonic() > deadline:
            return drawn
        time.sleep(0.25)


def test_report_renders_every_section_without_javascript_errors(
    demo_qc_run: Path, chromium: DevTools
) -> None:
    report = demo_qc_run / "results" / "qc" / "multiqc_report.html"
    started = time.monotonic()
    _open_page(chromium, report.as_uri())
    drawn = _wait_until_drawn(chromium)
    assert all(count > 0 for count in drawn.values()), drawn

    positions = chromium.evaluate(
        f"{json.dumps(SECTIONS)}.map(id => {{ const e = document.getElementById(id);"
        " return e ? e.getBoundingClientRect().top + window.scrollY : null; })"
    )
    assert None not in positions, dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions), dict(zip(SECTIONS, positions, strict=True))
    assert chromium.evaluate("document.title").startswith("e2e QC batch")
    # The identity heatmap is drawn by Plotly: one cell label per pair of the trio.
    assert chromium.evaluate(
        "document.querySelectorAll('#genomflow_identity_heatmap .main-svg').length"
    )
    rows = chromium.evaluate(
        "[...document.querySelectorAll('#genomflow_qc_status_table_table tbody th')]"
        ".map(th => th.textContent.trim())"
    )
    assert rows == ["RD001", "RD002", "RD003"]
    # Issue #15: General Statistics lists samples, not their sequencing units (RD001.L001 ...),
    # and the QC summary is on screen once.
    general = chromium.evaluate(
        "[...document.querySelectorAll('#general_stats_table_table tbody th')]"
        ".map(th => th.textContent.trim())"
    )
    assert general == ["RD001", "RD002", "RD003"], general
    summary = chromium.evaluate(
        "document.body.innerText.split('Every metric is checked against the thresholds').length"
    )
    assert summary == 2  # one occurrence
    badges = chromium.evaluate(
        "[...document.querySelectorAll('#genomflow_qc_status_table_table .badge')]"
        ".map(b => getComputedStyle(b).backgroundColor)"
    )
    assert badges and set(badges) == {"rgb(92, 184, 92)"}  # every cell a green PASS

    # Issue #16: the SV/CNV table, a row per sample, its PASS calls by type.
    structural = chromium.evaluate(
        "[...document.querySelectorAll('#genomflow_structural_table_table tbody tr')]"
        ".map(tr => [...tr.querySelectorAll('th, td')].map(c => c.textContent.trim()))"
    )
    assert [row[0] for row in structural] == ["RD001", "RD002", "RD003"], structural
    print(f"SV/CNV table: {structural}")

    shot = chromium.send("Page.captureScreenshot", format="png", timeout=60)["data"]
    screenshot = report.with_suffix(".png")
    screenshot.write_bytes(base64.b64decode(shot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000
    print(f"\nscreenshot: {screenshot} ({time.monotonic() - started:.1f} s)")
    assert chromium.errors() == []
