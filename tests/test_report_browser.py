"""The full report of a real run, opened in headless Chromium, in English and French.

One run of ``custseg run`` on the real Online Retail file writes the English
report (PNG figures); ``custseg report DIR --lang fr --figure-format svg``
rebuilds it in French with SVG figures from summary.json alone. Both pages are
opened in Debian's chromium through Playwright: every image must decode,
nothing may be fetched from the network, the console must stay silent, and the
headings must be in the page's language. Full-page screenshots are saved to
/tmp/report_full_en.png and /tmp/report_full_fr.png, and one screenshot per
section to /tmp/report_<lang>_<section>.png, for a human to look at.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from custseg.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECTIONS = {
    "en": [
        "1. Data and anomalies",
        "2. Preprocessing",
        "3. Segmentation methods",
        "4. Choosing hyper-parameters",
        "5. Segments, interpretation and marketing actions",
        "6. Comparison of methods",
        "7. Appendix: parameters, versions, timings",
    ],
    "fr": [
        "1. Données et anomalies",
        "2. Préparation des données",
        "3. Méthodes de segmentation",
        "4. Choix des hyperparamètres",
        "5. Segments, interprétation et actions marketing",
        "6. Comparaison des méthodes",
        "7. Annexe\u00a0: paramètres, versions, durées",
    ],
}
SUBHEADINGS = {
    "en": ["Cleaning", "Number of K-means segments (k)", "K-means segments", "RFM segments"],
    "fr": ["Nettoyage", "Nombre de segments des K-moyennes (k)", "Segments des K-moyennes"],
}
ENGLISH_WORDS = re.compile(r"\b(the|and|with|which|of|than|from|per|customers?|spend|orders?)\b")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reports(real_path, tmp_path_factory):
    """(folder, {lang: report path}) after one run (en, png) and one rebuild (fr, svg)."""
    root = tmp_path_factory.mktemp("browser")
    out = root / "run"
    assert main(["--quiet", "run", "--input", str(real_path), "--out", str(out)]) == 0
    english = root / "report_en.html"
    shutil.copy(out / "report.html", english)
    png = sorted(p.name for p in (out / "figures").iterdir())
    kept = {name: _digest(out / name) for name in ("summary.json", "customers.csv")}
    assert main(["--quiet", "report", str(out), "--lang", "fr", "--figure-format", "svg"]) == 0
    # rebuilt from summary.json alone: the run's other outputs are untouched
    assert {name: _digest(out / name) for name in kept} == kept
    svg = sorted(p.name for p in (out / "figures").iterdir())
    return out, {"en": english, "fr": out / "report.html"}, png, svg


def test_figures_are_written_as_png_then_svg(reports):
    out, _, png, svg = reports
    assert png and all(name.endswith(".png") for name in png)
    assert svg == [name.replace(".png", ".svg") for name in png]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["timings"]["report"] > 0  # the run timed its report


def _open(path: Path, lang: str) -> dict:
    sync_api = pytest.importorskip("playwright.sync_api")
    requests: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url[:80]}"))
            page.goto(path.as_uri(), wait_until="load")
            found = {
                "images": page.evaluate(
                    "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
                ),
                "lang": page.evaluate("document.documentElement.lang"),
                "title": page.title(),
                "h2": page.evaluate(
                    "Array.from(document.querySelectorAll('main h2')).map(h => h.innerText)"
                ),
                "h3": page.evaluate(
                    "Array.from(document.querySelectorAll('main h3')).map(h => h.innerText)"
                ),
                "text": page.inner_text("body"),
            }
            page.screenshot(path=f"/tmp/report_full_{lang}.png", full_page=True)
            for section in page.query_selector_all("main section"):
                key = section.get_attribute("id").removeprefix("section-")
                section.screenshot(path=f"/tmp/report_{lang}_{key}.png")
        finally:
            browser.close()
    found["requests"] = requests
    found["problems"] = problems
    return found


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_real_report_in_headless_chromium(reports, lang):
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium (apt install chromium)"
        )
    out, paths, png, _ = reports
    page = _open(paths[lang], lang)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))

    assert len(page["images"]) == len(png)  # every figure file is in the page
    assert all(complete and width > 0 for complete, width, _ in page["images"]), page["images"]
    assert all(u.startswith(("data:", "file:")) for u in page["requests"]), page["requests"]
    assert page["problems"] == []
    assert page["lang"] == {"en": "en-GB", "fr": "fr-FR"}[lang]
    assert page["h2"] == SECTIONS[lang]
    assert set(SUBHEADINGS[lang]) <= set(page["h3"])
    k = summary["kmeans"]["chosen_k"]
    text = page["text"]
    if lang == "en":
        assert page["title"] == "Customer segmentation report"
        assert f"k = {k} is retained" in text
        assert f"{summary['audit']['rows']:,} lines" in text
    else:
        assert page["title"] == "Rapport de segmentation de la clientèle"
        assert f"k = {k} est retenu" in text
        assert "Royaume-Uni" in text
        # every word is French, apart from code the reader types or finds in files
        # and identifiers such as the platform string (Linux-...-with-glibc2.36)
        words = re.sub(r"--[a-z-]+( [a-z0-9,.]+)?|customers\.csv|is_outlier|min_samples", " ", text)
        words = re.sub(r"\S*\d\S*", " ", words)
        assert ENGLISH_WORDS.findall(words) == []
