"""The server's log after the battery: no internal error, no error line,
no panic; and none of the canaries, passwords, authenticator secrets,
session cookie values or CSRF tokens, in clear or URL-encoded.

Proof the log is the running server's and is read whole: a cross-site
post is sent first, and its warning (with the request id the answer
carried) must be found in it.
"""

from __future__ import annotations

import re
import time
import urllib.parse

import lib

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
BAD_LINES = re.compile(r"internal error|\bERROR\b|panic|panicked|RUST_BACKTRACE|stack backtrace", re.IGNORECASE)


def secrets_of(context) -> dict[str, str]:
    """Every secret the battery knows of: what canary_seed and other parts
    left, and each client's cookies and CSRF token."""
    found: dict[str, str] = {}
    for name, value in context.shared.get("canaries", {}).items():
        found[f"the {name} canary"] = value
    found.update(context.shared.get("secrets", {}))
    for i, value in enumerate(context.shared.get("cookies", [])):
        found[f"a session cookie left by a part ({i})"] = value
    for username, part, client in context.clients():
        for name, value in client.cookies.items():
            if name == "__Host-safehouse":
                found[f"{username}'s session cookie in {part}"] = value
        if client.csrf:
            found[f"{username}'s CSRF token in {part}"] = client.csrf
    for user in context.users():
        found.setdefault(f"{user['username']}'s password", user["password"])
        found.setdefault(f"{user['username']}'s TOTP secret", user["totp_secret"])
    return {k: v for k, v in found.items() if v and len(v) >= 6}


def run(context) -> None:
    part = context.part
    demo = context.demo
    probe = lib.Client(demo, part.name)
    reply = probe.post("/login", [("username", "x")], headers={"Sec-Fetch-Site": "cross-site"})
    request_id = reply.header("x-request-id") or "(none)"
    if reply.status != 403:
        part.find(f"a cross-site post was answered {reply.status}, not 403")
    time.sleep(0.5)
    log = _ANSI.sub("", demo.log())
    lines = log.splitlines()
    if not any("cross-site request refused" in line and request_id in line for line in lines):
        part.find(f"the log lacks the warning of the cross-site post {request_id}: the log read is not the server's")
    for line in lines:
        if BAD_LINES.search(line):
            part.find(f"an error line in the server's log: {line[:300]}")
    secrets = secrets_of(context)
    if len(secrets) < 12:
        part.find(f"only {len(secrets)} secrets to look for: did canary_seed run?")
    leaked = 0
    for name, value in secrets.items():
        for form in {value, urllib.parse.quote_plus(value), urllib.parse.quote(value, safe="")}:
            if form in log:
                part.find(f"{name} is in the server's log")
                leaked += 1
                break
    part.note(
        f"{len(lines)} log lines read (the cross-site probe's warning {request_id} among them); "
        f"{len(secrets)} secrets looked for, {leaked} found; no error line: {not any(BAD_LINES.search(x) for x in lines)}"
    )
