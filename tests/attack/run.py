"""The attack battery: one throwaway demo on loopback, every part run
against it in turn, a report in target/attack/, and exit status 1 on any
finding. Run by scripts/attack (which installs the tools and builds the
server); `--only headers,fuzz` runs some parts, for working on one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import lib

# In order: the canaries are written first and looked for last; the
# throttle part locks accounts out, so it runs after every part that needs
# a login.
PARTS = ["canary_seed", "headers", "sqlmap", "wapiti", "fuzz", "throttles", "server_log", "canary_scan"]


class Context:
    """What every part gets: the demo, a place for its files, and one
    logged-in client per demo user, made on first use."""

    def __init__(self, demo: lib.Demo, out: Path):
        self.demo = demo
        self.out = out
        self.part: lib.Part | None = None
        self._clients: dict[tuple[str, str], lib.Client] = {}
        self.shared: dict = {}  # what one part leaves for a later one (the canaries)

    def client(self, username: str, part: str | None = None) -> lib.Client:
        """A logged-in client of `username`, one per (user, part), kept."""
        key = (username, part or self.part.name)
        if key not in self._clients or not self._clients[key].logged_in():
            self._clients[key] = lib.log_in(self.demo, username, key[1])
        return self._clients[key]

    def users(self) -> list[dict]:
        return self.demo.info["users"]

    def clients(self) -> list[tuple[str, str, lib.Client]]:
        """Every client made so far, as (username, part, client)."""
        return [(username, part, client) for (username, part), client in self._clients.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated parts to run (default: all)")
    parser.add_argument("--out", default=str(lib.REPO / "target" / "attack"))
    args = parser.parse_args()
    wanted = args.only.split(",") if args.only else PARTS
    unknown = [p for p in wanted if p not in PARTS]
    if unknown:
        print(f"unknown parts: {unknown}; the parts are {PARTS}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    demo = lib.Demo(out)
    context = Context(demo, out)
    results: list[lib.Part] = []
    try:
        for name in PARTS:
            if name not in wanted:
                continue
            part = lib.Part(name)
            context.part = part
            print(f"== {name}", flush=True)
            before = dict(lib.REQUESTS.by_part)
            t0 = time.monotonic()
            try:
                module = __import__(name)
                module.run(context)
            except Exception:  # a part that cannot finish is a finding, never a pass
                part.find("the part stopped with an error:\n" + traceback.format_exc())
            part.seconds = round(time.monotonic() - t0, 1)
            part.requests += sum(lib.REQUESTS.by_part.values()) - sum(before.values())
            if not demo.running():
                part.find("the server stopped during this part")
            results.append(part)
            print(f"   {name}: {part.requests} requests, {part.seconds} s, {len(part.findings)} findings", flush=True)
            if not demo.running():
                break
    finally:
        demo.stop()

    report = {
        "seconds": round(time.monotonic() - started, 1),
        "requests": sum(p.requests for p in results),
        "parts": [vars(p) for p in results],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    findings = sum(len(p.findings) for p in results)
    print(f"== attack battery: {report['requests']} requests in {report['seconds']} s, {findings} findings")
    print(f"   report: {out / 'report.json'}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
