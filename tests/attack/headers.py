"""Headers and cookie flags on every route of the route table, for every
role, anonymous, and an account that has activated but not enrolled.

GET routes are asked with real ids where a crawl as that person (or as
anyone) found a link of the route's shape, else with made-up ids. POST
routes are sent with an empty body and so without a CSRF token: the form
extractor or the token check refuses them before the handler does
anything (no side effect; the sweep can therefore post /logout and
/lockdown). Every answer is checked for the headers `harden` sets, every
Set-Cookie for its flags, and the status against the route's roles.
"""

from __future__ import annotations

import re
import secrets
import uuid

import lib

# What harden() in server/src/web/middleware.rs sets on every answer.
EXPECTED = {
    "content-security-policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    # Every page may hold case data; the stylesheet is no exception here.
    "cache-control": "no-store",
    "vary": "Accept-Language, Cookie",
}

# The flags each cookie the server sets must carry, lower-cased.
COOKIE_FLAGS = {
    "__Host-safehouse": {"secure", "httponly", "samesite=strict", "path=/"},
    "safehouse-lang": {"secure", "httponly", "samesite=strict", "path=/"},
}


def header_problems(reply: lib.Reply) -> list[str]:
    """What is wrong with an answer's security headers and cookies."""
    problems = []
    for name, value in EXPECTED.items():
        got = reply.all(name)
        if got != [value]:
            problems.append(f"{name}: {got!r}, not {value!r}")
    csp = reply.header("content-security-policy") or ""
    if "default-src 'none'" not in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"the CSP lacks default-src 'none' or frame-ancestors 'none': {csp!r}")
    if reply.header("server") is not None:
        problems.append(f"a Server header: {reply.header('server')!r}")
    if not re.fullmatch(r"[0-9A-Za-z_-]{8,}", reply.header("x-request-id") or ""):
        problems.append(f"no request id: {reply.header('x-request-id')!r}")
    if not reply.header("content-language"):
        problems.append("no Content-Language")
    for cookie in reply.all("set-cookie"):
        problems += cookie_problems(cookie)
    return problems


def cookie_problems(cookie: str) -> list[str]:
    pair, *attributes = [p.strip() for p in cookie.split(";")]
    name = pair.partition("=")[0]
    flags = {a.lower() for a in attributes}
    if name not in COOKIE_FLAGS:
        return [f"a cookie nobody expects: {name}"]
    problems = []
    missing = COOKIE_FLAGS[name] - flags
    if missing:
        problems.append(f"cookie {name} lacks {sorted(missing)}: {cookie!r}")
    if any(a.startswith("domain") for a in flags):
        problems.append(f"cookie {name} names a Domain: {cookie!r}")
    if name.startswith("__Host-") and "path=/" not in flags:
        problems.append(f"cookie {name} is __Host- without Path=/")
    return problems


def _pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/?]+", re.escape(path)) + "$")


def _made_up(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda m: "view" if m.group(0) == "{action}" else str(uuid.uuid4()), path)


def run(context) -> None:
    part = context.part
    demo = context.demo
    table = lib.routes()
    if len(table) < 50:
        part.find(f"the route table has only {len(table)} routes")

    # The people: anonymous, an activated account not yet enrolled, the six
    # demo users.
    people: list[tuple[str, str | None, lib.Client]] = []
    anonymous = lib.Client(demo, part.name)
    people.append(("anonymous", None, anonymous))
    admin = context.client("admin.slate")
    password = "pw-" + secrets.token_urlsafe(18)
    enrolling = lib.new_account(demo, admin, "hdr" + secrets.token_hex(6), "caseworker", password, enrol=False)
    context.shared.setdefault("secrets", {})["the enrolling account's password"] = password
    people.append(("enrolling", "caseworker", enrolling["client"]))
    for user in context.users():
        people.append((user["username"], user["role"], context.client(user["username"])))

    # Real ids: every page each person reaches by crawling (for GET
    # routes) and every form's action (for POST routes).
    links: dict[tuple[str, str], list[str]] = {}
    for name, role, client in people:
        if role is None or name == "enrolling":
            continue
        pages, forms = lib.crawl(client, limit=200, per_shape=2)
        links[(name, "GET")] = [p.partition("?")[0] for p in pages]
        links[(name, "POST")] = [lib.local(f.action).partition("?")[0] for f in forms if f.method == "POST"]
    patterns = [(r["method"], r["path"], _pattern(r["path"]), r["path"].count("{")) for r in table]

    def route_of(method: str, target: str) -> str | None:
        # The route the router picks: literal segments win over {id}.
        matching = [(n, path) for m, path, pattern, n in patterns if m == method and pattern.match(target)]
        return min(matching)[1] if matching else None

    def target_for(name: str, method: str, path: str) -> tuple[str, bool]:
        if "{" not in path:
            return path, True
        own = links.get((name, method), [])
        anyone = [t for (who, m), found in links.items() if m == method for t in found]
        found = next((t for t in own + anyone if route_of(method, t) == path), None)
        return (found, True) if found else (_made_up(path), False)

    problems: dict[str, list[str]] = {}
    answers = 0
    real_ids = made_up = 0

    def record(where: str, problem: str) -> None:
        problems.setdefault(problem, []).append(where)

    statuses: dict[int, int] = {}

    def check(where: str, reply: lib.Reply) -> None:
        nonlocal answers
        answers += 1
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        for problem in header_problems(reply):
            record(where, problem)
        if reply.status >= 500:
            record(where, f"a {reply.status}")

    for name, role, client in people:
        for route in table:
            method, path, access, roles = route["method"], route["path"], route["access"], route["roles"]
            target, real = target_for(name, method, path)
            if "{" in path:
                real_ids += real
                made_up += not real
            if method == "GET":
                reply = client.get(target)
            else:
                reply = client.post_raw(target, b"")
            where = f"{name} {method} {target}"
            check(where, reply)
            location = reply.header("location") or ""
            allowed = role in roles
            if access == "public":
                continue
            if name == "anonymous":
                if not (reply.status == 303 and location.startswith("/login")) and reply.status != 403:
                    record(where, f"anonymous got {reply.status} {location!r}, not the login page")
            elif name == "enrolling" and access == "roles":
                if not (reply.status == 303 and location.startswith("/enrol")) and reply.status != 403:
                    record(where, f"an enrolling session got {reply.status} {location!r}, not /enrol")
            elif access == "roles" and not allowed and reply.status != 403:
                record(where, f"{role} is not among {roles} but got {reply.status} {location!r}")
            elif allowed and method == "GET" and reply.status == 403:
                record(where, f"{role} is among {roles} but got 403")
            elif allowed and method == "POST" and reply.status < 400 and access == "roles":
                record(where, f"a post without a token was not refused: {reply.status} {location!r}")

    # The language cookie, set by a language link on the login page.
    extra = lib.Client(demo, part.name)
    reply = extra.get("/login?lang=ja")
    check("anonymous GET /login?lang=ja", reply)
    if not any(c.startswith("safehouse-lang=") for c in reply.all("set-cookie")):
        record("anonymous GET /login?lang=ja", "no safehouse-lang cookie set by the language link")
    # The session cookie as a login sets it.
    fresh = lib.Client(demo, part.name)
    fresh.get("/login")
    user = demo.user("comms.wren")
    reply = fresh.post("/login", [("username", user["username"]), ("password", user["password"]), ("code", lib.totp(user["totp_secret"]))])
    check("comms.wren POST /login", reply)
    session_cookies = [c for c in reply.all("set-cookie") if c.startswith("__Host-safehouse=")]
    if reply.status != 303 or not session_cookies:
        record("comms.wren POST /login", f"a login set no session cookie ({reply.status})")
    context.shared.setdefault("cookies", []).extend(fresh.cookies.values())

    # Proof the sweep ran logged in: every person but the anonymous one is
    # still logged in, and each reached pages.
    for name, role, client in people[2:]:
        if not client.logged_in():
            part.find(f"{name} was logged out by the sweep")
    for (name, method), pages in links.items():
        if method == "GET" and len(pages) < 3:
            part.find(f"{name} reached only {len(pages)} pages by crawling")
    for problem, where in sorted(problems.items()):
        part.find(f"{problem}: {len(where)} answers, e.g. {where[:3]}")
    part.note(
        f"{len(table)} routes x {len(people)} people ({', '.join(p[0] for p in people)}): {answers} answers checked; "
        f"ids: {real_ids} real (crawled: {sum(len(v) for (_, m), v in links.items() if m == 'GET')} pages), {made_up} made up; statuses {dict(sorted(statuses.items()))}"
    )
