#!/usr/bin/python3
"""dashboard.py --part views|edit --admin URL --api URL --other URL
                --readonly URL --cassette FILE --profile DIR
                [--screenshots DIR]

Drives the mock dashboard (ADMIN + "ui/") in headless Chromium, for
t/ui.t, which has started the mock and sent its traffic.  Prints one
"ok NAME" or "not ok NAME: why" line per check, and exits 0 when it got
through them all (whatever they found), 1 when it could not go on.

The checks: each view loads; a miss opens its report; clicking an
interaction of a session pins it (the admin API and a request of that
session then show it) and clicking it again unpins it; the reset button
resets the session; markup in a body, a header, a URI and a session is
shown as text and none of its scripts runs; a page of another origin
that posts to the admin is refused with 403.

The edit part, run apart since an edit starts every session anew: under
READONLY, an admin location that refuses PUT, the edit button is hidden;
under ADMIN it shows, a response of FILE (the cassette of API) is edited
by typing and saved, and the admin API, a replayed request and FILE read
with PyYAML then have the new answer; a header value with CR/LF is
refused with the endpoint's error, shown, and FILE stays as it was; a
binary body is edited as base64 and stays bytes.
"""

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

import yaml
from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException,
                                        StaleElementReferenceException,
                                        TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT = 15

failed = 0


def check(name, ok, why=""):
    global failed
    if ok:
        print("ok %s" % name, flush=True)
    else:
        failed += 1
        print("not ok %s: %s" % (name, why), flush=True)


def get_json(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null"), r.read()
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body or b"null"), body
        except ValueError:
            return e.code, None, body


def get_body(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class Page:
    def __init__(self, driver):
        self.d = driver

    # the page draws its tables anew as it polls: an element found may be
    # gone a moment later, and is then looked for again

    def wait(self, what, fn, timeout=WAIT):
        def again(d):
            try:
                return fn()
            except StaleElementReferenceException:
                return None
        try:
            return WebDriverWait(self.d, timeout).until(again)
        except TimeoutException:
            return None

    def click(self, fn):
        """clicks the first element fn finds, found again while stale"""
        for _ in range(50):
            try:
                els = fn()
                if els:
                    els[0].click()
                    return True
            except StaleElementReferenceException:
                pass
            time.sleep(0.1)
        return False

    def css(self, sel):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def text(self, sel):
        for _ in range(20):
            try:
                els = self.css(sel)
                return els[0].text if els else ""
            except StaleElementReferenceException:
                time.sleep(0.05)
        return ""

    def content(self, sel):
        """textContent, which is there for hidden elements too"""
        els = self.css(sel)
        return els[0].get_attribute("textContent") if els else ""

    def view(self, name):
        self.d.find_element(By.ID, "nav-" + name).click()
        return self.wait(name, lambda: self.d.find_element(
            By.TAG_NAME, "body").get_attribute("data-view") == name)

    def no_alert(self):
        try:
            self.d.switch_to.alert.dismiss()
            return False
        except NoAlertPresentException:
            return True

    def xss(self):
        return self.d.execute_script("return typeof window.__xss")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("views", "edit"), required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("--other", required=True)
    ap.add_argument("--readonly", required=True)
    ap.add_argument("--cassette", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--screenshots")
    args = ap.parse_args()

    admin, api = args.admin, args.api

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,900",
              "--no-first-run", "--user-data-dir=" + args.profile):
        opts.add_argument(a)
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                  options=opts)
    except WebDriverException as e:
        print("chromium did not start: %s" % e.msg)
        return 1

    shots = args.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)

    def shot(name):
        if shots and name:
            driver.save_screenshot(os.path.join(shots, "ui-%s.png" % name))
        return bool(shots)

    try:
        if args.part == "views":
            run(Page(driver), admin, api, args.other, shot)
        else:
            edit(Page(driver), admin, api, args.readonly, args.cassette,
                 shot)
    finally:
        driver.quit()

    return 0


def run(p, admin, api, other, shot):
    d = p.d
    shooting = shot("")

    # Overview
    d.get(admin + "ui/")
    row = p.wait("stores", lambda: [r for r in p.css("#stores tbody tr")
                                    if "api.yaml" in r.text])
    check("overview lists the cassette stores", bool(row),
          "no row for api.yaml")
    if row:
        check("overview shows the locations and their modes",
              "/api/ (replay)" in row[0].text or "/api/" in row[0].text,
              row[0].text)
    hits = p.wait("counts", lambda: p.text("#count-hit b") not in ("", "0")
                  and p.text("#count-hit b"))
    check("overview counts hits from the metrics", hits and int(hits) >= 2,
          "hits: %r" % hits)
    check("overview counts misses", p.text("#count-miss b") not in ("", "0"),
          p.text("#counts"))
    # two polls make a sample, the chart draws it
    api_hit = get_body(api + "users/1", {"X-Test-Id": "chart"})
    drawn = p.wait("chart", lambda: d.execute_script(
        "var c = document.getElementById('chart').getContext('2d');"
        "var px = c.getImageData(0, 0, 900, 180).data, n = 0;"
        "for (var i = 3; i < px.length; i += 4) { if (px[i]) n++; }"
        "return document.getElementById('legend').children.length > 0"
        " && n > 100;"))
    check("overview draws the chart from the polled metrics", bool(drawn),
          "legend: %r, request: %r" % (p.text("#legend"), api_hit[0]))
    if shooting:
        # some minutes' worth of traffic, for the picture
        for i in range(40):
            get_body(api + ("users/1" if i % 3 else "nope/%d" % i),
                     {"X-Test-Id": "shot-%d" % (i % 4)})
            time.sleep(0.25)
    shot("overview")

    # Journal: live, filtered, a miss opens its report
    p.view("journal")
    miss = p.wait("journal", lambda: p.css('#j-table tr[data-result="miss"]'))
    check("journal lists the recent requests", bool(miss),
          p.text("#j-table"))
    if miss:
        p.click(lambda: p.css('#j-table tr[data-result="miss"]'))
        report = p.wait("report", lambda: "no recorded interaction matches"
                        in p.text("#j-report") and p.text("#j-report"))
        check("a miss opens its near-miss report", bool(report),
              p.text("#j-report"))
        check("the report names the closest interactions",
              bool(report) and ("closest recorded interactions" in report
                                or "no recorded interactions are close"
                                in report), report)
        shot("journal")
    get_body(api + "users/1", {"X-Test-Id": "live-one"})
    live = p.wait("live", lambda: "live-one" in p.text("#j-table"))
    check("the journal refreshes live", bool(live), "no live-one row")
    p.css("#j-session")[0].send_keys("s1")
    only = p.wait("filter", lambda: all(
        r.find_elements(By.CSS_SELECTOR, "td")[2].text == "s1"
        for r in p.css("#j-table tbody tr")) and p.css("#j-table tbody tr"))
    check("the journal filters by session", bool(only),
          p.text("#j-table"))
    Select(p.css("#j-result")[0]).select_by_value("miss")
    only = p.wait("filter", lambda: p.css("#j-table tbody tr") and all(
        r.get_attribute("data-result") == "miss"
        for r in p.css("#j-table tbody tr")))
    check("the journal filters by result", bool(only), p.text("#j-table"))
    p.css("#j-session")[0].clear()
    Select(p.css("#j-result")[0]).select_by_value("")
    # the session's markup is kept as a file name (%XX), the URI's as sent
    shown = p.wait("evil", lambda: "/api/users/1?<b>x</b>" in p.text(
        "#j-table") and "%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D4%3E"
        in p.text("#j-table"))
    check("a URI and a session with markup are shown as text in the "
          "journal", bool(shown) and not p.css("#j-table b, #j-table img"),
          p.text("#j-table")[:600])

    # Sessions: pin by clicking, unpin, reset
    p.view("sessions")
    item = p.wait("sessions", lambda: [li for li in p.css("#session-list li")
                                       if li.text == "s1"])
    check("sessions lists the sessions seen", bool(item),
          p.text("#session-list"))
    if item:
        p.click(lambda: [li for li in p.css("#session-list li")
                         if li.text == "s1"])
        rows = p.wait("interactions", lambda: len(
            p.css("#session-interactions tbody tr")) >= 4
            and p.css("#session-interactions tbody tr"))
        check("a session shows its interactions", bool(rows),
              p.text("#session-interactions"))
        unplayed = p.css("#session-interactions tr.unplayed")
        check("the session's unplayed interactions are marked",
              len(unplayed) == 3, "%d unplayed" % len(unplayed))
        target = p.click(lambda: [
            r for r in p.css("#session-interactions tbody tr")
            if r.get_attribute("data-interaction") == "1"])
        if target:
            pinned = p.wait("pin", lambda: [
                r for r in p.css("#session-interactions tr.pinned")
                if r.get_attribute("data-interaction") == "1"])
            check("clicking an interaction pins it", bool(pinned),
                  p.text("#status"))
            _, data, _ = get_json(admin + "sessions?session=s1")
            forced = (data or {}).get("forced", [])
            check("the admin API shows the pinned answer",
                  len(forced) == 1 and forced[0]["interaction"] == 1
                  and forced[0]["path"] == "/api/users/1", repr(data))
            st, body = get_body(api + "users/1", {"X-Test-Id": "s1"})
            check("the session is answered with the pinned interaction",
                  st == 200 and "second" in body, "%d %s" % (st, body))
            shot("sessions")
            p.click(lambda: p.css("#forced tbody button"))
            gone = p.wait("unpin", lambda: not p.css("#forced tbody tr"))
            _, data, _ = get_json(admin + "sessions?session=s1")
            check("unpinning takes the forced answer away",
                  bool(gone) and data and data["forced"] == [], repr(data))
        else:
            check("clicking an interaction pins it", False, "no row #1")

        _, before, _ = get_json(admin + "interactions?store=0&session=s1")
        played = sum(i["plays"] for i in (before or {}).get(
            "interactions", []))
        p.css("#session-reset")[0].click()
        p.wait("reset", lambda: "reset session s1" in p.text("#status"))
        _, after, _ = get_json(admin + "interactions?store=0&session=s1")
        left = sum(i["plays"] for i in (after or {}).get("interactions", []))
        check("the reset button resets the session's plays",
              played > 0 and left == 0, "plays %d, then %d" % (played, left))
        st, body = get_body(api + "users/1", {"X-Test-Id": "s1"})
        check("after the reset the session starts its sequence anew",
              "first" in body, body)

    # a session whose name the module keeps as %XX is pinned as itself
    item = p.wait("spaced", lambda: [li for li in p.css("#session-list li")
                                     if li.text == "a%20b"])
    check("a session with a space is listed as the module keeps it",
          bool(item), p.text("#session-list"))
    if item:
        p.click(lambda: [li for li in p.css("#session-list li")
                         if li.text == "a%20b"])
        p.wait("its name", lambda: "a%20b" in p.text("#session-name"))
        if p.click(lambda: [
                r for r in p.css("#session-interactions tbody tr")
                if r.get_attribute("data-interaction") == "1"]):
            p.wait("pin", lambda: p.css("#session-interactions tr.pinned"))
        _, data, _ = get_json(admin + "sessions?session=a%20b")
        forced = (data or {}).get("forced", [])
        check("it is pinned for that session, not another",
              len(forced) == 1 and forced[0]["interaction"] == 1,
              repr(data))
        st, body = get_body(api + "users/1", {"X-Test-Id": "a b"})
        check("and the session answers with it", "second" in body, body)

    # Interactions: browse, JSON pretty, binary as hex, markup as text
    p.view("interactions")
    rows = p.wait("list", lambda: len(p.css("#it-table tbody tr")) >= 4
                  and p.css("#it-table tbody tr"))
    check("interactions lists a cassette", bool(rows), p.text("#it-table"))
    p.css("#it-path")[0].send_keys("users")
    rows = p.wait("search", lambda: len(p.css("#it-table tbody tr")) == 2
                  and p.css("#it-table tbody tr"))
    check("interactions are searched by path", bool(rows),
          p.text("#it-table"))
    if rows:
        rows[0].click()
        body = p.wait("json", lambda: '"name": "first"' in p.text("#it-body")
                      and p.content("#it-body"))
        check("a JSON body is shown pretty", bool(body)
              and '\n  "tags": [' in body, repr(p.content("#it-body")))
        check("the response's headers are shown",
              "application/json" in p.text("#it-headers"),
              p.text("#it-headers"))
        shown = p.wait("edit", lambda: p.css("#it-edit")[0].is_displayed())
        check("the edit button shows where PUT interactions/N answers a "
              "body that is not JSON with 400", bool(shown), "hidden")
        shot("interactions")
    p.css("#it-path")[0].clear()
    p.css("#it-path")[0].send_keys("logo")
    rows = p.wait("binary", lambda: len(p.css("#it-table tbody tr")) == 1
                  and p.css("#it-table tbody tr"))
    if rows:
        rows[0].click()
        hexed = p.wait("hex", lambda: "89 50 4e 47" in p.text("#it-body"))
        check("a binary body is shown as hex", bool(hexed),
              p.text("#it-body"))
        check("a binary body's size is shown",
              "binary, 70 bytes" in p.text("#it-body-info"),
              p.text("#it-body-info"))
    else:
        check("a binary body is shown as hex", False, "no logo row")
    p.css("#it-path")[0].clear()
    p.css("#it-path")[0].send_keys("xss")
    rows = p.wait("xss", lambda: len(p.css("#it-table tbody tr")) == 1
                  and p.css("#it-table tbody tr"))
    if rows:
        check("a URI with markup is shown as text",
              "<img src=x onerror=window.__xss=5>" in rows[0].text,
              rows[0].text)
        rows[0].click()
        body = p.wait("xss body", lambda: "<script>" in p.text("#it-body")
                      and p.text("#it-body"))
        check("a body with <script> is shown as text",
              body == '<script>window.__xss=1</script>'
                      '<img src=x onerror="window.__xss=2">', repr(body))
        check("a header with <script> is shown as text",
              "<script>window.__xss=3</script>" in p.text("#it-headers"),
              p.text("#it-headers"))
        check("no element of the payload is in the page",
              not d.execute_script(
                  "return document.querySelectorAll("
                  "'main script, main img, main iframe').length"),
              "the payload made elements")
    else:
        check("a URI with markup is shown as text", False, "no xss row")
    time.sleep(0.5)
    check("no script of the payloads ran", p.xss() == "undefined",
          "window.__xss is %s" % p.xss())
    check("no alert was opened", p.no_alert(), "an alert was open")
    try:
        logs = [e["message"] for e in d.get_log("browser")
                if e.get("level") == "SEVERE"]
    except WebDriverException as e:
        logs = ["no browser log: %s" % e.msg]
    # the edit probe's 400 is expected; nothing else may be an error
    logs = [m for m in logs if "interactions/0" not in m]
    check("the page ran without errors or policy violations", not logs,
          "; ".join(logs)[:600])

    # Another origin posts to the admin: refused
    _, journal, _ = get_json(admin + "journal")
    d.get(other)
    title = p.wait("attack", lambda: d.title != "waiting" and d.title)
    check("a cross-site fetch with JSON is blocked by the browser",
          title == "fetch blocked", "title %r" % title)
    time.sleep(1)
    d.switch_to.frame("sink1")
    refused = p.wait("form", lambda: "must say" in d.find_element(
        By.TAG_NAME, "body").text)
    check("a cross-site form POST is answered 403 with the JSON error",
          bool(refused), d.find_element(By.TAG_NAME, "body").text)
    d.switch_to.default_content()
    d.switch_to.frame("sink2")
    refused = p.wait("form", lambda: "must say" in d.find_element(
        By.TAG_NAME, "body").text)
    check("a cross-site text/plain POST is answered 403", bool(refused),
          d.find_element(By.TAG_NAME, "body").text)
    d.switch_to.default_content()
    _, data, _ = get_json(admin + "sessions?session=victim")
    check("the cross-site requests pinned nothing",
          data and data["forced"] == [], repr(data))
    req = urllib.request.Request(admin + "reset?session=victim", data=b"",
                                 method="POST", headers={
                                     "Content-Type": "text/plain"})
    try:
        urllib.request.urlopen(req, timeout=10)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    check("a POST without a JSON type is answered 403", code == 403,
          "status %d" % code)


def open_interaction(p, base, name, n, load=True):
    """the interactions view of the admin BASE at interaction N of the
    cassette NAME; True when its detail is shown"""
    d = p.d
    if load:
        d.get(base + "ui/#interactions")
    opt = p.wait("store", lambda: [o for o in p.css("#it-store option")
                                   if o.text.endswith("/" + name)])
    if not opt:
        return False
    value = opt[0].get_attribute("value")
    sel = Select(p.css("#it-store")[0])
    if sel.first_selected_option.get_attribute("value") != value:
        sel.select_by_value(value)

    def row():
        return [r for r in p.css("#it-table tbody tr")
                if r.get_attribute("data-interaction") == str(n)
                and (r.get_attribute("title") or "").endswith("/" + name)]

    if not p.wait("row", row) or not p.click(row):
        return False
    return bool(p.wait("detail", lambda: p.text("#it-title").startswith(
        "#%d in " % n)))


def probed(p):
    """the edit probe was answered (the resource timing has its entry)"""
    return p.wait("probe", lambda: p.d.execute_script(
        "return performance.getEntriesByType('resource').some("
        "function (e) { return e.name.indexOf('/interactions/0?') >= 0; })"))


def typed(p, sel, text):
    box = p.css(sel)[0]
    box.clear()
    box.send_keys(text)


def save(p):
    """submits the edit form; the result line once the answer came"""
    p.d.find_element(By.CSS_SELECTOR, "#it-form button[type=submit]").click()
    return p.wait("saved", lambda: p.text("#ed-result").startswith(
        ("saved", "not saved")) and p.text("#ed-result")) or ""


def value(p, sel):
    els = p.css(sel)
    return els[0].get_attribute("value") if els else None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def edit(p, admin, api, readonly, cassette, shot):
    name = os.path.basename(cassette)

    # an admin location that refuses PUT: the probe gets 403, no button
    if open_interaction(p, readonly, name, 0) and probed(p):
        shown = p.wait("body", lambda: '"first"' in p.text("#it-body"))
        check("the edit button is hidden without an edit endpoint",
              bool(shown) and not p.css("#it-edit")[0].is_displayed(),
              "body shown: %r, button shown: %r" % (
                  bool(shown), p.css("#it-edit")[0].is_displayed()))
    else:
        check("the edit button is hidden without an edit endpoint", False,
              "interaction #0 of %s is not shown, or no probe" % name)

    if not open_interaction(p, admin, name, 0):
        check("the edit button shows where the edit endpoint is", False,
              "interaction #0 of %s is not shown" % name)
        return
    probed(p)
    store = value(p, "#it-store")
    shown = p.wait("edit", lambda: p.css("#it-edit")[0].is_displayed()
                   and '"first"' in p.text("#it-body"))
    check("the edit button shows where the edit endpoint is", bool(shown),
          "hidden")
    if not shown:
        return
    p.css("#it-edit")[0].click()
    check("the edit form holds the response: status, reason, headers as "
          "lists, the body as text",
          value(p, "#ed-status") == "200" and value(p, "#ed-reason") == "OK"
          and value(p, "#ed-kind") == "string"
          and '"first"' in value(p, "#ed-body")
          and '"Content-Type": [\n    "application/json"\n  ]'
          in value(p, "#ed-headers"),
          "status %r, reason %r, kind %r, headers %r" % (
              value(p, "#ed-status"), value(p, "#ed-reason"),
              value(p, "#ed-kind"), value(p, "#ed-headers")))

    # a new answer, typed in
    new_body = '{"id": 1, "name": "edited"}'
    typed(p, "#ed-status", "201")
    typed(p, "#ed-reason", "Created")
    typed(p, "#ed-headers", '{"Content-Type": ["application/json"], '
                            '"X-Edited": ["yes", "twice"]}')
    typed(p, "#ed-body", new_body)
    result = save(p)
    check("the edited response is saved through PUT interactions/N",
          result.startswith("saved"), repr(result))
    shown = p.wait("shown", lambda: p.text("#it-response-status")
                   == "201 Created" and '"edited"' in p.text("#it-body"))
    check("the view shows the response as saved", bool(shown),
          "%r %r" % (p.text("#it-response-status"), p.text("#it-body")))

    st, data, _ = get_json(admin + "interaction?store=%s&interaction=0"
                           % store)
    resp = (data or {}).get("response", {})
    check("the admin API has the new answer",
          st == 200 and resp.get("status") == 201
          and resp.get("reason") == "Created"
          and resp.get("body") == new_body
          and resp.get("headers") == [["Content-Type", "application/json"],
                                      ["X-Edited", "yes"],
                                      ["X-Edited", "twice"]],
          "%d %r" % (st, resp))
    req = urllib.request.Request(api + "users/1",
                                 headers={"X-Test-Id": "after-edit"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            got = (r.status, r.read().decode(), r.headers.get_all("X-Edited"))
    except urllib.error.HTTPError as e:
        got = (e.code, e.read().decode(), e.headers.get_all("X-Edited"))
    check("a replayed request gets the new answer",
          got == (201, new_body, ["yes", "twice"]), repr(got))
    try:
        tape = yaml.safe_load(read(cassette))
        its = tape["interactions"]
        first = its[0]["response"]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError) as e:
        tape, its, first = None, [], {"error": str(e)}
    check("the cassette file has the new answer in the vcrpy shape",
          first.get("status") == {"code": 201, "message": "Created"}
          and first.get("headers") == {"Content-Type": ["application/json"],
                                       "X-Edited": ["yes", "twice"]}
          and first.get("body") == {"string": new_body}, repr(first))
    check("the rest of the cassette file is as it was",
          len(its) == 4
          and its[0]["request"]["uri"] == "http://svc/api/users/1"
          and "second" in its[1]["response"]["body"]["string"]
          and its[3]["response"]["headers"]["X-Evil"]
          == ["<script>window.__xss=3</script>"], repr(its)[:600])

    # a header value with CR/LF, typed as JSON escapes: refused
    before = read(cassette)
    typed(p, "#ed-headers", '{"Content-Type": ["application/json"], '
                            '"X-A": ["a\\r\\nX-Injected: 1"]}')
    result = save(p)
    check("a header value with CR/LF is refused with 422 and the "
          "endpoint's error is shown",
          result.startswith("not saved (422): ")
          and "X-A" in result and "line break" in result
          and "error" in (p.css("#ed-result")[0].get_attribute("class")
                          or ""), repr(result))
    shot("edit")
    check("the refused edit left the cassette file as it was",
          read(cassette) == before, "the file changed")
    st, data, _ = get_json(admin + "interaction?store=%s&interaction=0"
                           % store)
    resp = (data or {}).get("response", {})
    check("the refused edit left the zone's answer as it was",
          st == 200 and resp.get("status") == 201
          and not [h for h in resp.get("headers", [])
                   if h[0] in ("X-A", "X-Injected")], repr(resp))
    req = urllib.request.Request(api + "users/1",
                                 headers={"X-Test-Id": "after-refused"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            got = (r.status, r.headers.get("X-Injected"), r.headers.get("X-A"))
    except urllib.error.HTTPError as e:
        got = (e.code, e.headers.get("X-Injected"), e.headers.get("X-A"))
    check("and a replayed request has no injected header",
          got == (201, None, None), repr(got))

    # a binary body is edited as base64 and stays bytes
    p.css("#ed-cancel")[0].click()
    if not open_interaction(p, admin, name, 2, load=False):
        check("a binary body is edited as base64", False, "no #2")
        return
    st, data, _ = get_json(admin + "interaction?store=%s&interaction=2"
                           % store)
    b64 = ((data or {}).get("response") or {}).get("body_base64")
    shown = p.wait("edit", lambda: p.css("#it-edit")[0].is_displayed())
    if shown:
        p.css("#it-edit")[0].click()
    check("a binary body is edited as base64",
          bool(shown) and b64 and value(p, "#ed-kind") == "base64_string"
          and value(p, "#ed-body") == b64
          and "bytes" in p.text("#ed-note"),
          "kind %r, note %r" % (value(p, "#ed-kind"), p.text("#ed-note")))
    Select(p.css("#ed-kind")[0]).select_by_value("string")
    check("bytes that are not UTF-8 cannot be turned into text",
          value(p, "#ed-kind") == "base64_string"
          and value(p, "#ed-body") == b64
          and "not UTF-8" in p.text("#ed-result"),
          "kind %r, result %r" % (value(p, "#ed-kind"),
                                  p.text("#ed-result")))
    typed(p, "#ed-reason", "Fine")
    result = save(p)
    try:
        body = yaml.safe_load(read(cassette))["interactions"][2][
            "response"]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError) as e:
        body = {"error": str(e)}
    check("a binary body saved is written as bytes (!!binary)",
          result.startswith("saved")
          and body.get("status") == {"code": 200, "message": "Fine"}
          and body.get("body") == {"string": base64.b64decode(b64 or "")},
          "%r %r" % (result, body))
    st, logo = 0, b""
    try:
        with urllib.request.urlopen(api + "logo.png", timeout=10) as r:
            st, logo = r.status, r.read()
    except urllib.error.HTTPError as e:
        st = e.code
    check("and is replayed as the same bytes",
          st == 200 and logo == base64.b64decode(b64 or ""),
          "%d, %d bytes" % (st, len(logo)))

if __name__ == "__main__":
    sys.exit(main())
