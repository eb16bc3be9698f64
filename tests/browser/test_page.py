#!/usr/bin/env python3
"""Browser test of the `nmt serve` web page: headless Chromium driven by Selenium.

Run by tests/browser/run.sh, which starts the server. Usage:
  test_page.py --url http://127.0.0.1:PORT/ [--screenshot PATH] [--chromium BIN] [--chromedriver BIN]

Every check prints `ok - NAME` or `FAIL - NAME: why`; the last line is `checks: P passed, F failed`.
Exit status: 0 when all passed, 1 otherwise, 2 when the browser could not be started at all.
"""
import argparse
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

SENTENCE = "Ein Mann fährt mit dem Fahrrad."
LONG = "Ein Mann fährt mit dem Fahrrad durch die Stadt und zwei Hunde spielen im Schnee am Strand."


class CheckFailed(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise CheckFailed(why)


def wait_until(fn, timeout=20.0, what="condition"):
    """Polls fn() until it returns something truthy (returned) or the timeout passes."""
    end = time.time() + timeout
    last_exc = None
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # the DOM may be mid-update
            last_exc = e
        time.sleep(0.1)
    raise CheckFailed("timed out waiting for " + what + (f" (last error: {last_exc})" if last_exc else ""))


class PageTest:
    def __init__(self, args):
        self.url = args.url.rstrip("/") + "/"
        self.shot = args.screenshot
        self.passed = 0
        self.failed = 0
        opts = webdriver.ChromeOptions()
        if args.chromium:
            opts.binary_location = args.chromium
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-extensions", "--no-first-run", "--hide-scrollbars", "--lang=en-US",
                  "--window-size=1280,900"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=args.chromedriver) if args.chromedriver else Service()
        self.d = webdriver.Chrome(service=service, options=opts)
        self.d.set_page_load_timeout(30)
        self.d.set_script_timeout(30)

    # ---- helpers ----
    def api(self, path, body):
        req = urllib.request.Request(self.url.rstrip("/") + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read().decode("utf-8"))

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def el(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def els(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def type_text(self, text, clear=True):
        ta = self.el("#src")
        if clear:
            ta.send_keys(Keys.CONTROL, "a")
            ta.send_keys(Keys.DELETE)
        ta.send_keys(text)

    def shown_for(self, text):
        """Waits until the page shows the translation of `text`; returns (translation, request)."""
        def ready():
            r = self.js("var t=document.getElementById('translation');"
                        "return [t.dataset.src, t.dataset.request, t.textContent,"
                        " document.getElementById('out').getAttribute('aria-busy')];")
            return r if r[0] == text and r[3] == "false" else None
        src, req, shown, _ = wait_until(ready, 30, "the translation of " + repr(text))
        return shown, json.loads(req)

    def hover(self, e):
        self.js("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", e)
        ActionChains(self.d).move_to_element(e).perform()

    def click(self, css):
        e = self.el(css)
        self.js("arguments[0].scrollIntoView({block: 'center'})", e)
        e.click()

    def hl(self, css):
        return self.js("return Array.from(document.querySelectorAll(arguments[0])).map("
                       "e => [e.dataset.i == null ? null : +e.dataset.i, e.dataset.j == null ? null : +e.dataset.j])", css)

    def screenshot(self, width, path):
        self.d.set_window_size(width, 900)
        time.sleep(0.3)
        height = self.js("return document.documentElement.scrollHeight")
        self.d.set_window_size(width, max(600, min(int(height) + 120, 2600)))
        self.js("window.scrollTo(0, 0)")
        time.sleep(0.4)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        expect(self.d.save_screenshot(path), "could not save " + path)
        expect(os.path.getsize(path) > 1000, path + " is (nearly) empty")
        print(f"# screenshot {width}px: {path}")

    def reset(self):
        """Each check starts on the Translate tab, with the real fetch, at the top, 1280 wide."""
        self.js("if (window.__origFetch) window.fetch = window.__origFetch;"
                "if (document.getElementById('tab-translate').getAttribute('aria-selected') !== 'true')"
                "  document.getElementById('tab-translate').click();"
                "window.scrollTo(0, 0);")
        if self.d.get_window_size()["width"] != 1280:
            self.d.set_window_size(1280, 900)

    def check(self, name, fn):
        try:
            if self.d.current_url.startswith("http"):
                self.reset()
            fn()
            self.passed += 1
            print(f"ok - {name}", flush=True)
        except Exception as e:
            self.failed += 1
            why = str(e) if isinstance(e, CheckFailed) else "".join(
                traceback.format_exception_only(type(e), e)).strip()
            print(f"FAIL - {name}: {why}", flush=True)

    # ---- checks ----
    def page_loads(self):
        self.d.get(self.url)
        expect("nmt" in self.d.title, "title is " + repr(self.d.title))
        expect(self.el("label[for=src]").text.strip(), "the text box has no label")
        expect(self.el("#src").get_attribute("lang") == "de", "the text box is not marked German")
        tabs = [t.text for t in self.els("[role=tab]")]
        expect(tabs == ["Translate", "Inside the model"], "tabs are " + repr(tabs))
        # Self-contained: no resource from elsewhere, nothing but this page and its own API.
        external = self.js("return Array.from(document.querySelectorAll('[src],[href]'))"
                           ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
                           ".filter(u => /^(https?:)?\\/\\//i.test(u))")
        expect(not external, "external references: " + repr(external))
        wait_until(lambda: self.el("#model-name").text not in ("", "connecting…"), 10, "the model name from /health")
        health = json.loads(urllib.request.urlopen(self.url + "health", timeout=10).read())
        expect(self.el("#model-name").text == health["model"],
               f"badge shows {self.el('#model-name').text!r}, /health says {health['model']!r}")
        res = self.js("return performance.getEntriesByType('resource').map(e => e.name)"
                      ".filter(u => !u.startsWith(location.origin + '/'))")
        expect(not res, "resources from elsewhere: " + repr(res))

    def translation_matches_api(self):
        self.type_text(SENTENCE)
        shown, req = self.shown_for(SENTENCE)
        want = {"text": SENTENCE, "beam": 3, "attention": True, "alternatives": 3, "format": "text"}
        expect(req == want, f"page sent {req}, expected {want}")
        api = self.api("/v1/translate", req)
        self.answer = api["translations"][0]["sentences"][0]  # one sentence: its own answer
        expect(shown == api["translations"][0]["text"] == self.answer["text"],
               f"page shows {shown!r}, API says {self.answer['text']!r}")
        expect(self.el("#model-name").text == api["model"], "model badge differs from the API's model")
        meta = self.el("#meta").text
        expect("beam 3" in meta, "meta line lacks the beam: " + repr(meta))

    def paragraph_sentence_by_sentence(self):
        para = "Ein Mann fährt Fahrrad. Zwei Hunde spielen im Schnee. Eine Frau liest ein Buch im Park."
        self.type_text(para)
        shown, req = self.shown_for(para)
        api = self.api("/v1/translate", req)["translations"][0]
        expect(shown == api["text"], f"page shows {shown!r}, API says {api['text']!r}")
        expect(len(api["sentences"]) == 3, f"the API cut the paragraph into {len(api['sentences'])} sentences")
        spans = self.els("#translation .sent")
        expect([e.text for e in spans] == [t["text"] for t in api["sentences"]],
               "the page's sentences differ from the API's")
        # A click on the second sentence shows its heatmap and says which sentence it is.
        self.js("arguments[0].scrollIntoView({block: 'center'})", spans[1])
        spans[1].click()
        wait_until(lambda: "sentence 2/3" in self.el("#meta").text, 10, "sentence 2/3 in the meta line")
        rows = self.js("return document.querySelectorAll('#heatmap tbody tr').length")
        expect(rows == len(api["sentences"][1]["attention"]),
               f"heatmap has {rows} rows, the second sentence's attention {len(api['sentences'][1]['attention'])}")
        expect("sel" in spans[1].get_attribute("class"), "the clicked sentence is not marked")

    def heatmap_geometry(self):
        t = self.answer
        att = t["attention"]
        S, T = len(t["src_tokens"]), len(t["tokens"])
        expect(len(att) in (T, T + 1), f"API attention has {len(att)} rows for {T} output tokens")
        expect(all(len(r) == S + 2 for r in att), f"API attention rows are not S+2={S + 2} wide")
        rows = self.js("return Array.from(document.querySelectorAll('#heatmap tbody tr')).map("
                       "tr => Array.from(tr.querySelectorAll('td.cell')).map(td => +td.dataset.w))")
        expect(len(rows) == len(att), f"heatmap has {len(rows)} rows, API {len(att)}")
        expect(all(len(r) == S + 2 for r in rows), "heatmap rows are not S+2 cells wide")
        n = len(self.els("#heatmap td.cell"))
        expect(n == len(att) * (S + 2), f"{n} cells, expected {len(att)} x {S + 2}")
        worst = max(abs(a - b) for ra, rb in zip(att, rows) for a, b in zip(ra, rb))
        expect(worst < 1e-5, f"cell weights differ from the API's by up to {worst}")
        # Shading follows the weight: the darkest cell of each row is the API's argmax.
        lum = self.js("return Array.from(document.querySelectorAll('#heatmap tbody tr')).map(tr =>"
                      " Array.from(tr.querySelectorAll('td.cell')).map(td => {"
                      " const m = getComputedStyle(td).backgroundColor.match(/\\d+(\\.\\d+)?/g).map(Number);"
                      " return 0.2126*m[0] + 0.7152*m[1] + 0.0722*m[2]; }))")
        for i, (ra, rl) in enumerate(zip(att, lum)):
            if max(ra) - sorted(ra)[-2] > 0.02:  # a clear maximum
                expect(rl.index(min(rl)) == ra.index(max(ra)), f"row {i}: darkest cell is not the largest weight")
        cols = [e.get_attribute("textContent") for e in self.els("#heatmap thead th.src-tok")]
        want_cols = ["<sos>"] + [s.replace("\u2581", "") for s in t["src_tokens"]] + ["<eos>"]
        expect([c.replace("·", "") for c in cols] == want_cols, f"column labels {cols} != {want_cols}")
        labels = [e.get_attribute("textContent") for e in self.els("#heatmap tbody th.out-tok")]
        want_rows = [s.replace("\u2581", "") for s in t["tokens"]] + (["<eos>"] if len(att) == T + 1 else [])
        expect([c.replace("·", "") for c in labels] == want_rows, "row labels differ from the output tokens")

    def hover_highlights(self):
        self.d.set_window_size(1280, 900)
        nrows = len(self.answer["attention"])
        i, j = min(1, nrows - 1), 2
        cell = self.el(f'#heatmap td.cell[data-i="{i}"][data-j="{j}"]')
        self.hover(cell)
        wait_until(lambda: "hl-cell" in cell.get_attribute("class"), 5, "the hovered cell to be highlighted")
        line = self.hl("#heatmap td.hl-line, #heatmap td.hl-cell")
        ncols = len(self.answer["attention"][0])
        want = {(i, k) for k in range(ncols)} | {(k, j) for k in range(nrows)}
        expect({tuple(x) for x in line} == want, f"highlighted cells are not exactly row {i} and column {j}")
        heads = self.hl("#heatmap th.hl-h")
        expect(sorted(map(tuple, heads), key=str) == sorted([(i, None), (None, j)], key=str),
               f"highlighted headers {heads}")
        info = self.el("#hm-info").text
        value = f"{self.answer['attention'][i][j]:.3f}"
        expect(value in info, f"info line {info!r} lacks the value {value}")
        # A source word highlights its column only.
        head = self.el(f'#heatmap th.src-tok[data-j="{j + 1}"]')
        self.hover(head)
        wait_until(lambda: "hl-h" in head.get_attribute("class"), 5, "the source word to be highlighted")
        col = {tuple(x) for x in self.hl("#heatmap td.hl-line")}
        expect(col == {(k, j + 1) for k in range(nrows)}, "a source word did not highlight exactly its column")
        # An output word highlights its row only.
        head = self.el('#heatmap th.out-tok[data-i="0"]')
        self.hover(head)
        wait_until(lambda: "hl-h" in head.get_attribute("class"), 5, "the output word to be highlighted")
        row = {tuple(x) for x in self.hl("#heatmap td.hl-line")}
        expect(row == {(0, k) for k in range(ncols)}, "an output word did not highlight exactly its row")
        # Leaving the table clears it.
        self.hover(self.el("#src"))
        wait_until(lambda: not self.els("#heatmap .hl-line, #heatmap .hl-h, #heatmap .hl-cell"), 5,
                   "highlights to clear after leaving the table")

    def beam_and_alternatives(self):
        self.js("window.scrollTo(0, 0)")
        self.click("label[for=beam-5]")
        wait_until(lambda: json.loads(self.el("#translation").get_attribute("data-request") or "{}").get("beam") == 5,
                   20, "a beam-5 translation")
        shown, req = self.shown_for(SENTENCE)
        expect(req == {"text": SENTENCE, "beam": 5, "attention": True, "alternatives": 5,
                       "format": "text"}, f"page sent {req}")
        api = self.api("/v1/translate", req)["translations"][0]["sentences"][0]
        expect(shown == api["text"], "beam 5: translation differs from the API")
        expect(self.el("#alts-wrap").is_displayed(), "alternatives are not shown for beam 5")
        items = self.els("#alts li")
        expect(len(items) == len(api["alternatives"]), f"{len(items)} alternatives shown, API has {len(api['alternatives'])}")
        for li, a in zip(items, api["alternatives"]):
            txt = li.find_element(By.CSS_SELECTOR, ".txt").get_attribute("textContent")
            expect(txt == (a["text"] or "(empty)"), f"alternative {txt!r} != {a['text']!r}")
            score = li.find_element(By.CSS_SELECTOR, ".score").get_attribute("textContent").replace("\u2212", "-")
            expect(abs(float(score) - a["score"]) < 1e-3, f"score {score} != {a['score']}")
        self.click("label[for=beam-1]")
        wait_until(lambda: json.loads(self.el("#translation").get_attribute("data-request") or "{}").get("beam") == 1,
                   20, "a beam-1 translation")
        shown, req = self.shown_for(SENTENCE)
        expect(req == {"text": SENTENCE, "beam": 1, "attention": True, "format": "text"}, f"beam 1: page sent {req}")
        expect(shown == self.api("/v1/translate", req)["translations"][0]["text"], "beam 1: translation differs from the API")
        expect(not self.el("#alts-wrap").is_displayed(), "alternatives still shown for beam 1")
        self.click("label[for=beam-3]")
        wait_until(lambda: json.loads(self.el("#translation").get_attribute("data-request") or "{}").get("beam") == 3,
                   20, "back to beam 3")

    def stale_responses_ignored(self):
        # Answers for text containing "Hund" come back 1.5 s late: the later request must win.
        self.js("""
          if (!window.__origFetch) window.__origFetch = window.fetch;
          window.fetch = (u, o) => {
            if (!(o && o.body && o.body.includes('Hund'))) return window.__origFetch(u, o);
            // Slow, and deaf to abort(): the page itself must drop the late answer.
            return window.__origFetch(u, Object.assign({}, o, {signal: undefined})).then(r => r.text().then(t =>
              new Promise(ok => setTimeout(() => ok(new Response(t, {status: r.status, headers: r.headers})), 1500))));
          };""")
        self.type_text("Zwei Hunde")
        time.sleep(0.6)  # past the debounce: the slow request is on its way
        final = "Zwei Katzen schlafen."
        self.type_text(final)
        shown, req = self.shown_for(final)
        time.sleep(2.0)  # the slow answer arrives now and must be ignored
        now = self.js("var t=document.getElementById('translation'); return [t.dataset.src, t.textContent]")
        self.js("window.fetch = window.__origFetch")
        expect(now[0] == final, f"a stale answer replaced the current one (now for {now[0]!r})")
        api = self.api("/v1/translate", req)["translations"][0]
        expect(now[1] == api["text"], "translation differs from the API's for the final text")
        # Typing fast sends one request after the pause, for the whole text.
        self.js("window.__sent = []; window.fetch = (u, o) => { if (String(u).includes('translate')) window.__sent.push(JSON.parse(o.body).text); return window.__origFetch(u, o); }")
        self.type_text("")
        typed = "Ein Hund"
        for ch in typed:  # a key every 80 ms: faster than the debounce
            self.el("#src").send_keys(ch)
            time.sleep(0.08)
        self.shown_for(typed)
        sent = self.js("var s = window.__sent; window.fetch = window.__origFetch; return s")
        expect(sent and sent[-1] == typed, f"last request was for {sent[-1:]!r}")
        expect(len(sent) <= 4, f"typing {len(typed)} characters sent {len(sent)} requests (no debounce?)")

    def errors_shown_politely(self):
        self.js("""window.fetch = (u, o) => String(u).includes('/v1/') ? Promise.resolve(new Response(
                  JSON.stringify({error: 'request body too large'}), {status: 413, headers: {'Content-Type': 'application/json'}}))
                  : window.__origFetch(u, o);""")
        self.type_text("Ein Hund.")
        box = wait_until(lambda: self.el("#error") if self.el("#error").is_displayed() else None, 10, "the error message")
        expect(box.get_attribute("role") == "alert", "the error box is not role=alert")
        text = box.text
        expect("too long" in text and "request body too large" in text, "error text: " + repr(text))
        expect("{" not in text, "raw JSON shown to the user: " + repr(text))
        self.js("window.fetch = () => Promise.reject(new TypeError('Failed to fetch'))")
        self.type_text("Ein Hund läuft.")
        wait_until(lambda: "reach" in self.el("#error").text, 10, "the network error message")
        self.js("window.fetch = window.__origFetch")
        self.type_text(SENTENCE)
        self.shown_for(SENTENCE)
        wait_until(lambda: not self.el("#error").is_displayed(), 10, "the error to clear after a good answer")

    def inside_the_model(self):
        if self.el("#translation").get_attribute("data-src") != SENTENCE:
            self.type_text(SENTENCE)
            self.shown_for(SENTENCE)
        self.click("#tab-inside")
        expect(self.el("#tab-inside").get_attribute("aria-selected") == "true", "tab not selected")
        expect(not self.el("#view-translate").is_displayed(), "the translate view is still shown")
        exp = self.api("/v1/explain", {"text": SENTENCE})
        wait_until(lambda: len(self.els("#stages .stage")) == len(exp["encoder"]) and self.el("#ins-body").is_displayed(),
                   30, "the encoder stages")
        names = [e.get_attribute("data-name") for e in self.els("#stages .stage")]
        expect(names == [s["name"] for s in exp["encoder"]], f"stages {names}")
        for e, s in zip(self.els("#stages .stage"), exp["encoder"]):
            shape = e.find_element(By.CSS_SELECTOR, ".shape").text
            want = "[" + " × ".join(map(str, s["shape"])) + "]"
            expect(shape == want, f"{s['name']}: shape {shape!r} != {want!r}")
            expect(len(e.find_elements(By.CSS_SELECTOR, ".strip i")) > 0, f"{s['name']}: no value strips")
            if s.get("rows"):
                expect(len(e.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(s["rows"]), f"{s['name']}: row count")
        sizes = self.el("#sizes").text
        expect(f"{exp['sizes']['parameters']:,}" in sizes, "parameter count missing: " + repr(sizes))
        steps = exp["steps"]
        cards = self.els("#steps .step")
        expect(len(cards) == min(len(steps), 24), f"{len(cards)} step cards for {len(steps)} steps")
        first = cards[0]
        expect(len(first.find_elements(By.CSS_SELECTOR, ".att-strip .a")) == len(exp["src_tokens"]),
               "step 0: attention strip is not one cell per source token")
        top = first.find_elements(By.CSS_SELECTOR, ".top5 li")
        expect(len(top) == len(steps[0]["top"]), "step 0: top predictions count")
        p0 = top[0].find_element(By.CSS_SELECTOR, ".pct").text
        expect(p0.endswith("%"), "probability not shown as a percentage: " + repr(p0))
        expect(len(first.find_elements(By.CSS_SELECTOR, ".top5 li.chosen")) >= 1 or steps[0]["output"] not in
               [p["token"] for p in steps[0]["top"]], "step 0: the chosen token is not marked")
        if len(steps) > 24:
            self.click("#more")
            wait_until(lambda: len(self.els("#steps .step")) == len(steps), 20, "all steps after 'Show all'")
        self.click("#tab-translate")
        expect(self.el("#view-translate").is_displayed(), "back to the translate view failed")

    def responsive_and_screenshots(self):
        base, ext = os.path.splitext(self.shot)
        self.type_text(SENTENCE)
        self.shown_for(SENTENCE)
        self.screenshot(1280, self.shot)
        self.d.set_window_size(390, 844)
        self.type_text(LONG)
        self.shown_for(LONG)
        time.sleep(0.3)
        sw, iw = self.js("return [document.documentElement.scrollWidth, window.innerWidth]")
        expect(sw <= iw, f"the page scrolls sideways at 390 px ({sw} > {iw})")
        box = self.js("var e = document.getElementById('hm-scroll'); return [e.scrollWidth, e.clientWidth, getComputedStyle(e).overflowX]")
        expect(box[0] > box[1] and box[2] == "auto", f"the heatmap does not scroll sideways at 390 px: {box}")
        a = self.el("#src").rect
        b = self.el("#out").rect
        expect(b["y"] >= a["y"] + a["height"], "input and translation are not stacked at 390 px")
        self.screenshot(390, base + "_390" + ext)
        self.d.set_window_size(1280, 900)

    def no_console_errors(self):
        try:
            logs = self.d.get_log("browser")
        except Exception:  # a driver without the log endpoint: nothing to check
            return
        bad = [l["message"] for l in logs if l.get("level") == "SEVERE"]
        expect(not bad, "console errors: " + "; ".join(bad[:3]))

    def run(self):
        try:
            for name, fn in [
                ("page loads, self-contained, with label and tabs", self.page_loads),
                ("translation as you type equals the API's", self.translation_matches_api),
                ("heatmap geometry and weights equal the API's attention", self.heatmap_geometry),
                ("hovering a cell or word highlights its row and column", self.hover_highlights),
                ("beam selector and alternatives", self.beam_and_alternatives),
                ("stale answers ignored, typing debounced", self.stale_responses_ignored),
                ("API errors shown politely", self.errors_shown_politely),
                ("Inside the model shows stages and decoder steps", self.inside_the_model),
                ("responsive at 390 px, screenshots at 1280 and 390", self.responsive_and_screenshots),
                ("a paragraph: sentence by sentence, a click shows one's heatmap", self.paragraph_sentence_by_sentence),
                ("no console errors", self.no_console_errors),
            ]:
                self.check(name, fn)
        finally:
            self.d.quit()
        print(f"checks: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot", default=os.environ.get("NMT_BROWSER_SCREENSHOT") or
                    os.path.join(os.environ.get("TMPDIR", "/tmp"), "nmt_page.png"))
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM"))
    ap.add_argument("--chromedriver", default=os.environ.get("CHROMEDRIVER"))
    args = ap.parse_args()
    try:
        t = PageTest(args)
    except Exception as e:
        print("cannot start the browser: " + "".join(traceback.format_exception_only(type(e), e)).strip(), flush=True)
        return 2
    return t.run()


if __name__ == "__main__":
    sys.exit(main())
