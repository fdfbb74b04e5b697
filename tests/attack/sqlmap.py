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
BUDGET_SECONDS = 900  # both users together
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

    def add_get(path: str, pairs: list[tuple[str, str]], from_form: bool) -> None:
        shape = lib.shape_of(path)
        entry = gets.setdefault(shape, (path, {}))
        for name, value in pairs:
            # A form's defaults first (the page as it opens); a link adds its keys.
            if name not in entry[1] or (from_form and not entry[1][name]):
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
    """A POST form both users reach goes to one handler that parses it the
    same whoever sends it: scanned once, as the caseworker. GET targets
    stay with both, since what a list reads depends on the role."""
    caseworker, coordinator = by_user[USERS[0]], by_user[USERS[1]]
    theirs = {(t.method, lib.shape_of(t.path)) for t in caseworker if t.method == "POST"}
    kept = []
    for t in coordinator:
        if t.method == "POST" and (t.method, lib.shape_of(t.path)) in theirs:
            skipped.append(f"{t.user} POST {lib.shape_of(t.path)}: scanned as {USERS[0]} (the same handler)")
        else:
            kept.append(t)
    # The first GET target of each user also tests the cookies, User-Agent
    # and Referer (level 3): the middleware reads them the same on every route.
    for targets_of_user in (caseworker, kept):
        first = next((t for t in targets_of_user if t.method == "GET"), None)
        if first is not None:
            first.everywhere = True
    return caseworker + kept


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


def command(target: Target, client: lib.Client, directory: Path) -> list[str]:
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
    if target.method == "POST":
        args += ["--data", urllib.parse.urlencode(target.fields)]
    if target.everywhere:
        args += ["--skip", "csrf"]  # everything else level 3 tests: parameters, cookies, User-Agent, Referer
    else:
        args += ["-p", ",".join(target.params)]
    return args


def scan(target: Target, client: lib.Client, directory: Path, deadline: float) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cut_short = False
    with open(directory / "stdout.txt", "w") as out:
        process = subprocess.Popen(command(target, client, directory), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            process.wait(max(5.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            cut_short = True
            process.kill()
            process.wait()
    output = (directory / "stdout.txt").read_text(errors="replace")
    session_pair = next(p.strip() for p in client.cookie_header().split(";") if p.strip().startswith(SESSION_COOKIE + "="))
    traffic = read_traffic(directory / "traffic.txt", session_pair)
    (directory / "traffic.txt").unlink(missing_ok=True)  # hundreds of pages of case data: the counts are kept
    return {
        "target": target.label,
        "seconds": round(time.monotonic() - started, 1),
        "returncode": process.returncode,
        "cut_short": cut_short,
        "output": output,
        "traffic": traffic,
    }


_INJECTABLE = re.compile(r"is vulnerable|identified the following injection point|appears to be .*injectable", re.I)


def judge(part: lib.Part, target: Target, result: dict) -> None:
    output, traffic = result["output"], result["traffic"]
    label = target.label
    if result["cut_short"]:
        part.find(f"{label}: cut short by the time bound after {result['seconds']} s")
    elif result["returncode"] != 0 or "[*] ending @" not in output:
        part.find(f"{label}: sqlmap did not finish (exit {result['returncode']}): {output[-600:]}")
    for line in output.splitlines():
        if _INJECTABLE.search(line) and "false positive" not in output:
            part.find(f"{label}: {line.strip()}")
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
    version = subprocess.run(["sqlmap", "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    part.note(f"sqlmap {version[-1] if version else '?'}, --level 3 --risk 2 --dbms SQLite --time-sec 1, {PROCESSES} processes")
    out = context.out / "sqlmap"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    deadline = started + BUDGET_SECONDS

    clients = {name: context.client(name) for name in USERS}
    skipped: list[str] = []
    by_user = {name: targets(clients[name], context.demo.user(name), skipped) for name in USERS}
    # The longest first, so that the processes finish together.
    all_targets = sorted(share(by_user, skipped), key=lambda t: -len(t.params) - 4 * t.everywhere)
    for name in USERS:
        mine = [t for t in all_targets if t.user == name]
        part.note(f"{name}: {len(mine)} targets, {sum(len(t.params) for t in mine)} parameters")
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
