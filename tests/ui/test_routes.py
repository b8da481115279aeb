"""The web chat page: served from the package (fast), and driven in headless Chromium against a
real daemon and SmolLM2 (slow; skipped without Debian's chromium and chromium-driver)."""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyollama.ui.routes import FILES

STATIC = Path(__file__).resolve().parents[2] / "pyollama" / "ui" / "static"
# a 2x2 red PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAxMDAAAAnGQMBt4yqgQAAAABJRU5ErkJggg=="
)


async def test_page_and_files(client: Any) -> None:
    r = await client.get("/ui")
    assert r.status == 200 and r.content_type == "text/html"
    html = await r.text()
    assert '<select id="model">' in html and "/ui/app.js" in html
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    for name, kind in FILES.items():
        r = await client.get(f"/ui/{name}")
        assert r.status == 200 and r.content_type == kind
    assert (await client.get("/ui/../app.py")).status == 404
    assert (await client.get("/ui/secret.txt")).status == 404
    r = await client.get("/")
    assert await r.text() == "Ollama is running"  # Ollama's root stays as it is


def test_nothing_fetched_from_the_network() -> None:
    for name in FILES:
        text = (STATIC / name).read_text()
        for needle in (
            'src="http',
            "src='http",
            'href="http',
            "@import",
            'fetch("http',
            "fetch('http",
            "//cdn",
        ):
            assert needle not in text, (name, needle)


# --- headless Chromium ----------------------------------------------------------------------------


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    found = _chromium()
    if found is None:
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,800", f"--user-data-dir={tmp_path / 'chrome'}"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def last_text(browser: Any, selector: str) -> str:
    """The text of the last element matching `selector` (read in the page: the answer's node is
    replaced on every chunk, so a Python-side element reference would go stale)."""
    return str(
        browser.execute_script(
            "const m = document.querySelectorAll(arguments[0]);"
            "return m.length ? m[m.length - 1].textContent : '';",
            selector,
        )
    )


def wait_for(check: Callable[[], Any], timeout: float = 120.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


@pytest.mark.slow
def test_chat_in_headless_chromium(tmp_path: Path, smollm2_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from tests.server.daemon import Daemon, create_from_file, need_engine

    need_engine()
    d = Daemon(tmp_path, tmp_path / "models", env={"OLLAMA_NUM_PARALLEL": "1"})
    try:
        create_from_file(d.url, "smol", smollm2_path, parameters={"num_predict": 48, "temperature": 0})
        browser.get(d.url + "/ui")
        wait_for(
            lambda: browser.execute_script("return document.getElementById('model').value") == "smol:latest"
        )

        # a system prompt for this conversation
        browser.find_element(By.ID, "toggle-system").click()
        browser.find_element(By.ID, "system").send_keys("You are a helpful assistant. Answer in Markdown.")

        # type a prompt, see the answer stream in
        prompt = browser.find_element(By.ID, "prompt")
        prompt.send_keys("List three colours as a Markdown list.")
        prompt.send_keys(Keys.ENTER)
        lengths: set[int] = set()

        def answered() -> bool:
            text = last_text(browser, ".message.assistant .content")
            lengths.add(len(text))
            return bool(browser.execute_script("return document.getElementById('stop').hidden")) and bool(
                text
            )

        wait_for(answered, every=0.02)
        assert len(lengths - {0}) >= 2, lengths  # it grew while streaming
        stats = last_text(browser, ".message.assistant .stats")
        assert "tokens" in stats
        user = last_text(browser, ".message.user .content")
        assert user == "List three colours as a Markdown list."
        shot = Path(os.environ.get("PYOLLAMA_UI_SCREENSHOT", str(tmp_path / "ui.png")))
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000

        # Stop aborts a running answer
        prompt.send_keys("Write a long story about a dragon.")
        prompt.send_keys(Keys.ENTER)
        wait_for(lambda: browser.find_element(By.ID, "stop").is_displayed())
        before = len(browser.find_elements(By.CSS_SELECTOR, ".message.assistant"))
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".message.assistant")) == before)
        wait_for(lambda: last_text(browser, ".message.assistant .content"), every=0.01)
        browser.find_element(By.ID, "stop").click()
        wait_for(
            lambda: browser.find_elements(By.CSS_SELECTOR, ".message.assistant .stats")[-1].text == "stopped"
        )
        ps = wait_for(
            lambda: browser.execute_script(
                "return fetch('/api/ps').then(r => r.json()).then(b => b.models.length)"
            )
        )
        assert ps == 1

        # the conversation survives a reload (localStorage)
        browser.refresh()
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 2)

        # images attach (thumbnails before sending)
        png = tmp_path / "red.png"
        png.write_bytes(PNG)
        browser.find_element(By.ID, "images").send_keys(str(png))
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#attachments img.thumb"))

        # Markdown, escaping, and thinking folded
        html = browser.execute_script(
            "return pyollamaMarkdown.render('**bold** and `x<y`\\n\\n- a\\n- b\\n\\n```py\\nprint(1)\\n```"
            "\\n<script>alert(1)</script>')"
        )
        assert "<strong>bold</strong>" in html and "<code>x&lt;y</code>" in html
        assert "<ul><li>a</li><li>b</li></ul>" in html and '<code class="language-py">print(1)</code>' in html
        assert "<script>" not in html and "&lt;script&gt;" in html
        folded = browser.execute_script(
            "const m = {role: 'assistant', thinking: 'hmm *deep*', content: 'ok'};"
            "const el = pyollamaChat.renderMessage(m);"
            "const d = el.querySelector('details.thinking');"
            "return [d !== null, d && d.open, d && d.textContent, el.querySelector('.content').textContent];"
        )
        assert folded == [True, False, "Thoughthmm deep", "ok"]
        logs = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert not [e for e in logs if "favicon" not in e.get("message", "")], logs
    finally:
        d.stop()
