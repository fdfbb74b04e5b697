"""What the attack battery's parts share: the demo server, an HTTP client
that sends exactly the bytes it is given, logins with password and
authenticator code, the pages' links and forms, and each part's findings.

Standard library only: the battery must not trust a client library to
send malformed requests as written.
"""

from __future__ import annotations

import dataclasses
import html
import html.parser
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / "target" / "debug" / "safehouse"

# Routes the scanners and the fuzzer never submit with a valid token: each
# ends sessions (its own or everyone's), and a scanner logged out scans only
# the login page. The header sweep still visits them (without a token).
SESSION_ENDERS = ("/logout", "/account/sessions/end", "/lockdown")


# ---------------------------------------------------------------------------
# The demo server
# ---------------------------------------------------------------------------


class Demo:
    """`safehouse demo --json` on a free loopback port; its stderr kept in
    `log_path` for the log checks (no 5xx, no secret)."""

    def __init__(self, out: Path, extra_args: tuple[str, ...] = ()):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEHOUSE_")}
        env["SAFEHOUSE_LISTEN"] = "127.0.0.1:0"
        env.setdefault("RUST_LOG", "info")
        self.log_path = out / "server.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(BINARY), "demo", "--json", *extra_args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        line = self._first_line(60)
        self.info = json.loads(line)
        url = urllib.parse.urlsplit(self.info["url"])
        self.host, self.port = url.hostname, url.port
        self.base = f"http://{self.host}:{self.port}"
        self.data_dir = Path(self.info["data_dir"])
        # Keep reading stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _first_line(self, seconds: float) -> str:
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(seconds)
        if not result or not result[0]:
            self.process.kill()
            raise RuntimeError(f"safehouse demo printed nothing in {seconds} s; see {self.log_path}")
        return result[0].decode()

    def user(self, username: str) -> dict:
        return next(u for u in self.info["users"] if u["username"] == username)

    def first_of(self, role: str) -> dict:
        return next(u for u in self.info["users"] if u["role"] == role)

    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM (the demo then removes its directory), SIGKILL after 15 s."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def routes() -> list[dict]:
    """The route table, from `safehouse routes`: method, path, access, roles."""
    out = subprocess.run([str(BINARY), "routes"], cwd=REPO, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


class Counter:
    """Requests sent, by part of the battery (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.by_part: dict[str, int] = {}

    def add(self, part: str, n: int = 1) -> None:
        with self._lock:
            self.by_part[part] = self.by_part.get(part, 0) + n


REQUESTS = Counter()


@dataclasses.dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """One person's browser, as far as the server can tell: a cookie jar of
    its own (kept by hand: `http.cookiejar` would not send a `Secure`
    cookie over loopback HTTP) and the requests counted under `part`."""

    def __init__(self, demo: Demo, part: str = "other"):
        self.demo = demo
        self.part = part
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        # The loopback address to send from (127.0.0.2 ...): the server sees
        # another client address, with login budgets of its own.
        self.source: str | None = None

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        timeout: float = 30,
    ) -> Reply:
        """Send exactly `target` (a path and query, not re-encoded) and `body`."""
        source = (self.source, 0) if self.source else None
        connection = http.client.HTTPConnection(self.demo.host, self.demo.port, timeout=timeout, source_address=source)
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            sent = dict((k.lower(), v) for k, v in (headers.items() if isinstance(headers, dict) else headers or []))
            items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
            if "cookie" not in sent and self.cookies:
                items.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
            if body is not None and "content-length" not in sent:
                items.append(("Content-Length", str(len(body))))
            for k, v in items:
                connection.putheader(k, v)
            try:
                connection.endheaders(body)
            except (BrokenPipeError, ConnectionResetError):
                # The server may answer (a 413) and close before a large
                # body is all sent: its answer is still there to read.
                pass
            response = connection.getresponse()
            reply = Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()
            REQUESTS.add(self.part)
        self._keep_cookies(reply)
        return reply

    def _keep_cookies(self, reply: Reply) -> None:
        for value in reply.all("set-cookie"):
            pair = value.split(";", 1)[0]
            name, _, content = pair.partition("=")
            attributes = value.lower()
            if content == "" or "max-age=0" in attributes:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = content.strip()

    def get(self, target: str, headers=None) -> Reply:
        return self.request("GET", target, headers=headers)

    def post(self, target: str, fields: list[tuple[str, str]], headers=None) -> Reply:
        """A form post, url-encoded as a browser does it."""
        body = urllib.parse.urlencode(fields).encode()
        items = [("Content-Type", "application/x-www-form-urlencoded")]
        items += list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        return self.request("POST", target, body, items)

    def post_raw(self, target: str, body: bytes, content_type="application/x-www-form-urlencoded", headers=None):
        items = [("Content-Type", content_type)] if content_type else []
        items += list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        return self.request("POST", target, body, items)

    def cookie_header(self) -> str:
        """The Cookie header a scanner sends to be this user."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def logged_in(self) -> bool:
        reply = self.get("/account")
        return reply.status == 200


# A code is accepted once per account and 30-second step (replays are
# refused), so a second login of the same account waits for the next step.
_last_step: dict[str, int] = {}


def totp(secret: str) -> str:
    """A code from oathtool: an implementation independent of the server's."""
    step = int(time.time() // 30)
    if _last_step.get(secret) == step:
        time.sleep((step + 1) * 30 - time.time() + 0.5)
    _last_step[secret] = int(time.time() // 30)
    return subprocess.run(["oathtool", "--totp", "-b", secret], check=True, capture_output=True, text=True).stdout.strip()


def log_in(demo: Demo, username: str, part: str) -> Client:
    """A client logged in as a demo user, its CSRF token read from the home page."""
    user = demo.user(username)
    client = Client(demo, part)
    client.get("/login")
    reply = client.post(
        "/login", [("username", user["username"]), ("password", user["password"]), ("code", totp(user["totp_secret"]))]
    )
    if reply.status != 303 or reply.header("location") != "/":
        raise RuntimeError(f"{username} could not log in: {reply.status} {reply.header('location')}")
    home = client.get("/")
    client.csrf = csrf_of(home.text)
    if not client.csrf:
        raise RuntimeError(f"{username}'s home page has no CSRF token")
    return client


def csrf_of(page: str) -> str | None:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------
# Pages: links and forms
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str
    options: list[str] = dataclasses.field(default_factory=list)
    required: bool = False
    maxlength: int | None = None


@dataclasses.dataclass
class Form:
    page: str  # the page it was found on
    method: str
    action: str
    fields: list[Field]

    def values(self) -> list[tuple[str, str]]:
        """What a browser submits untouched: each field's value, a select's
        first option, a checkbox or radio only when checked (kept by the parser)."""
        return [(f.name, f.value) for f in self.fields]


class _Parser(html.parser.HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self._radios: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urllib.parse.urljoin(self.page, a["href"]))
        elif tag == "form":
            action = urllib.parse.urljoin(self.page, a.get("action") or self.page)
            self._form = Form(self.page, (a.get("method") or "get").upper(), action, [])
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                if kind == "radio" and a["name"] not in self._radios:
                    # Remember an unchecked radio group's first value as an option.
                    self._form.fields.append(Field(a["name"], "radio-unchecked", a.get("value", "on")))
                    self._radios.add(a["name"])
                return
            maxlength = int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None
            self._form.fields.append(
                Field(a["name"], kind, a.get("value", "on" if kind == "checkbox" else ""), [], "required" in a, maxlength)
            )
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select", "", [], "required" in a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a or len(self._select.options) == 1:
                self._select.value = value
        elif tag == "textarea" and a.get("name"):
            maxlength = int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None
            self._textarea = Field(a["name"], "textarea", "", [], "required" in a, maxlength)
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            if self._form is not None:
                # A radio group with none checked submits nothing.
                self._form.fields = [f for f in self._form.fields if f.kind != "radio-unchecked"]
            self._form = None
            self._radios = set()
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(page_url: str, html_text: str) -> tuple[list[str], list[Form]]:
    """The same-origin links (as path and query) and the forms of a page."""
    parser = _Parser(page_url)
    parser.feed(html_text)
    origin = urllib.parse.urlsplit(page_url)
    links = []
    for link in parser.links:
        parts = urllib.parse.urlsplit(link)
        if parts.netloc == origin.netloc:
            links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links, parser.forms


def local(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client: Client, start: str = "/", limit: int = 400, per_shape: int = 3):
    """Every page a user reaches by links from `start` (GET only, HTML
    only), and the forms on them. Paths that differ only in ids count as
    one shape, visited at most `per_shape` times, so a list of 500 cases
    costs a handful of requests."""
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue = [start]
    pages: list[str] = []
    forms: list[Form] = []
    while queue and len(pages) < limit:
        target = queue.pop(0)
        if target in seen:
            continue
        seen.add(target)
        shape = shape_of(target)
        if shapes.get(shape, 0) >= per_shape:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        reply = client.get(target)
        if reply.status != 200 or not (reply.header("content-type") or "").startswith("text/html"):
            continue
        pages.append(target)
        links, found = parse(client.demo.base + target, reply.text)
        forms.extend(found)
        queue.extend(link for link in links if link not in seen)
    return pages, forms


_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}|/[0-9A-Za-z_-]{20,}|/\d+")


def shape_of(target: str) -> str:
    """A path with its ids replaced (the query's keys kept, not its values)."""
    path, _, query = target.partition("?")
    keys = sorted(k for k, _ in urllib.parse.parse_qsl(query, keep_blank_values=True))
    return _ID.sub("/{id}", path) + ("?" + "&".join(keys) if keys else "")


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Part:
    """One part of the battery: what it tried, what it found."""

    name: str
    findings: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0

    def find(self, finding: str) -> None:
        print(f"  FINDING [{self.name}] {finding}", flush=True)
        self.findings.append(finding)

    def note(self, note: str) -> None:
        print(f"  [{self.name}] {note}", flush=True)
        self.notes.append(note)


# ---------------------------------------------------------------------------
# Forms filled in, accounts made for a part
# ---------------------------------------------------------------------------


def form_on(client: Client, page: str, action: str) -> Form:
    """The form on `page` that posts to `action` (a path), as the user sees it."""
    reply = client.get(page)
    if reply.status != 200:
        raise RuntimeError(f"{page} answered {reply.status} to {client.part}")
    _, forms = parse(client.demo.base + page, reply.text)
    for form in forms:
        if local(form.action) == action:
            return form
    raise RuntimeError(f"no form posting to {action} on {page}")


def filled(form: Form, changes: dict[str, str]) -> list[tuple[str, str]]:
    """The form's values with `changes` applied (new names appended)."""
    values = [(name, changes.get(name, value)) for name, value in form.values()]
    names = {name for name, _ in values}
    return values + [(name, value) for name, value in changes.items() if name not in names]


def new_account(demo: Demo, admin: Client, username: str, role: str, password: str, enrol: bool = True) -> dict:
    """An account made as a person would get one: the admin creates it
    (`admin` a logged-in admin client), its owner activates it with the code
    the admin was shown, and (if `enrol`) enrols an authenticator. Returns
    {username, password, totp_secret (None unless enrolled), client (the
    owner's browser: enrolling, or enrolled)}."""
    form = form_on(admin, "/admin/users", "/admin/users")
    reply = admin.post("/admin/users", filled(form, {"username": username, f"role_{role}": "on"}))
    if reply.status == 303:
        reply = admin.get(reply.header("location") or "/admin/users")
    match = re.search(r'<code class="secret">([^<]+)</code>', reply.text)
    if reply.status != 200 or not match:
        raise RuntimeError(f"the admin could not create {username}: {reply.status}")
    token = html.unescape(match.group(1)).strip()
    owner = Client(demo, admin.part)
    reply = owner.post("/activate", [("token", token), ("password", password), ("confirm", password)])
    if reply.status != 200 or "__Host-safehouse" not in owner.cookies:
        raise RuntimeError(f"{username} could not activate: {reply.status}")
    owner.csrf = csrf_of(reply.text)
    account = {"username": username, "password": password, "totp_secret": None, "client": owner}
    if not enrol:
        return account
    page = owner.get("/enrol")
    match = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    if page.status != 200 or not match:
        raise RuntimeError(f"{username}'s enrolment page shows no secret: {page.status}")
    secret = re.sub(r"\s+", "", html.unescape(match.group(1)))
    reply = owner.post("/enrol", [("csrf", csrf_of(page.text) or ""), ("code", totp(secret))])
    if reply.status not in (200, 303) or not owner.logged_in():
        raise RuntimeError(f"{username} could not enrol: {reply.status}")
    owner.csrf = csrf_of(owner.get("/").text)
    account["totp_secret"] = secret
    return account

# What the scanners never submit
# ---------------------------------------------------------------------------


def scanner_must_not_submit(method: str, path: str, own_user_id: str) -> str | None:
    """Why a scanner logged in as `own_user_id` must not send this form
    with a valid token, or None. Beyond SESSION_ENDERS: five wrong
    passwords at /reauth end the session by design; a team action on
    someone else changes their keys or ends their sessions (a freeze),
    and the other scanned user and the later parts log in as them. A team
    action on oneself is still scanned: freezing oneself is refused and
    the rest change only the scanner's own standing."""
    path = path.split("?", 1)[0]
    if method != "POST":
        return None
    if path in SESSION_ENDERS:
        return "it ends sessions (SESSION_ENDERS)"
    if path == "/reauth":
        return "five wrong passwords end the session (REAUTH_FAILURES_BEFORE_LOGOUT)"
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "team" and parts[2] != own_user_id:
        return "a team action on someone else changes their keys or ends their sessions"
    return None
