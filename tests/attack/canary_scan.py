"""The canary scan: every file under the demo's data directory (the
database, its WAL and shared memory, sessions, secrets, anything
temporary), read while the server still runs, must hold no canary in
clear: not as UTF-8, UTF-16 (either byte order), base64 or hex.

Proof the scan can fail: strings stored in clear by design (the ids of
the case and shelter canary_seed made, a demo user's id) must be found.
"""

from __future__ import annotations

import base64
import binascii

import lib


def forms_of(value: str) -> dict[str, bytes]:
    raw = value.encode()
    forms = {
        "UTF-8": raw,
        "UTF-16LE": value.encode("utf-16-le"),
        "UTF-16BE": value.encode("utf-16-be"),
        "hex": binascii.hexlify(raw),
        "HEX": binascii.hexlify(raw).upper(),
    }
    # base64 of the string at each of the three alignments it may sit at
    # inside a longer encoded text: the middle of each is stable.
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)[4:-4]
        if len(encoded) >= 8:
            forms[f"base64+{shift}"] = encoded
    return forms


def run(context) -> None:
    part = context.part
    demo = context.demo
    if not demo.running():
        part.find("the demo was not running: the scan must read its files while it serves")
        return
    canaries = context.shared.get("canaries", {})
    control = dict(context.shared.get("control", {}))
    control["a demo user's id"] = demo.first_of("coordinator")["user_id"]
    if len(canaries) < 10:
        part.find(f"only {len(canaries)} canaries to look for: did canary_seed run?")
    files = sorted(p for p in demo.data_dir.rglob("*") if p.is_file())
    names = {p.name for p in files}
    if not any(n.endswith("-wal") for n in names):
        part.note("no WAL file at scan time (checkpointed)")
    total = 0
    contents = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as error:
            part.find(f"could not read {path.relative_to(demo.data_dir)}: {error}")
            continue
        total += len(data)
        contents.append((path, data))
    for name, value in canaries.items():
        for how, needle in forms_of(value).items():
            for path, data in contents:
                if needle in data or needle.lower() in data.lower():
                    part.find(f"the {name} canary is in {path.relative_to(demo.data_dir)} ({how})")
    for name, value in control.items():
        if not any(value.encode() in data for _, data in contents):
            part.find(f"the control string ({name}) is in no file: the scan cannot see what is in clear")
    part.note(
        f"{len(files)} files, {total} bytes read ({', '.join(sorted(str(p.relative_to(demo.data_dir)) for p in files))}); "
        f"{len(canaries)} canaries in {len(forms_of('x' * 20))} encodings each: none found; "
        f"{len(control)} control strings found: {', '.join(control)}"
    )
