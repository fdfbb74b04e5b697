"""sqlmap (Debian's) logged in as a coordinator and as a caseworker, over
every form and query parameter they reach, at level 3 and risk 2.

The targets come from lib.crawl, not from sqlmap's crawler, so the list is
the same on every run: every GET form and every link with a query (one
target per path shape, the form's defaults first, a link's keys added),
and every POST form (one per path shape, the one with the most fields),
its csrf token kept at its value and never tested. Forms that would end the
scanner's session, or someone else's, are not submitted
(lib.scanner_must_not_submit); freezing oneself (refused by the server) is
submitted in their place, so the team action form is still scanned.

sqlmap's detection runs one request at a time, so several sqlmap processes
run side by side. Each one's traffic file is read afterwards: the requests
it sent, every 5xx, and whether any request carrying the session cookie was
answered as if logged out.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import lib

USERS = ("case.river", "coord.amber")
BUDGET_SECONDS = 600  # both users together; past it a target is cut short, a finding
PROCESSES = 4
SESSION_COOKIE = "__Host-safehouse"
LANGUAGE_COOKIE = "safehouse-lang"


@dataclasses.dataclass
class Target:
    user: str
    method: str
    path: str  # with the query of a GET target
    fields: list[tuple[str, str]]  # a POST target's body
    params: list[str]  # what sqlmap tests
    everywhere: bool = False  # also the cookies, User-Agent and Referer

    @property
    def label(self) -> str:
        return f"{self.user} {self.method} {lib.shape_of(self.path.split('?', 1)[0])} ({', '.join(self.params)})"


def targets(client: lib.Client, user: dict, skipped: list[str]) -> list[Target]:
    """One user's targets, from a crawl; what is left out goes to `skipped`."""
    pages, forms = lib.crawl(client)
    gets: dict[str, tuple[str, dict[str, str]]] = {}  # shape -> (path, params)
    gets_from_form: set[str] = set()

    def add_get(path: str, pairs: list[tuple[str, str]], from_form: bool) -> None:
        shape = lib.shape_of(path)
        if from_form and shape in gets_from_form:
            return  # the first form found (the page as it opens, filters unset) gives the defaults
        if from_form:
            gets_from_form.add(shape)
        entry = gets.setdefault(shape, (path, {}))
        for name, value in pairs:
            if name not in entry[1]:  # a link only adds keys the form lacks (the page number)
                entry[1][name] = value

    posts: dict[str, lib.Form] = {}
    for form in forms:
        action = lib.local(form.action)
        if form.method == "GET":
            add_get(action.split("?", 1)[0], form.values(), True)
            continue
        reason = lib.scanner_must_not_submit("POST", action, user["user_id"])
        if reason:
            skipped.append(f"{user['username']} POST {lib.shape_of(action)}: {reason}")
            continue
        shape = lib.shape_of(action)
        if shape not in posts or len(form.fields) > len(posts[shape].fields):
            posts[shape] = form
    for page in pages:
        path, _, query = page.partition("?")
        if query:
            add_get(path, urllib.parse.parse_qsl(query, keep_blank_values=True), False)

    # Freezing oneself: the team action's form, refused before anything changes.
    freeze = next((f for f in forms if f.method == "POST" and re.fullmatch(r"/team/[^/]+/freeze", lib.local(f.action))), None)
    own_freeze = f"/team/{user['user_id']}/freeze"
    if freeze is not None and lib.shape_of(own_freeze) not in posts:
        posts[lib.shape_of(own_freeze)] = lib.Form(freeze.page, "POST", client.demo.base + own_freeze, freeze.fields)

    found: list[Target] = []
    for shape, (path, params) in sorted(gets.items()):
        query = urllib.parse.urlencode(list(params.items()))
        found.append(Target(user["username"], "GET", f"{path}?{query}", [], list(params)))
    for shape, form in sorted(posts.items()):
        names = [name for name, _ in form.values() if name != "csrf"]
        # alias_1, age_1 ...: the same loop parses every row as it parses row 0.
        repeats = [n for n in names if re.fullmatch(r".+_[1-9]\d*", n) and re.sub(r"_\d+$", "_0", n) in names]
        if repeats:
            skipped.append(f"{user['username']} POST {shape}: {', '.join(repeats)} (parsed as row 0 is)")
            names = [n for n in names if n not in repeats]
        if not names:
            skipped.append(f"{user['username']} POST {shape}: no field but the csrf token")
            continue
        found.append(Target(user["username"], "POST", lib.local(form.action), form.values(), list(dict.fromkeys(names))))
    return found


def share(by_user: dict[str, list[Target]], skipped: list[str]) -> list[Target]:
    """What both users reach goes to one handler that parses it the same
    whoever sends it, so it is scanned once: a POST form as the caseworker;
    a GET as the coordinator, whose form has every key the caseworker's has
    (a list reads the rows the actor may see, then filters them in memory:
    the role never turns a parameter into a different query)."""
    caseworker, coordinator = by_user[USERS[0]], by_user[USERS[1]]
    key = lambda t: (t.method, lib.shape_of(t.path.split("?", 1)[0]))  # noqa: E731
    posts_of_caseworker = {key(t) for t in caseworker if t.method == "POST"}
    gets_of_coordinator = {key(t): set(t.params) for t in coordinator if t.method == "GET"}
    kept_caseworker = []
    for t in caseworker:
        if t.method == "GET" and set(t.params) <= gets_of_coordinator.get(key(t), set()):
            skipped.append(f"{t.user} GET {key(t)[1]}: scanned as {USERS[1]} (the same handler, every key)")
        else:
            kept_caseworker.append(t)
    kept_coordinator = []
    for t in coordinator:
        if t.method == "POST" and key(t) in posts_of_caseworker:
            skipped.append(f"{t.user} POST {key(t)[1]}: scanned as {USERS[0]} (the same handler)")
        else:
            kept_coordinator.append(t)
    # One target of each user also tests the cookies, User-Agent and
    # Referer (level 3): the middleware reads them the same on every route,
    # and no handler reads User-Agent or Referer at all.
    for targets_of_user in (kept_caseworker, kept_coordinator):
        first = next((t for t in targets_of_user if t.method == "GET"), targets_of_user[0] if targets_of_user else None)
        if first is not None:
            first.everywhere = True
    return kept_caseworker + kept_coordinator


def split(targets_: list[Target], size: int = 3) -> list[Target]:
    """At most `size` parameters a process, so that the processes finish
    together (sqlmap tests one parameter after another)."""
    pieces = []
    for t in targets_:
        for i in range(0, len(t.params), size):
            pieces.append(dataclasses.replace(t, params=t.params[i : i + size], everywhere=t.everywhere and i == 0))
    return pieces


@dataclasses.dataclass
class Traffic:
    requests: int = 0
    methods: dict[str, int] = dataclasses.field(default_factory=dict)
    statuses: dict[int, int] = dataclasses.field(default_factory=dict)
    pages_logged_in: int = 0  # answers with the logout form of the navigation
    logged_out: list[str] = dataclasses.field(default_factory=list)  # answers as if no session, to our cookie


_SEPARATOR = re.compile(r"\r?\n\r?\n#{76}\r?\n\r?\n")
_RESPONSE = re.compile(r"HTTP (?:response|redirect) \[#\d+\] \((\d{3})[^)]*\):")


def read_traffic(path: Path, session_pair: str) -> Traffic:
    """Each exchange of a sqlmap traffic file (-t): request, then answer."""
    traffic = Traffic()
    if not path.exists():
        return traffic
    text = path.read_text(errors="replace")
    for exchange in _SEPARATOR.split(text):
        if "HTTP request [#" not in exchange:
            continue
        traffic.requests += 1
        first = exchange.split("HTTP request [#", 1)[1].splitlines()
        method = first[1].split(" ", 1)[0] if len(first) > 1 else "?"
        traffic.methods[method] = traffic.methods.get(method, 0) + 1
        match = _RESPONSE.search(exchange)
        if not match:
            continue
        status = int(match.group(1))
        traffic.statuses[status] = traffic.statuses.get(status, 0) + 1
        request, answer = exchange[: match.start()], exchange[match.end() :]
        cookie = re.search(r"^Cookie: (.*?)\r?$", request, re.M)
        ours = cookie is not None and session_pair in [c.strip() for c in cookie.group(1).split(";")]
        if 'action="/logout"' in answer:
            traffic.pages_logged_in += 1
        elif ours and (re.search(r"^Location: /login", answer, re.M | re.I) or 'action="/login"' in answer):
            line = request.strip().splitlines()
            traffic.logged_out.append(line[1] if len(line) > 1 else request[:200])
    return traffic


# sqlmap's ORDER BY probe can "work" on a field that is only shown back as
# text (no SQL error can ever appear there) and widen the UNION tests from
# level 3's 1 to 10 columns to 999, thousands of requests for minutes. Such a
# run is stopped and run again with the range fixed at 1 to 10 (which costs
# more requests per test, so it is not the default).
_WIDENED = re.compile(r"appears to have (\d+) columns? in query")


def command(target: Target, client: lib.Client, directory: Path, union_cols: bool = False) -> list[str]:
    cookie = client.cookie_header()
    if target.everywhere:
        cookie += f"; {LANGUAGE_COOKIE}=en"  # so the language cookie is tested too
    args = [
        "sqlmap",
        "-u",
        client.demo.base + target.path,
        "--cookie",
        cookie,
        # Answers set no cookie that matters, and a tested cookie must never replace ours.
        "--drop-set-cookie",
        "--level",
        "3",
        "--risk",
        "2",
        # The demo (and the default engine) is SQLite: its payloads only.
        "--dbms",
        "SQLite",
        "--time-sec",
        "1",
        "--batch",
        "--keep-alive",
        "--disable-coloring",
        "--flush-session",
        "--output-dir",
        str(directory),
        "-t",
        str(directory / "traffic.txt"),
    ]
    if union_cols:
        args += ["--union-cols", "1-10"]
    if target.method == "POST":
        args += ["--data", urllib.parse.urlencode(target.fields)]
    # -p names what is tested (csrf never is); the level still sets how hard.
    tested = target.params + ([SESSION_COOKIE, LANGUAGE_COOKIE, "User-Agent", "Referer"] if target.everywhere else [])
    args += ["-p", ",".join(tested)]
    return args


def scan(target: Target, client: lib.Client, directory: Path, deadline: float) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cut_short = False
    widened = None
    for union_cols in (False, True):
        with open(directory / "stdout.txt", "w") as out:
            process = subprocess.Popen(
                command(target, client, directory, union_cols), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            while process.poll() is None:
                if time.monotonic() > deadline:
                    cut_short = True
                    process.kill()
                    break
                time.sleep(1)
                match = _WIDENED.search((directory / "stdout.txt").read_text(errors="replace"))
                if not union_cols and match and int(match.group(1)) > 10:
                    widened = int(match.group(1))
                    process.kill()
                    break
            process.wait()
        if widened is None or union_cols or cut_short:
            break
        (directory / "traffic.txt").rename(directory / "traffic-widened.txt")
    output = (directory / "stdout.txt").read_text(errors="replace")
    session_pair = next(p.strip() for p in client.cookie_header().split(";") if p.strip().startswith(SESSION_COOKIE + "="))
    traffic = read_traffic(directory / "traffic.txt", session_pair)
    if widened is not None:
        first = read_traffic(directory / "traffic-widened.txt", session_pair)
        traffic.requests += first.requests
        traffic.pages_logged_in += first.pages_logged_in
        traffic.logged_out += first.logged_out
        for s, n in first.statuses.items():
            traffic.statuses[s] = traffic.statuses.get(s, 0) + n
        for m, n in first.methods.items():
            traffic.methods[m] = traffic.methods.get(m, 0) + n
    for name in ("traffic.txt", "traffic-widened.txt"):
        (directory / name).unlink(missing_ok=True)  # hundreds of pages of case data: the counts are kept
    return {
        "target": target.label,
        "seconds": round(time.monotonic() - started, 1),
        "returncode": process.returncode,
        "cut_short": cut_short,
        "widened": widened,
        "output": output,
        "traffic": traffic,
    }


# sqlmap's verdicts on a parameter. Not among them: "target URL appears to
# be UNION injectable with N columns", the column count that its UNION test
# then tries to confirm with a marker in the page (a field shown back as
# text passes the count and fails the marker); the parameter's verdict
# follows it, and is checked.
_INJECTABLE = re.compile(
    r"parameter '[^']*' (?:appears to be|is) '[^']*' injectable|is vulnerable|identified the following injection point", re.I
)
_UNION_HINT = re.compile(r"target URL appears to be UNION injectable with \d+ columns?")


def judge(part: lib.Part, target: Target, result: dict) -> None:
    output, traffic = result["output"], result["traffic"]
    label = target.label
    if result["widened"]:
        part.note(f"{label}: UNION range widened to {result['widened']} columns by ORDER BY; run again with --union-cols 1-10")
    if result["cut_short"]:
        part.find(f"{label}: cut short by the time bound after {result['seconds']} s")
    elif result["returncode"] != 0 or "[*] ending @" not in output:
        part.find(f"{label}: sqlmap did not finish (exit {result['returncode']}): {output[-600:]}")
    for line in output.splitlines():
        if _INJECTABLE.search(line) and "false positive" not in output:
            part.find(f"{label}: {line.strip()}")
        if _UNION_HINT.search(line):
            part.note(f"{label}: {line.strip()} (not confirmed: see the verdict)")
        if "[CRITICAL]" in line:
            part.find(f"{label}: {line.strip()}")
    # Every parameter asked for must have been tested to the end.
    if not result["cut_short"]:
        extra = [SESSION_COOKIE, LANGUAGE_COOKIE, "User-Agent", "Referer"] if target.everywhere else []
        for name in target.params + extra:
            if not re.search(rf"parameter '{re.escape(name)}' does not seem to be injectable", output):
                part.find(f"{label}: no verdict on parameter {name!r}")
    errors = {s: n for s, n in traffic.statuses.items() if s >= 500}
    if errors:
        part.find(f"{label}: 5xx answers {errors}")
    if traffic.logged_out:
        part.find(f"{label}: {len(traffic.logged_out)} answers to the session cookie were the login page, e.g. {traffic.logged_out[0]}")
    if traffic.requests == 0:
        part.find(f"{label}: no request in the traffic file")


def run(context) -> None:
    part: lib.Part = context.part
    if shutil.which("sqlmap") is None:
        part.find("sqlmap is not installed")
        return
    printed = subprocess.run(["sqlmap", "--version"], capture_output=True, text=True).stdout
    version = re.search(r"(?m)^(\d+\.\d+\S*)\s*$", printed)
    part.note(f"sqlmap {version.group(1) if version else '?'}, --level 3 --risk 2 --dbms SQLite --time-sec 1, {PROCESSES} processes")
    out = context.out / "sqlmap"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    deadline = started + BUDGET_SECONDS

    clients = {name: context.client(name) for name in USERS}
    skipped: list[str] = []
    by_user = {name: targets(clients[name], context.demo.user(name), skipped) for name in USERS}
    # The longest first, so that the processes finish together.
    all_targets = sorted(split(share(by_user, skipped)), key=lambda t: -len(t.params) - 4 * t.everywhere)
    for name in USERS:
        mine = [t for t in all_targets if t.user == name]
        part.note(f"{name}: {len(mine)} sqlmap runs, {sum(len(t.params) for t in mine)} parameters")
    for reason in dict.fromkeys(skipped):
        part.note(f"not scanned: {reason}")

    lock = threading.Lock()
    results: list[tuple[Target, dict]] = []

    def one(index: int, target: Target) -> None:
        result = scan(target, clients[target.user], out / f"{index:02d}-{target.user}", deadline)
        with lock:
            results.append((target, result))
            print(f"   sqlmap {result['seconds']:6.1f} s {result['traffic'].requests:5d} requests  {target.label}", flush=True)

    with concurrent.futures.ThreadPoolExecutor(PROCESSES) as pool:
        for future in [pool.submit(one, i, t) for i, t in enumerate(all_targets)]:
            future.result()

    for target, result in results:
        judge(part, target, result)
    requests = sum(r["traffic"].requests for _, r in results)
    part.requests += requests
    for name in USERS:
        mine = [r["traffic"] for t, r in results if t.user == name]
        pages = sum(t.pages_logged_in for t in mine)
        part.note(f"{name}: {sum(t.requests for t in mine)} requests, {pages} answers were pages of a logged-in user")
        if pages == 0:
            part.find(f"{name}: no answer to sqlmap was a page of a logged-in user")
        # The session outlived the scan.
        if not clients[name].logged_in():
            part.find(f"{name}: the session did not survive the sqlmap scan")
    statuses: dict[int, int] = {}
    methods: dict[str, int] = {}
    for _, r in results:
        for s, n in r["traffic"].statuses.items():
            statuses[s] = statuses.get(s, 0) + n
        for m, n in r["traffic"].methods.items():
            methods[m] = methods.get(m, 0) + n
    part.note(
        f"{requests} requests in {round(time.monotonic() - started)} s; by method {methods}; "
        f"answers by status {dict(sorted(statuses.items()))}"
    )
