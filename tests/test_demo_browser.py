"""The web demo in a real browser: headless Chromium (Debian's, through Selenium) drives the page.

Uploads the example views, presses Reconstruct, waits for the result and checks that the 3D viewer
and the download links are there; the screenshot is saved in the test's temporary folder (its path is
printed). Skipped, with the reason, where Chromium, its driver, Selenium or Gradio is missing:
``apt-get install chromium chromium-driver`` and ``pip install selenium`` (``.ci/run`` does both).
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from pix2vox.demo import EXAMPLES, Demo, build_app

CHROMIUM = next((path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None)
DRIVER = shutil.which("chromedriver")
TIMEOUT_S = 180

pytestmark = [
    pytest.mark.slow,  # a browser: run with -m slow, as CI does
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="Chromium or chromedriver is missing (apt-get install chromium chromium-driver)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def server(tmp_path):
    pytest.importorskip("gradio")
    demo = Demo(workdir=tmp_path / "files")
    app = build_app(demo)
    port = _free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                       show_error=False, allowed_paths=[str(demo.workdir)])
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@pytest.fixture()
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is missing (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1600",
                     "--enable-unsafe-swiftshader", "--use-angle=swiftshader"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_upload_reconstruct_view_and_download(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    views = sorted((EXAMPLES / "chair").glob("*.png"))[:3]
    wait = WebDriverWait(browser, TIMEOUT_S)
    browser.get(server)
    upload = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#views input[type=file]")))
    upload.send_keys("\n".join(str(p) for p in views))
    wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#views a, #views .file-name")) >= len(views))
    wait.until(ready.element_to_be_clickable((By.ID, "reconstruct"))).click()
    wait.until(lambda driver: "voxels at threshold" in driver.find_element(By.ID, "summary").text)
    viewer = wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, "#mesh canvas")))
    links = wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#downloads a[href]") or None)
    screenshot = tmp_path / "demo.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot: {screenshot}")
    assert viewer.is_displayed()
    names = {Path(link.get_attribute("href").split("?")[0]).suffix for link in links}
    assert {".obj", ".glb", ".binvox"} <= names, names
    assert "3 views" in browser.find_element(By.ID, "summary").text
    assert screenshot.stat().st_size > 10_000
