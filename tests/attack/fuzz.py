"""Malformed, oversized, mis-encoded and duplicated input on every field
of every form each person reaches, and on the query parameters of GET
forms and links. A generated list (below), sent as raw bytes by
lib.Client: no fuzzer package is needed to say exactly what is sent.

Every answer must be a 4xx, or a 200/303 page (the form again naming the
problem, or the thing done); never a 5xx; the oversized bodies a 413.
After each form the server must still answer /health, and the person must
still be logged in (else they log in again, and it is said).
"""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.parse

import headers as header_sweep
import lib

BOUND_SECONDS = 240

# (what, the value as it goes on the wire, already form-encoded). Values
# that do not decode to UTF-8 must be refused whole (400: the server
# refuses them before any handler, rather than store U+FFFD as if typed).
_q = urllib.parse.quote_plus
NOT_UTF8 = {"invalid UTF-8 %C3%28", "invalid UTF-8 %FF", "a lone surrogate (CESU-8 ED A0 80)"}
VALUES = [
    ("a long single word (50 KB, under the body limit)", "W" * 50_000),
    ("invalid UTF-8 %C3%28", "%C3%28"),
    ("invalid UTF-8 %FF", "ab%FFcd"),
    ("broken percent-encoding %E", "ab%E"),
    ("a NUL byte", "ab%00cd"),
    ("a lone surrogate (CESU-8 ED A0 80)", "%ED%A0%80"),
    ("control characters", _q("a\x01\x07\x1b[31m\x7fb\x0b\x0c")),
    ("an RTL override", _q("\u202egnp.exe\u202c \u200b\ufeff")),
    ("1e309", "1e309"),
    ("-0", "-0"),
    ("a huge integer", "9" * 40),
    ("-1", "-1"),
    ("2026-02-30", "2026-02-30"),
    ("a value no select offers", "zz-not-offered"),
    ("markup and quotes", _q("<script>alert(1)</script>\"'`${{7*7}}")),
    ("empty", ""),
    ("only whitespace", _q("  \t\r\n  ")),
]
OVERSIZED = ("an oversized field (100 KB, over the 64 KB body limit)", "x" * 100_000)

# Forms acting on an account: freezing, removing, disabling or resetting
# would lock out the battery's own users, so the crawl's forms are not
# submitted; the same forms are fuzzed on accounts made for it instead
# (one for the coordinator's actions, one for the admin's: a frozen
# account offers the admin no action).
ON_ACCOUNTS = {
    "/team/{id}/{action}": ("coord.amber", "/team"),
    "/admin/users/{id}/{action}": ("admin.slate", "/admin/users"),
}

# Forms whose attempts count against the login throttles: 30 per address
# per 5 minutes (login, recovery) or the account's free failures (reauth,
# the password change). Their value variants go to every field at once,
# one request per value, so the battery stays within the budget that the
# throttle part and later logins need; the malformed bodies are refused
# before anything is counted and stay one per field.
THROTTLED = ("/login", "/recover", "/reauth", "/account/password")


def _encode(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{name}={value}" for name, value in pairs).encode("latin-1", errors="strict")


def _wire(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(_q(name), _q(value)) for name, value in pairs]


class Fuzzer:
    def __init__(self, context):
        self.context = context
        self.part = context.part
        self.demo = context.demo
        self.deadline = time.monotonic() + BOUND_SECONDS
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.forms = 0
        self.fields = 0
        self.queries = 0
        self.relogins = 0
        self.problems: dict[str, list[str]] = {}
        self.cut_short: list[str] = []

    def record(self, problem: str, where: str) -> None:
        self.problems.setdefault(problem, []).append(where)

    def send(self, client: lib.Client, method: str, target: str, body: bytes | None, content_type: str | None, what: str, expect=None):
        if method == "GET":
            reply = client.get(target)
        else:
            reply = client.post_raw(target, body or b"", content_type=content_type)
        self.requests += 1
        self.statuses[reply.status] = self.statuses.get(reply.status, 0) + 1
        where = f"{client.part}:{what} -> {method} {target[:120]}"
        if reply.status >= 500:
            self.record(f"a {reply.status}", where)
        elif expect is not None and reply.status != expect:
            self.record(f"{reply.status}, not {expect}", where)
        elif reply.status not in (200, 303) and not 400 <= reply.status < 500:
            self.record(f"an unexpected {reply.status}", where)
        for problem in header_sweep.header_problems(reply):
            self.record(problem, where)
        return reply

    def still_serving(self, after: str) -> None:
        probe = lib.Client(self.demo, self.part.name)
        reply = probe.get("/health")
        self.requests += 1
        if reply.status != 200:
            self.record(f"/health answered {reply.status}", after)

    # -- one form ---------------------------------------------------------

    def fuzz_post(self, client: lib.Client, form: lib.Form, username: str | None) -> None:
        action = lib.local(form.action)
        base = form.values()
        if client.csrf and any(name == "csrf" for name, _ in base):
            base = [(n, client.csrf if n == "csrf" else v) for n, v in base]
        throttled = action in THROTTLED
        fields = [f for f in form.fields]
        self.forms += 1
        self.fields += len(fields)
        form_urlencoded = "application/x-www-form-urlencoded"

        version = next((i for i, f in enumerate(fields) if f.name == "version"), None)

        def post(pairs_on_wire, what, expect=None, content_type=form_urlencoded, body=None):
            if version is not None and state["version"] is not None:
                # An accepted variant moved the record on: send the version
                # it is at now, or every later variant meets the edit
                # conflict (409) instead of the field checks.
                read_at = wire[version][1]
                pairs_on_wire = [
                    ("version", state["version"]) if n == "version" and v == read_at else (n, v) for n, v in pairs_on_wire
                ]
            data = body if body is not None else _encode(pairs_on_wire)
            reply = self.send(client, "POST", action, data, content_type, what, expect)
            if reply.status == 303 and version is not None:
                state["version"] = self.current_version(client, form)
            return reply

        state: dict[str, str | None] = {"version": None}

        wire = _wire(base)
        # The form as a whole: empty, without '=', as JSON, as multipart,
        # without a Content-Type, 3 MB.
        post([], "an empty body")
        post([], "a body without '='", body=b"justsomewordswithoutanequalssign")
        post([], "JSON", content_type="application/json", body=json.dumps(dict(base)).encode())
        boundary = "----battery" + secrets.token_hex(8)
        multipart = "".join(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n" for n, v in base
        ) + f"--{boundary}--\r\n"
        post([], "multipart", content_type=f"multipart/form-data; boundary={boundary}", body=multipart.encode())
        post(wire, "no Content-Type", content_type=None)
        post(wire, "a 3 MB body", expect=413, body=_encode(wire + [("pad", "p" * 3_000_000)]))

        for index, field in enumerate(fields):
            name = _q(field.name)
            others = [pair for i, pair in enumerate(wire) if i != index]
            here = wire[index] if index < len(wire) else (name, "")
            post(others, f"{field.name} missing")
            post(wire + [(name, "another-value")], f"{field.name} twice with two values")
            post(others + [(_q(field.name + "[]"), here[1])], f"{field.name} as {field.name}[]")
            post(others + [(name, OVERSIZED[1])], f"{field.name}: {OVERSIZED[0]}", expect=413)
            if field.name == "csrf" or throttled:
                continue
            for what, value in VALUES:
                changed = [(n, value if i == index else v) for i, (n, v) in enumerate(wire)]
                post(changed, f"{field.name}: {what}", expect=400 if what in NOT_UTF8 else None)
        if throttled:
            for what, value in VALUES:
                changed = [(n, v if n in ("csrf", "next") else value) for n, v in wire]
                post(changed, f"every field: {what}", expect=400 if what in NOT_UTF8 else None)
            if action in ("/reauth", "/account/password") and username:
                self.clear_failures(client, username)
        self.still_serving(action)

    def current_version(self, client: lib.Client, form: lib.Form) -> str | None:
        try:
            fresh = lib.form_on(client, lib.local(form.page), lib.local(form.action))
        except RuntimeError:
            return None  # the record is gone or closed: the variants meet that
        self.requests += 1
        return next((f.value for f in fresh.fields if f.name == "version"), None)

    def clear_failures(self, client: lib.Client, username: str) -> None:
        """A correct re-authentication clears the account's failures, which
        the hostile passwords just counted."""
        user = self.demo.user(username)
        form = lib.form_on(client, "/reauth", "/reauth")
        time.sleep(1)  # past the delay the failures started, if any
        reply = client.post("/reauth", lib.filled(form, {"password": user["password"]}))
        self.requests += 2
        if reply.status not in (200, 303):
            self.record(f"a correct re-authentication after fuzzing answered {reply.status}", username)

    def fuzz_get(self, client: lib.Client, target: str, names: list[str]) -> None:
        path, _, query = target.partition("?")
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if not pairs:
            pairs = [(n, "") for n in names]
        wire = _wire(pairs)
        self.queries += 1
        self.fields += len(wire)
        for index, (name, _) in enumerate(wire):
            others = [pair for i, pair in enumerate(wire) if i != index]
            variants = [(f"{name} twice", wire + [(name, "another-value")], None), (f"{name}[]", others + [(name + "%5B%5D", "x")], None)]
            variants += [
                (f"{name}: {what}", [(n, value if i == index else v) for i, (n, v) in enumerate(wire)], 400 if what in NOT_UTF8 else None)
                for what, value in VALUES
            ]
            for what, changed, expect in variants:
                self.send(client, "GET", path + "?" + "&".join(f"{n}={v}" for n, v in changed), None, None, what, expect)
        self.send(client, "GET", path + "?%", None, None, "a bare % in the query")
        self.send(client, "GET", path + "?" + "q=" + "y" * 9000, None, None, "a 9 KB query")
        self.still_serving(path)

    # -- one person ---------------------------------------------------------

    def person(self, label: str, client: lib.Client, username: str | None) -> None:
        pages, forms = lib.crawl(client, start="/" if username else "/login", limit=150, per_shape=1)
        for route, (owner, list_page) in ON_ACCOUNTS.items():
            if owner == username:
                forms += self.throwaway_forms(client, route, list_page)
        if username is None:
            for page in ("/activate", "/recover"):
                reply = client.get(page)
                forms += lib.parse(self.demo.base + page, reply.text)[1]
        seen: set[tuple] = set()
        for form in forms:
            action = lib.local(form.action)
            path = action.partition("?")[0]
            on_account = next((r for r in ON_ACCOUNTS if header_sweep._pattern(r).match(path)), None)
            if on_account and not any(f"/{i}/" in path for i in self.throwaway.values()):
                continue
            key = (form.method, lib.shape_of(path), tuple(sorted(f.name for f in form.fields)))
            if key in seen:
                continue
            seen.add(key)
            route = lib.shape_of(path)
            if path in lib.SESSION_ENDERS:
                continue
            if on_account:
                self.on_accounts[on_account] = self.on_accounts.get(on_account, 0) + 1
            if time.monotonic() > self.deadline:
                self.cut_short.append(f"{label} {form.method} {route}")
                continue
            if form.method == "GET":
                self.fuzz_get(client, action, [f.name for f in form.fields])
            else:
                self.fuzz_post(client, form, username)
            if username and not client.logged_in():
                self.record("the session ended during the form (logged in again)", f"{label} {route}")
                client = self.context.client(username)
                self.relogins += 1
        # Links with a query string (lists, filters, the language links).
        shapes = set()
        for page in pages:
            if "?" in page and lib.shape_of(page) not in shapes and time.monotonic() < self.deadline:
                shapes.add(lib.shape_of(page))
                self.fuzz_get(client, page, [])

    def throwaway_forms(self, client: lib.Client, route: str, list_page: str) -> list[lib.Form]:
        """The action forms for the account made for `route`, from the
        links of the list page that name its id."""
        user_id = self.throwaway[route]
        reply = client.get(list_page)
        links, _ = lib.parse(self.demo.base + list_page, reply.text)
        forms: list[lib.Form] = []
        for link in sorted({l for l in links if f"/{user_id}/" in l}):
            page = client.get(link)
            if page.status == 200:
                forms += lib.parse(self.demo.base + link, page.text)[1]
        return [f for f in forms if f"/{user_id}/" in f.action]

    def make_throwaways(self) -> None:
        admin = self.context.client("admin.slate")
        for route in ON_ACCOUNTS:
            username = "fzz" + secrets.token_hex(6)
            password = "pw-" + secrets.token_urlsafe(18)
            lib.new_account(self.demo, admin, username, "caseworker", password, enrol=True)
            self.context.shared.setdefault("secrets", {})[f"the fuzzed account {username}'s password"] = password
            listing = admin.get("/admin/users").text
            match = re.search(re.escape(username) + r"</td>.*?/admin/users/([0-9a-f-]{36})/", listing, re.S)
            if not match:
                raise RuntimeError(f"the account made for {route} is not on the admin's list")
            self.throwaway[route] = match.group(1)

    def run(self) -> None:
        self.throwaway: dict[str, str] = {}
        self.on_accounts: dict[str, int] = {}
        self.make_throwaways()
        # The public forms from a loopback address of their own: their
        # attempts count against that address's login budget, not the one
        # the battery's own logins use.
        anonymous = lib.Client(self.demo, self.part.name)
        anonymous.source = "127.0.0.9"
        self.person("anonymous", anonymous, None)
        # The admin last: their forms act on accounts.
        for username in ("case.river", "case.pine", "comms.wren", "audit.fern", "coord.amber", "admin.slate"):
            self.person(username, self.context.client(username), username)


def run(context) -> None:
    fuzzer = Fuzzer(context)
    started = time.monotonic()
    fuzzer.run()
    part = context.part
    for problem, where in sorted(fuzzer.problems.items()):
        part.find(f"{problem}: {len(where)} answers, e.g. {where[:3]}")
    if fuzzer.cut_short:
        part.find(f"the time bound ({BOUND_SECONDS} s) cut the fuzzing short; not reached: {fuzzer.cut_short}")
    if fuzzer.forms < 20:
        part.find(f"only {fuzzer.forms} forms were fuzzed")
    for route in ON_ACCOUNTS:
        if not fuzzer.on_accounts.get(route):
            part.find(f"no form of {route} was fuzzed on the account made for it")
        else:
            part.note(f"{route}: {fuzzer.on_accounts[route]} forms fuzzed on an account made for it")
    part.note(
        f"{fuzzer.forms} POST forms and {fuzzer.queries} GET forms or links, {fuzzer.fields} fields: "
        f"{fuzzer.requests} requests in {time.monotonic() - started:.0f} s; statuses {dict(sorted(fuzzer.statuses.items()))}"
    )
