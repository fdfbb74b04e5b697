"""wapiti (3.2.3 from PyPI) logged in as a coordinator and as a caseworker,
side by side, with its default modules, scoped to the demo.

The session goes in as a Cookie header (-C, which wapiti 3.2 sends as a
header on every request). Not --drop-set-cookie: in 3.2.3 it deletes the
Cookie header from every request, ours included, and the scan runs logged
out. Every vulnerability and anomaly in the JSON report is a finding; the
report's crawled pages (-dr 1) prove the scan was logged in, as that role.

Each wapiti goes through a small counting proxy of its own: the requests
it sent, the server's answers by status (a 5xx is a finding whether or not
wapiti calls it an anomaly), and any answer to the session cookie that was
the login page. The proxy forwards to the demo only.
"""

from __future__ import annotations

import collections
import dataclasses
import http.client
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import lib

USERS = ("case.river", "coord.amber")
CRAWL_SECONDS = 45  # --max-scan-time: the crawl
MODULE_SECONDS = 15  # --max-attack-time: each of the 12 default modules

PROCESS_SECONDS = 300  # past this the process is killed, and that is a finding

# Pages only a logged-in user of that role reaches: seen in the crawl, or
# the scan did not run as that user.
MUST_CRAWL = {
    "case.river": ["/cases", "/cases/new", "/account"],
    "coord.amber": ["/cases", "/team", "/shelters", "/certify", "/account"],
}


# The ssrf module asks wapiti's public endpoint whether the target called it
# back; the battery runs offline on loopback, so the proxy refuses it and
# that module can report nothing (the note says so).
ENDPOINT_UNREACHABLE = "Unable to request endpoint URL"
# When --max-scan-time or --max-attack-time is reached, wapiti cancels the
# requests in flight; each one then prints "[!] ReadError with URL ...".
# "scan" is the crawl's bound, "attack" a module's.
BOUND_REACHED = re.compile(r"Max (scan|attack) time was reached")
# When --max-scan-time stops the crawl, wapiti closes its HTTP client while
# some of its crawl tasks (Explorer._async_analyze) still run. Nothing
# awaits them any more, so each one that then fails is printed as "Task
# exception was never retrieved", a "future:" line naming the task, and its
# traceback (chained ones too). Two failures are the closed client itself:
# sending a request through it, or reading a page's body that was still
# arriving (httpx.ReadError, caused by httpcore.ReadError). Those, from
# that task, printed after the crawl's bound was reached (they come when
# the task next runs, not necessarily next to the message), are counted;
# anything else is a finding.
CRAWL_TASK = "coro=<Explorer._async_analyze()"
CLIENT_CLOSED = "RuntimeError: Cannot send a request, as the client has been closed."
BODY_CUT = "httpx.ReadError"
CUT_BY_BOUND = {
    CLIENT_CLOSED: "sent through the closed client",
    BODY_CUT: "reading a page's body when the client closed",
}
CHAINED = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def cut_by_bound(exception: str) -> str | None:
    """The CUT_BY_BOUND key of a task's last exception line, or None."""
    if exception == CLIENT_CLOSED:
        return CLIENT_CLOSED
    if exception.split(":", 1)[0] == BODY_CUT:  # its message, if any, is the socket's
        return BODY_CUT
    return None


def excluded(base: str) -> list[tuple[str, str]]:
    """wapiti's -x patterns (a URL with * wildcards, GET and POST alike) and why."""
    why = {
        "/logout": "ends the session",
        "/account/sessions/end": "ends every session of the user",
        # The GET page too: -x cannot tell methods apart. The header sweep visits it.
        "/lockdown": "ends every session but the coordinators' own",
        "/reauth*": "five wrong passwords end the session",
        # Every team action, one's own too: wapiti cannot tell whose it is.
        "/team/*": "a team action on someone else changes their keys or ends their sessions (a freeze)",
    }
    assert set(lib.SESSION_ENDERS) <= set(why)
    return [(base + path, reason) for path, reason in why.items()]


class Tally:
    """What one counting proxy saw."""

    def __init__(self, session_pair: str):
        self.session_pair = session_pair
        self.lock = threading.Lock()
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.methods: dict[str, int] = {}
        self.errors: list[str] = []  # 5xx, with the request
        self.logged_out: list[str] = []  # the session cookie answered as if absent
        self.refused: list[str] = []  # not the demo: never forwarded
        self.pages_logged_in = 0
        self.abandoned = 0  # answers wapiti had stopped waiting for


def proxy(demo: lib.Demo, tally: Tally) -> http.server.ThreadingHTTPServer:
    """A forwarding HTTP proxy on loopback that counts, for one wapiti."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the tally is the log
            pass

        def do_CONNECT(self):
            with tally.lock:
                tally.refused.append(f"CONNECT {self.path}")
            self.send_error(403, "only the demo")

        def relay(self):
            target = urllib.parse.urlsplit(self.path)
            if (target.hostname, target.port) != (demo.host, demo.port):
                with tally.lock:
                    tally.refused.append(f"{self.command} {self.path}")
                self.send_error(403, "only the demo")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            path = target.path + (f"?{target.query}" if target.query else "")
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection", "keep-alive")]
            connection = http.client.HTTPConnection(demo.host, demo.port, timeout=60)
            try:
                connection.putrequest(self.command, path or "/", skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    connection.putheader(k, v)
                connection.endheaders(body)
                response = connection.getresponse()
                content = response.read()
                status, reason, answer_headers = response.status, response.reason, response.getheaders()
            except OSError as e:  # the server did not answer: a finding, and wapiti is told
                with tally.lock:
                    tally.errors.append(f"no answer ({e}) to {self.command} {path[:200]}")
                self.send_error(502, "no answer from the demo")
                return
            finally:
                connection.close()
            cookie = self.headers.get("Cookie") or ""
            ours = tally.session_pair in [c.strip() for c in cookie.split(";")]
            location = next((v for k, v in answer_headers if k.lower() == "location"), "")
            with tally.lock:
                tally.requests += 1
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                tally.methods[self.command] = tally.methods.get(self.command, 0) + 1
                if status >= 500:
                    tally.errors.append(f"{status} {self.command} {path[:200]} {(body or b'')[:200]!r}")
                if b'action="/logout"' in content:
                    tally.pages_logged_in += 1
                elif ours and (location.startswith("/login") or b'action="/login"' in content):
                    tally.logged_out.append(f"{self.command} {path[:200]}")
            self.send_response_only(status, reason)
            for k, v in answer_headers:
                if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                try:
                    self.wfile.write(content)
                except OSError:  # wapiti cancelled the request (a time bound): counted, nothing to send
                    with tally.lock:
                        tally.abandoned += 1

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = relay

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def command(wapiti: str, client: lib.Client, directory: Path, proxy_url: str) -> list[str]:
    base = client.demo.base
    args = [wapiti, "-u", base + "/", "--scope", "folder", "-C", client.cookie_header(), "-p", proxy_url]
    for pattern, _ in excluded(base):
        args += ["-x", pattern]
    args += [
        "--max-scan-time",
        str(CRAWL_SECONDS),
        "--max-attack-time",
        str(MODULE_SECONDS),
        "-t",
        "30",  # a request's timeout: the debug build on a busy machine is slow
        "-f",
        "json",
        "-o",
        str(directory / "report.json"),
        "-dr",
        "1",  # the report lists the crawled requests
        "--store-session",
        str(directory / "session"),
        "--store-config",
        str(directory / "config"),
        "--flush-session",
        "-v",
        "1",
        "--no-bugreport",
        # Fewer crawl tasks than the default 32: wapiti's own SQLite store
        # fails with "database is locked" under that many on two cores.
        "--tasks",
        "4",
    ]
    return args


def scan(wapiti: str, client: lib.Client, directory: Path) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    killed = False
    session_pair = next(p.strip() for p in client.cookie_header().split(";") if p.strip().startswith("__Host-safehouse="))
    tally = Tally(session_pair)
    server = proxy(client.demo, tally)
    proxy_url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with open(directory / "stdout.txt", "w") as out:
            process = subprocess.Popen(
                command(wapiti, client, directory, proxy_url), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            try:
                process.wait(PROCESS_SECONDS)
            except subprocess.TimeoutExpired:
                killed = True
                process.kill()
                process.wait()
    finally:
        server.shutdown()
        server.server_close()
    report_path = directory / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return {
        "seconds": round(time.monotonic() - started, 1),
        "returncode": process.returncode,
        "killed": killed,
        "output": (directory / "stdout.txt").read_text(errors="replace"),
        "report": report,
        "tally": tally,
    }


def entries(report: dict, section: str):
    for category, items in (report.get(section) or {}).items():
        for item in items:
            yield category, item


def not_a_finding(base: str, category: str, item: dict) -> str | None:
    """The one report item that is wrong for this deployment, or None.
    HSTS is sent only when the server terminates TLS itself (middleware.rs
    `harden`); the demo is plain HTTP on loopback, where a browser ignores
    the header anyway (RFC 6797, 8.1)."""
    if base.startswith("http://") and "Strict-Transport-Security" in category + json.dumps(item):
        return "HSTS over plain HTTP on loopback (sent only when TLS is configured)"
    return None


@dataclasses.dataclass
class Output:
    """What wapiti printed, read: its errors, and what a time bound cut."""

    errors: list[str] = dataclasses.field(default_factory=list)
    cancelled: int = 0  # "[!] ReadError with URL" right after a bound
    cut: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # by exception


def unretrieved(lines: list[str], start: int) -> tuple[int, str, str]:
    """The "Task exception was never retrieved" block at lines[start]: the
    index past its end, its "future:" line, and the last exception's line
    (the task's own, printed after the exceptions it was chained from)."""
    i = start + 1
    future = ""
    if i < len(lines) and lines[i].startswith("future:"):
        future = lines[i]
        i += 1
    exception = ""
    while i < len(lines) and lines[i].startswith("Traceback"):
        i += 1
        while i < len(lines) and lines[i].startswith(" "):
            i += 1  # the frames, indented
        if i < len(lines):
            exception = lines[i].strip()
            i += 1
        # A chained exception: a blank line, the sentence, a blank line, its traceback.
        if i + 2 < len(lines) and lines[i] == "" and lines[i + 1] in CHAINED and lines[i + 2] == "":
            i += 3
    return i, future, exception


def read_output(text: str) -> Output:
    output = Output()
    lines = text.splitlines()
    after_bound = False  # the line before was a bound's message, or was cut by it
    crawl_stopped = False  # the crawl's bound was reached, and its client closed
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if ENDPOINT_UNREACHABLE in line:
            continue  # see ENDPOINT_UNREACHABLE
        bound = BOUND_REACHED.search(line)
        if bound:
            after_bound = True
            crawl_stopped = crawl_stopped or bound.group(1) == "scan"
            continue
        if after_bound and line.startswith("[!] ReadError with URL"):
            output.cancelled += 1  # in flight when the bound cancelled it: the proxy saw the answer
            continue
        if line.startswith("Task exception was never retrieved"):
            end, future, exception = unretrieved(lines, i - 1)
            i = end
            cut = cut_by_bound(exception)
            if crawl_stopped and CRAWL_TASK in future and cut:
                output.cut[cut] += 1
                continue
            output.errors.append(f"{line.strip()}: {future.strip()}: {exception}")
        elif "Traceback" in line or "[!]" in line:
            output.errors.append(line.strip())
        after_bound = False
    return output


def judge(part: lib.Part, name: str, base: str, result: dict) -> None:
    if result["killed"]:
        part.find(f"{name}: wapiti did not finish in {PROCESS_SECONDS} s and was killed")
    report = result["report"]
    if report is None:
        part.find(f"{name}: wapiti wrote no report (exit {result['returncode']}): {result['output'][-800:]}")
        return
    if result["returncode"] != 0:
        part.find(f"{name}: wapiti exited {result['returncode']}: {result['output'][-800:]}")
    output = read_output(result["output"])
    for error in output.errors:
        part.find(f"{name}: wapiti reported an error: {error}")
    if output.cancelled:
        part.note(f"{name}: {output.cancelled} requests in flight when a time bound stopped wapiti (ReadError)")
    for exception, count in sorted(output.cut.items()):
        part.note(
            f"{name}: {count} crawl tasks still running when --max-scan-time closed wapiti's client, "
            f"{CUT_BY_BOUND[exception]} ({exception})"
        )
    for section in ("vulnerabilities", "anomalies"):
        for category, item in entries(report, section):
            where = f"{item.get('method', '')} {item.get('path', '')} {item.get('parameter', '')}".strip()
            reason = not_a_finding(base, category, item)
            if reason:
                part.note(f"{name}: not a finding: {category} at {where}: {reason}")
                continue
            part.find(f"{name}: {section[:-1] if section.endswith('s') else section} {category}: {where}: {item.get('info', '')}")
    for category, item in entries(report, "additionals"):
        part.note(f"{name}: additional {category}: {item.get('info', '')}")

    infos = report.get("infos") or {}
    crawled = infos.get("crawled_pages") or []
    paths = set()
    forms = 0
    for page in crawled:
        request = page.get("request", page) if isinstance(page, dict) else {}
        url = request.get("url", "")
        paths.add(re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0] or "/")
        forms += request.get("method") == "POST"
    missing = [p for p in MUST_CRAWL[name] if p not in paths]
    if missing:
        part.find(f"{name}: the crawl never reached {missing}: not logged in as that role")
    login_only = {"/login", "/activate", "/recover"} & paths
    if login_only:
        part.find(f"{name}: the crawl reached the logged-out pages {sorted(login_only)}")
    tally: Tally = result["tally"]
    for error in tally.errors:
        part.find(f"{name}: the server answered {error}")
    if tally.logged_out:
        part.find(f"{name}: {len(tally.logged_out)} answers to the session cookie were the login page, e.g. {tally.logged_out[0]}")
    if tally.pages_logged_in == 0:
        part.find(f"{name}: no answer to wapiti was a page of a logged-in user")
    if tally.refused:
        part.note(f"{name}: not forwarded (not the demo): {sorted(set(tally.refused))[:5]}")
    if tally.abandoned:
        # The server did answer (its status is in the tally, a 5xx among
        # them would be a finding); wapiti had cancelled the request.
        part.note(f"{name}: {tally.abandoned} answers came after wapiti had cancelled the request (a time bound)")
    part.note(
        f"{name}: {tally.requests} requests through the proxy, by method {tally.methods}, "
        f"answers by status {dict(sorted(tally.statuses.items()))}, {tally.pages_logged_in} pages of a logged-in user, "
        f"{tally.abandoned} answered after wapiti cancelled them"
    )
    modules = re.findall(r"\[\*\] Launching module (\w+)", result["output"])
    bounded = re.findall(r"Max attack time was reached for module (\w+)", result["output"])
    part.note(
        f"{name}: {infos.get('version', '?')}, {result['seconds']} s, {infos.get('crawled_pages_nbr', '?')} requests "
        f"crawled ({forms} form posts, {len(paths)} paths), modules {modules}; stopped by --max-attack-time: {bounded}"
    )
    if not modules:
        part.find(f"{name}: wapiti ran no module")


def run(context) -> None:
    part: lib.Part = context.part
    wapiti = os.environ.get("WAPITI") or shutil.which("wapiti")
    if not wapiti:
        part.find("wapiti is not installed (scripts/attack sets WAPITI)")
        return
    out = context.out / "wapiti"
    shutil.rmtree(out, ignore_errors=True)
    base = context.demo.base
    for pattern, reason in excluded(base):
        part.note(f"excluded {pattern.removeprefix(base)}: {reason}")
    clients = {name: context.client(name) for name in USERS}

    results: dict[str, dict] = {}

    def one(name: str) -> None:
        results[name] = scan(wapiti, clients[name], out / name)

    threads = [threading.Thread(target=one, args=(name,)) for name in USERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for name in USERS:
        judge(part, name, base, results[name])
        if not clients[name].logged_in():
            part.find(f"{name}: the session did not survive the wapiti scan")
    part.requests += sum(results[name]["tally"].requests for name in USERS)
