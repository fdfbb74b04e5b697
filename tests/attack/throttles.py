"""The login throttles under brute force and password spraying
(docs/accounts.md, Login): three free failures per username, then a
growing delay answered 429 with Retry-After; 30 attempts per address per
5 minutes. Attempts are counted before any work, so parallel attempts
see each other.

Each experiment uses accounts made for it (the admin creates them, their
owners activate and enrol) and a loopback address of its own (127.0.0.N:
the server sees another client address), so the battery's other sessions
and logins keep their budgets. Every experiment ends with the right
password and code sent during the throttle, which must be refused too,
and (where the delay is short) the same after it, which must let in:
proof the "right" credentials really were right.
"""

from __future__ import annotations

import secrets
import subprocess
import threading
import time

import lib

FREE_FAILURES = 3
ADDRESS_ATTEMPTS = 30


def _code(secret: str, offset_steps: int = 0) -> str:
    """An authenticator code, now or some steps away (a wrong one)."""
    args = ["oathtool", "--totp", "-b", secret]
    if offset_steps:
        args.insert(2, f"--now=@{int(time.time()) + offset_steps * 30}")
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def _wrong_code(secret: str) -> str:
    # Ten steps away: outside the one step of drift, so never accepted.
    right = {_code(secret, s) for s in (-1, 0, 1)}
    for steps in (10, 11, 12, 13):
        code = _code(secret, steps)
        if code not in right:
            return code
    return "000000" if "000000" not in right else "999999"


class Attempts:
    """Logins from one loopback address, counted."""

    def __init__(self, demo: lib.Demo, part: lib.Part, source: str):
        self.demo = demo
        self.part = part
        self.source = source
        self.sent = 0

    def login(self, username: str, password: str, code: str, extra_headers=None) -> lib.Reply:
        client = lib.Client(self.demo, self.part.name)
        client.source = self.source
        self.sent += 1
        return client.post(
            "/login", [("username", username), ("password", password), ("code", code)], headers=extra_headers
        )

    def parallel(self, n: int, make) -> list[lib.Reply]:
        """`n` logins released at once (a barrier), each `make(i)` ->
        (username, password, code)."""
        barrier = threading.Barrier(n)
        replies: list[lib.Reply | None] = [None] * n

        def one(i: int) -> None:
            username, password, code = make(i)
            client = lib.Client(self.demo, self.part.name)
            client.source = self.source
            body = f"username={username}&password={password}&code={code}".encode()
            barrier.wait()
            replies[i] = client.post_raw("/login", body)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.sent += n
        return [r for r in replies if r is not None]


def _throttled(reply: lib.Reply) -> bool:
    return reply.status == 429


def _evaluated(reply: lib.Reply) -> bool:
    # Answered "wrong password or code" (the login page again), not 429.
    return reply.status != 429


def run(context) -> None:
    part = context.part
    demo = context.demo
    admin = context.client("admin.slate")
    started = time.monotonic()
    results: list[str] = []

    def account(tag: str) -> dict:
        password = "pw-" + secrets.token_urlsafe(18)
        made = lib.new_account(demo, admin, f"thr{tag}{secrets.token_hex(4)}", "caseworker", password, enrol=True)
        context.shared.setdefault("secrets", {})[f"throttle account {tag}'s password"] = password
        context.shared["secrets"][f"throttle account {tag}'s TOTP secret"] = made["totp_secret"]
        return made

    def attempts(source: str) -> Attempts:
        return Attempts(demo, part, source)

    def retry_after(reply: lib.Reply) -> int:
        value = reply.header("retry-after") or ""
        if not value.isdigit() or int(value) < 1:
            part.find(f"a 429 without a usable Retry-After: {value!r}")
            return 1
        return int(value)

    def unused_code(acct: dict) -> str:
        # The next step's code: accepted now (one step of drift) and never
        # used (enrolment used this step's, and a replay would be refused
        # whatever the throttle says). A refused attempt does not use it.
        return _code(acct["totp_secret"], 1)

    def right_one_refused(a: Attempts, acct: dict, what: str) -> None:
        reply = a.login(acct["username"], acct["password"], unused_code(acct))
        if reply.status != 429:
            part.find(f"{what}: the right password and code during the throttle got {reply.status}, not 429")
        else:
            results.append(f"{what}: the right password and code during the throttle: 429")

    # A. TOTP brute force, one at a time: the right password, wrong codes.
    a = attempts("127.0.0.21")
    t1 = account("a")
    wrong = _wrong_code(t1["totp_secret"])
    before_429 = 0
    waited = 0
    evaluated = 0
    while evaluated < FREE_FAILURES + 3 and a.sent < 20:
        reply = a.login(t1["username"], t1["password"], wrong)
        if reply.status == 303:
            part.find("A: a wrong authenticator code let the login through")
            break
        if _throttled(reply):
            if before_429 == 0:
                before_429 = evaluated
            seconds = retry_after(reply)
            waited += seconds
            time.sleep(seconds + 0.2)
        else:
            evaluated += 1
    # One at a time, the third failure's own argon2 work (about a second in
    # a debug build) may outlast the one-second delay it starts, so the
    # fourth may be evaluated too; the fifth cannot (a two-second delay).
    if not FREE_FAILURES <= before_429 <= FREE_FAILURES + 1:
        part.find(f"A: {before_429} wrong codes were evaluated before the first 429, not {FREE_FAILURES} or {FREE_FAILURES + 1}")
    results.append(
        f"A (TOTP brute force, sequential): the first 429 after {before_429} wrong codes; "
        f"{evaluated} wrong codes evaluated in {a.sent} attempts, {waited} s of Retry-After waited"
    )
    right_one_refused(a, t1, "A")

    def burst(attempts_from, label: str, what: str, experiment: str, credentials):
        """20 wrong logins at once: none lets in, at most the free failures
        are evaluated (and at least one), the rest answered 429."""
        replies = attempts_from.parallel(20, credentials)
        through = sum(_evaluated(r) for r in replies)
        if any(r.status == 303 for r in replies):
            part.find(f"{label}: one of the parallel {what} let a login through")
        if len(replies) != 20 or through > FREE_FAILURES or through == 0:
            part.find(
                f"{label}: of 20 parallel {what}, {through} were evaluated (at most {FREE_FAILURES}, at least 1): "
                f"{[r.status for r in replies]}"
            )
        results.append(f"{label} ({experiment}, 20 in parallel): {through} evaluated, {sum(map(_throttled, replies))} answered 429")
        return replies

    # B. TOTP brute force, 20 at once against a fresh account.
    b = attempts("127.0.0.22")
    t2 = account("b")
    wrong = _wrong_code(t2["totp_secret"])
    replies = burst(b, "B", "wrong codes", "TOTP brute force", lambda i: (t2["username"], t2["password"], wrong))
    # After the delay the right code lets in: the account was not broken.
    time.sleep(max(retry_after(replies[-1]) if _throttled(replies[-1]) else 1, 1) + 1.5)
    reply = b.login(t2["username"], t2["password"], unused_code(t2))
    if reply.status != 303:
        part.find(f"B: the right password and code after the delay got {reply.status}, not 303 (was the right one right?)")
    else:
        results.append("B: the right password and code after the delay: 303 (a success clears the count)")

    # C. Password spraying: one common password across every username
    # (the demo's and invented ones), one at a time from one address.
    c = attempts("127.0.0.23")
    usernames = [u["username"] for u in context.users()] + [f"user{i:02d}" for i in range(40)]
    first_429 = None
    for i, username in enumerate(usernames[: ADDRESS_ATTEMPTS + 5]):
        reply = c.login(username, "Summer2026!", "123456")
        if reply.status == 303:
            part.find(f"C: the common password let {username} in")
        if _throttled(reply):
            first_429 = i + 1
            retry_after(reply)
            break
    if first_429 is None or first_429 > ADDRESS_ATTEMPTS + 1:
        part.find(f"C: spraying {c.sent} usernames from one address was never answered 429")
    results.append(f"C (password spraying, one address): the first 429 at attempt {first_429} (limit {ADDRESS_ATTEMPTS} per 5 min)")
    t3 = account("c")
    right_one_refused(c, t3, "C")
    spoofed = c.login(
        t3["username"], t3["password"], unused_code(t3), extra_headers={"X-Forwarded-For": "203.0.113.9"}
    )
    if spoofed.status != 429:
        part.find(f"C: an X-Forwarded-For from an untrusted peer escaped the address limit: {spoofed.status}")
    else:
        results.append("C: the same with a made-up X-Forwarded-For: 429 (the header is not trusted from this peer)")

    # D. Many passwords against one username, 20 at once, from yet another
    # address; then the right password during the throttle.
    d = attempts("127.0.0.24")
    t4 = account("d")
    replies = burst(
        d,
        "D",
        "wrong passwords",
        "passwords against one username",
        lambda i: (t4["username"], f"guess{i:02d}{secrets.token_hex(3)}", _code(t4["totp_secret"])),
    )
    # Three failures leave a delay of one second, gone before the burst's
    # evaluated attempts finish their work: three more wrong passwords one
    # at a time (waiting out each delay) leave eight seconds for the check.
    more = 0
    while more < 3 and d.sent < 40:
        reply = d.login(t4["username"], "guess-" + secrets.token_hex(4), _code(t4["totp_secret"]))
        if _throttled(reply):
            time.sleep(retry_after(reply) + 0.2)
        else:
            more += 1
    right_one_refused(d, t4, "D")

    sent = a.sent + b.sent + c.sent + d.sent
    seconds = time.monotonic() - started
    if sent > 150 or seconds > 120:
        part.find(f"the throttle experiments took {sent} logins and {seconds:.0f} s (bounds: 150, 120 s)")
    for line in results:
        part.note(line)
    part.note(f"{sent} login attempts in {seconds:.0f} s, from four loopback addresses, against four accounts made for it")
