"""Canaries: unique random strings typed, through the real pages, into
every kind of sealed free text a user can type. None may ever appear in
clear in the data directory (canary_scan) or in the server's log
(server_log). Each write is checked: the page shows it back to a user
allowed to read it, so a canary that was refused cannot pass as sealed.

Left in context.shared: "canaries" {where: string}, "control" {what:
string} (strings stored in clear by design, that the scan must find) and
"secrets" {what: string} (passwords and authenticator secrets).
"""

from __future__ import annotations

import re
import secrets
import string

import lib


def _letters(n: int) -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(n))


def _canary() -> str:
    # Letters and digits only: every free-text field takes them, and the
    # page shows them back unescaped.
    return "cnry" + secrets.token_hex(10)


def _alias() -> str:
    # An alias refuses digits that could be a date or a year: letters only.
    return "Cnry" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))


def _location(reply: lib.Reply, what: str) -> str:
    if reply.status != 303 or not reply.header("location"):
        raise RuntimeError(f"{what}: answered {reply.status}, not a redirect: {_problem(reply)}")
    return reply.header("location") or ""


def _problem(reply: lib.Reply) -> str:
    found = re.findall(r'class="(?:field-error|error)"[^>]*>([^<]+)<', reply.text)
    return "; ".join(found)[:300] or reply.text[:200]


def run(context) -> None:
    part = context.part
    canaries: dict[str, str] = {}
    control: dict[str, str] = {}
    shown: dict[str, bool] = {}

    def expect_shown(client: lib.Client, page: str, names: list[str]) -> None:
        text = client.get(page).text
        for name in names:
            shown[name] = canaries[name] in text

    river = context.client("case.river")
    amber = context.client("coord.amber")

    # A new case: the alias of an adult and of a child, and the notes.
    canaries["case alias"] = _alias()
    canaries["case child alias"] = _alias()
    canaries["case notes"] = _canary()
    form = lib.form_on(river, "/cases/new", "/cases")
    values = lib.filled(
        form,
        {
            "alias_0": canaries["case alias"],
            "age_0": "30-44",
            "gender_0": "female",
            "consent_0": "yes",
            "alias_1": canaries["case child alias"],
            "age_1": "5-11",
            "gender_1": "male",
            "consent_1": "yes",
            "notes": canaries["case notes"],
        },
    )
    case = _location(river.post("/cases", values), "a new case")
    case_id = case.rstrip("/").rsplit("/", 1)[-1]
    control["the new case's id (ids are stored in clear)"] = case_id
    expect_shown(river, case, ["case alias", "case child alias", "case notes"])
    expect_shown(river, f"{case}/edit", ["case notes"])

    # Milestones: a note, and an education sponsorship of the child with a
    # sponsor code.
    canaries["milestone note"] = _canary()
    form = lib.form_on(river, case, f"{case}/milestones")
    values = lib.filled(
        form, {"kind": "contact_made", "date": "2026-01", "country": "TH", "note": canaries["milestone note"]}
    )
    _location(river.post(f"{case}/milestones", values), "a milestone")
    canaries["sponsor code"] = "SP-" + secrets.token_hex(8).upper() + "7"
    canaries["sponsorship note"] = _canary()
    form = lib.form_on(river, case, f"{case}/milestones")
    values = lib.filled(
        form,
        {
            "kind": "sponsorship_joined",
            "date": "2026-02",
            "child": canaries["case child alias"],
            "school_level": "primary",
            "sponsor": canaries["sponsor code"],
            "note": canaries["sponsorship note"],
        },
    )
    _location(river.post(f"{case}/milestones", values), "a sponsorship milestone")
    expect_shown(river, case, ["milestone note", "sponsor code", "sponsorship note"])

    # The coordinator's shelter register: code, region and notes.
    canaries["shelter code"] = _letters(6) + "-" + str(secrets.randbelow(900) + 100)
    canaries["shelter region"] = _canary()
    canaries["shelter notes"] = _canary()
    form = lib.form_on(amber, "/shelters", "/shelters")
    values = lib.filled(
        form,
        {
            "code": canaries["shelter code"],
            "region": canaries["shelter region"],
            "capacity": "12",
            "notes": canaries["shelter notes"],
        },
    )
    _location(amber.post("/shelters", values), "a new shelter")
    listing = amber.get("/shelters").text
    match = re.search(r'href="/shelters/([0-9a-f-]{36})/edit"[^>]*>[^<]*' + re.escape(canaries["shelter code"]), listing)
    ids = re.findall(r"/shelters/([0-9a-f-]{36})/edit", listing)
    shelter_id = match.group(1) if match else next(
        (i for i in ids if canaries["shelter code"] in amber.get(f"/shelters/{i}/edit").text), None
    )
    if shelter_id is None:
        raise RuntimeError("the new shelter is not on the coordinator's list")
    control["the new shelter's id"] = shelter_id
    expect_shown(amber, f"/shelters/{shelter_id}/edit", ["shelter code", "shelter region", "shelter notes"])

    # Aid: a kind of aid the coordinator adds (name and unit), and an entry
    # with a private note by the caseworker.
    canaries["aid kind name"] = _canary()
    canaries["aid kind unit"] = "u" + secrets.token_hex(8)  # at most 20 characters
    aid = f"/shelters/{shelter_id}/aid"
    form = lib.form_on(amber, aid, "/aid/kinds")
    values = lib.filled(form, {"name": canaries["aid kind name"], "unit": canaries["aid kind unit"]})
    _location(amber.post("/aid/kinds", values), "a new kind of aid")
    expect_shown(amber, aid, ["aid kind name", "aid kind unit"])
    canaries["aid entry note"] = _canary()
    # A caseworker records aid at a shelter of the register they hold (a
    # shelter made a moment ago may not be theirs yet): one their case
    # list offers.
    offered = lib.form_on(river, "/cases", "/cases")
    shelter_field = next(f for f in offered.fields if f.name == "shelter")
    aid = next(
        (
            f"/shelters/{o}/aid"
            for o in shelter_field.options
            if re.fullmatch(r"[0-9a-f-]{36}", o) and o != shelter_id and river.get(f"/shelters/{o}/aid").status == 200
        ),
        None,
    )
    if aid is None:
        raise RuntimeError("the caseworker reaches no shelter's aid page")
    form = lib.form_on(river, aid, aid)
    values = lib.filled(
        form, {"kind": "food", "quantity": "5", "people_served": "3", "note": canaries["aid entry note"]}
    )
    _location(river.post(aid, values), "an aid entry")
    expect_shown(amber, aid, ["aid entry note"])

    # A username is sealed in the user directory: the admin makes an
    # account named by a canary (its owner activates it, as anyone would).
    canaries["username"] = "cnry" + secrets.token_hex(8)
    admin = context.client("admin.slate")
    password = "pw-" + secrets.token_urlsafe(18)
    account = lib.new_account(context.demo, admin, canaries["username"], "caseworker", password, enrol=True)
    shown["username"] = canaries["username"] in admin.get("/admin/users").text

    for name, ok in shown.items():
        if not ok:
            part.find(f"the canary typed as the {name} is not shown back to an allowed user: it was not written")
    missing = sorted(set(canaries) - set(shown))
    if missing:
        part.find(f"canaries never checked: {missing}")

    secrets_found = {}
    for user in context.users():
        secrets_found[f"{user['username']}'s password"] = user["password"]
        secrets_found[f"{user['username']}'s TOTP secret"] = user["totp_secret"]
    secrets_found["the canary account's password"] = password
    secrets_found["the canary account's TOTP secret"] = account["totp_secret"]
    context.shared["canaries"] = canaries
    context.shared["control"] = control
    context.shared.setdefault("secrets", {}).update(secrets_found)
    part.note(
        f"{len(canaries)} canaries written and each shown back: "
        + ", ".join(sorted(canaries))
        + f"; {len(secrets_found)} passwords and TOTP secrets kept for the log check"
    )
