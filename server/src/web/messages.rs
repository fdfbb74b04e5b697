//! Every text a user reads, in one catalogue. Templates take `t`, never a
//! literal, so Japanese and Korean can be added as further catalogues
//! without touching a template.

use std::borrow::Borrow;

use crate::cases::model::{AgeBand, Gender, MilestoneKind, Outcome, Stage, Status};

/// The words for the closed lists, in the order of each type's `ALL`.
#[derive(Clone, Copy)]
pub struct Labels {
    pub age_bands: [&'static str; 7],
    pub genders: [&'static str; 3],
    pub stages: [&'static str; 11],
    pub outcomes: [&'static str; 8],
    pub open: &'static str,
    pub on_hold: &'static str,
    pub closed: &'static str,
    pub milestone_kinds: [&'static str; 15],
}

fn pick<T: PartialEq, const N: usize>(all: &[T; N], words: &[&'static str; N], value: &T) -> &'static str {
    all.iter().position(|v| v == value).and_then(|i| words.get(i)).copied().unwrap_or("")
}

impl Messages {
    /// A message made in code (a parser's "A shelter code looks like ..."),
    /// translated gettext-style: the English text is the key. English maps
    /// to itself; another language lists its translations in `translations`,
    /// and anything missing falls back to English rather than to nothing.
    pub fn tr<'a>(&self, msgid: &'a str) -> &'a str {
        self.translations.iter().find(|(en, _)| *en == msgid).map_or(msgid, |(_, translated)| translated)
    }

    pub fn age_band(&self, v: impl Borrow<AgeBand>) -> &'static str {
        let v = *v.borrow();
        pick(&AgeBand::ALL, &self.labels.age_bands, &v)
    }
    pub fn gender(&self, v: impl Borrow<Gender>) -> &'static str {
        let v = *v.borrow();
        pick(&Gender::ALL, &self.labels.genders, &v)
    }
    pub fn stage(&self, v: impl Borrow<Stage>) -> &'static str {
        let v = *v.borrow();
        pick(&Stage::ALL, &self.labels.stages, &v)
    }
    pub fn outcome(&self, v: impl Borrow<Outcome>) -> &'static str {
        let v = *v.borrow();
        pick(&Outcome::ALL, &self.labels.outcomes, &v)
    }
    pub fn kind(&self, v: impl Borrow<MilestoneKind>) -> &'static str {
        let v = *v.borrow();
        pick(&MilestoneKind::ALL, &self.labels.milestone_kinds, &v)
    }
    /// "Open", "On hold", or "Closed: <outcome>".
    pub fn status(&self, v: impl Borrow<Status>) -> String {
        match *v.borrow() {
            Status::Open => self.labels.open.to_owned(),
            Status::OnHold => self.labels.on_hold.to_owned(),
            Status::Closed(o) => format!("{}: {}", self.labels.closed, self.outcome(o)),
        }
    }
}

pub struct Messages {
    pub labels: Labels,
    /// (English message, translation) for messages made in code.
    pub translations: &'static [(&'static str, &'static str)],
    pub lang: &'static str,
    pub app_name: &'static str,
    pub skip_to_content: &'static str,
    pub nav_home: &'static str,
    pub nav_account: &'static str,
    pub nav_sessions: &'static str,
    pub nav_users: &'static str,
    pub nav_certify: &'static str,
    pub nav_lockdown: &'static str,
    pub log_out: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub username: &'static str,
    pub username_hint: &'static str,
    pub password: &'static str,
    pub code: &'static str,
    pub code_hint: &'static str,
    pub sign_in: &'static str,
    pub login_failed: &'static str,
    pub login_throttled: &'static str,
    pub login_locked_down: &'static str,
    pub home_title: &'static str,
    pub home_signed_in_as: &'static str,
    pub failed_codes_notice: &'static str,
    pub logged_out: &'static str,
    pub error_title: &'static str,
    pub error_400: &'static str,
    pub error_403: &'static str,
    pub error_404: &'static str,
    pub error_405: &'static str,
    pub error_413: &'static str,
    pub error_429: &'static str,
    pub error_500: &'static str,
    pub error_request_id: &'static str,
    pub error_back: &'static str,
    pub activate_title: &'static str,
    pub activate_intro: &'static str,
    pub activation_code: &'static str,
    pub new_password: &'static str,
    pub new_password_hint: &'static str,
    pub confirm_password: &'static str,
    pub passwords_differ: &'static str,
    pub activate_submit: &'static str,
    pub codes_title: &'static str,
    pub codes_intro: &'static str,
    pub codes_continue: &'static str,
    pub enrol_title: &'static str,
    pub enrol_intro: &'static str,
    pub enrol_secret: &'static str,
    pub enrol_submit: &'static str,
    pub account_title: &'static str,
    pub key_fingerprint: &'static str,
    pub key_fingerprint_intro: &'static str,
    pub key_certified: &'static str,
    pub key_not_certified: &'static str,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub change_password_submit: &'static str,
    pub password_changed: &'static str,
    pub sessions_title: &'static str,
    pub sessions_count: &'static str,
    pub log_out_everywhere: &'static str,
    pub recover_title: &'static str,
    pub recover_intro: &'static str,
    pub recovery_code: &'static str,
    pub recover_submit: &'static str,
    pub recover_failed: &'static str,
    pub reauth_title: &'static str,
    pub reauth_intro: &'static str,
    pub reauth_submit: &'static str,
    pub reauth_failed: &'static str,
    pub users_title: &'static str,
    pub users_intro: &'static str,
    pub users_create: &'static str,
    pub roles: &'static str,
    pub role_admin: &'static str,
    pub role_coordinator: &'static str,
    pub role_caseworker: &'static str,
    pub role_communications: &'static str,
    pub role_auditor: &'static str,
    pub state: &'static str,
    pub actions: &'static str,
    pub disable: &'static str,
    pub enable: &'static str,
    pub reset_password: &'static str,
    pub reset_2fa: &'static str,
    pub activation_code_for: &'static str,
    pub done: &'static str,
    pub certify_title: &'static str,
    pub certify_intro: &'static str,
    pub fingerprint: &'static str,
    pub certify_submit: &'static str,
    pub waiting_grants: &'static str,
    pub nobody_waiting: &'static str,
    pub certified: &'static str,
    pub lockdown_title: &'static str,
    pub lockdown_intro: &'static str,
    pub lockdown_confirm: &'static str,
    pub lockdown_submit: &'static str,
    pub state_pending: &'static str,
    pub state_active: &'static str,
    pub state_disabled: &'static str,
    pub state_frozen: &'static str,
    pub nav_cases: &'static str,
    pub cases_title: &'static str,
    pub cases_mine: &'static str,
    pub cases_new: &'static str,
    pub cases_none: &'static str,
    pub search_alias: &'static str,
    pub filter: &'static str,
    pub any: &'static str,
    pub not_updated_days: &'static str,
    pub sort_by_stage: &'static str,
    pub col_aliases: &'static str,
    pub col_stage: &'static str,
    pub col_status: &'static str,
    pub col_shelter: &'static str,
    pub col_updated: &'static str,
    pub case_title: &'static str,
    pub case_edit: &'static str,
    pub group: &'static str,
    pub alias: &'static str,
    pub alias_hint: &'static str,
    pub age_band: &'static str,
    pub gender: &'static str,
    pub gender_unknown: &'static str,
    pub consent: &'static str,
    pub shelter: &'static str,
    pub no_shelter: &'static str,
    pub stage: &'static str,
    pub status: &'static str,
    pub notes: &'static str,
    pub notes_hint: &'static str,
    pub save: &'static str,
    pub case_conflict: &'static str,
    pub their_version: &'static str,
    pub milestones: &'static str,
    pub milestone_add: &'static str,
    pub milestone_kind: &'static str,
    pub milestone_date: &'static str,
    pub milestone_date_hint: &'static str,
    pub country: &'static str,
    pub country_hint: &'static str,
    pub place_code: &'static str,
    pub place_code_hint: &'static str,
    pub milestone_note: &'static str,
    pub print: &'static str,
    pub yes: &'static str,
    pub edit: &'static str,
    pub milestone_edit: &'static str,
    pub nav_team: &'static str,
    pub team_title: &'static str,
    pub team_intro: &'static str,
    pub freeze: &'static str,
    pub unfreeze: &'static str,
    pub frozen_notice: &'static str,
    pub unfrozen_notice: &'static str,
    pub nav_audit: &'static str,
    pub audit_title: &'static str,
    pub audit_head: &'static str,
    pub audit_head_reminder: &'static str,
    pub audit_verify: &'static str,
    pub audit_intact: &'static str,
    pub audit_broken: &'static str,
    pub audit_flags: &'static str,
    pub audit_flags_intro: &'static str,
    pub audit_no_flags: &'static str,
    pub audit_actor: &'static str,
    pub audit_action: &'static str,
    pub audit_target: &'static str,
    pub audit_outcome: &'static str,
    pub audit_time: &'static str,
    pub audit_from: &'static str,
    pub audit_to: &'static str,
    pub audit_export: &'static str,
    pub audit_more: &'static str,
    pub audit_distinct: &'static str,
    pub audit_window: &'static str,
    pub nav_shelters: &'static str,
    pub shelters_title: &'static str,
    pub shelters_intro: &'static str,
    pub shelter_code: &'static str,
    pub region: &'static str,
    pub capacity: &'static str,
    pub shelter_add: &'static str,
    pub assigned: &'static str,
    pub waiting_certification: &'static str,
    pub assign: &'static str,
    pub unassign: &'static str,
    pub nobody_assigned: &'static str,
    pub no: &'static str,
    // -- hardening A throttles and recovery
    pub recovery_code_hint: &'static str,
    pub reauth_ended: &'static str,

    // -- hardening B freeze and teams

    // -- hardening C sessions and access

    // -- hardening D command line

    // -- hardening E clear columns

    // -- hardening F pages

}

pub static EN: Messages = Messages {
    translations: &[],
    labels: Labels {
        age_bands: ["Under 5", "5 to 11", "12 to 17", "18 to 29", "30 to 44", "45 to 59", "60 and over"],
        genders: ["Female", "Male", "Other"],
        stages: [
            "Intake",
            "Assessment",
            "Sheltered",
            "Transit planning",
            "In transit",
            "Third-country processing",
            "Resettlement submitted",
            "Decision received",
            "Pre-departure",
            "Arrived",
            "Follow-up",
        ],
        outcomes: [
            "Resettled",
            "Self-settled",
            "Lost contact",
            "Detained",
            "Repatriated",
            "Withdrew",
            "Deceased",
            "Duplicate record",
        ],
        open: "Open",
        on_hold: "On hold",
        closed: "Closed",
        milestone_kinds: [
            "Contact made",
            "Sheltered",
            "Moved",
            "Crossed a border",
            "Reached protection",
            "Departed",
            "Arrived",
            "Language course completed",
            "Enrolled",
            "Employed",
            "Housed",
            "Reunited",
            "Detained",
            "Repatriated",
            "Other",
        ],
    },
    lang: "en",
    app_name: "Safehouse",
    skip_to_content: "Skip to content",
    nav_home: "Home",
    nav_account: "My account",
    nav_sessions: "Sessions",
    nav_users: "Accounts",
    nav_certify: "Certify keys",
    nav_lockdown: "Lockdown",
    log_out: "Log out",
    login_title: "Log in",
    login_intro: "Enter your username, your password and the six-digit code from your authenticator app. If you have lost your phone, enter one of your recovery codes instead.",
    username: "Username",
    username_hint: "Your pseudonymous username, never your real name.",
    password: "Password",
    code: "Authenticator code or recovery code",
    code_hint: "Six digits from the app, or a recovery code:",
    sign_in: "Log in",
    login_failed: "The username, password or code is not correct.",
    login_throttled: "Too many attempts. Wait a little and try again.",
    login_locked_down: "Safehouse is locked down. No one can log in until an operator lifts the lockdown.",
    home_title: "Safehouse",
    home_signed_in_as: "You are logged in.",
    failed_codes_notice: "Since your last login, someone entered your correct password with a wrong code. If that was not you, change your password now and tell a coordinator.",
    logged_out: "You are logged out.",
    error_title: "Something went wrong",
    error_400: "The request could not be understood.",
    error_403: "You are not allowed to open this page.",
    error_404: "This page does not exist.",
    error_405: "This page does not accept that kind of request.",
    error_413: "The request is too large.",
    error_429: "Too many requests. Wait a little and try again.",
    error_500: "Something went wrong on our side. Nothing you entered has been lost or shared.",
    error_request_id: "If you report this, quote this request id:",
    error_back: "Back to the start page",
    activate_title: "Activate your account",
    activate_intro: "Enter the activation code you were given in person, and choose a password. Your password never leaves this server and cannot be recovered by anyone: keep it safe.",
    activation_code: "Activation code",
    new_password: "New password",
    new_password_hint: "At least 12 characters. A phrase of several unrelated words is strong and easy to remember.",
    confirm_password: "Type the new password again",
    passwords_differ: "The two passwords differ.",
    activate_submit: "Activate",
    codes_title: "Your recovery codes",
    codes_intro: "Write these ten codes down and keep them somewhere safe, away from your phone. Each code works once: instead of the authenticator code at login, or to set a new password if you forget yours. They will not be shown again.",
    codes_continue: "I have written them down",
    enrol_title: "Set up two-factor authentication",
    enrol_intro: "Scan this code with an authenticator app (such as Aegis, FreeOTP or Google Authenticator), or type the secret into it. Then enter the six digits it shows.",
    enrol_secret: "Secret",
    enrol_submit: "Confirm",
    account_title: "My account",
    key_fingerprint: "Your key fingerprint",
    key_fingerprint_intro: "A coordinator must certify your key before you can see any case. Read these digits to a coordinator in person or by phone; they compare them with what their screen shows.",
    key_certified: "Your key is certified.",
    key_not_certified: "Your key is not certified yet. You cannot see or create cases until a coordinator certifies it.",
    change_password: "Change password",
    current_password: "Current password",
    change_password_submit: "Change password",
    password_changed: "Your password is changed. Your other sessions have ended. New recovery codes are below; the old ones no longer work.",
    sessions_title: "Your sessions",
    sessions_count: "Sessions open for your account:",
    log_out_everywhere: "Log out everywhere",
    recover_title: "Forgot your password?",
    recover_intro: "Use one of your recovery codes to set a new password. Your access to your cases is kept.",
    recovery_code: "Recovery code",
    recover_submit: "Set new password",
    recover_failed: "The username or recovery code is not correct.",
    reauth_title: "Confirm it is you",
    reauth_intro: "This action needs your password again.",
    reauth_submit: "Continue",
    reauth_failed: "The password is not correct.",
    users_title: "Accounts",
    users_intro: "Usernames are pseudonyms: never a real name. Administrators manage accounts but cannot read cases.",
    users_create: "Create an account",
    roles: "Roles",
    role_admin: "Administrator",
    role_coordinator: "Coordinator",
    role_caseworker: "Caseworker",
    role_communications: "Communications",
    role_auditor: "Auditor",
    state: "State",
    actions: "Actions",
    disable: "Disable",
    enable: "Enable",
    reset_password: "Reset password",
    reset_2fa: "Reset two-factor",
    activation_code_for: "Give this activation code to the person, in person or by phone. It works once, for 72 hours:",
    done: "Done.",
    certify_title: "Certify keys",
    certify_intro: "Ask each person to read the fingerprint shown on their account page, in person or by phone, and type it here. Never certify a fingerprint you did not hear from the person themselves.",
    fingerprint: "Fingerprint",
    certify_submit: "Certify",
    waiting_grants: "Cases waiting for this key:",
    nobody_waiting: "No one is waiting for certification.",
    certified: "Certified. Waiting cases are now open to this person.",
    lockdown_title: "Lockdown",
    lockdown_intro: "Lockdown ends every session at once, yours included, and refuses every login until an operator lifts it on the server with `safehouse lockdown --lift`. Use it if the server or an account may be in hostile hands.",
    lockdown_confirm: "I understand that everyone, me included, will be logged out",
    lockdown_submit: "Lock down now",
    state_pending: "waiting for activation",
    state_active: "active",
    state_disabled: "disabled",
    state_frozen: "frozen",
    nav_cases: "Cases",
    cases_title: "Cases",
    cases_mine: "My cases",
    cases_new: "New case",
    cases_none: "No cases to show.",
    search_alias: "Search by alias",
    filter: "Filter",
    any: "Any",
    not_updated_days: "Not updated for at least (days)",
    sort_by_stage: "Sort by stage",
    col_aliases: "Aliases",
    col_stage: "Stage",
    col_status: "Status",
    col_shelter: "Shelter",
    col_updated: "Updated",
    case_title: "Case",
    case_edit: "Edit case",
    group: "Persons",
    alias: "Alias",
    alias_hint: "An alias only. Never a real name, never a birth date.",
    age_band: "Age band",
    gender: "Gender",
    gender_unknown: "Not recorded",
    consent: "Consents to publication",
    shelter: "Shelter",
    no_shelter: "None",
    stage: "Stage",
    status: "Status",
    notes: "Internal notes",
    notes_hint: "Never published. Code names only: no places, no real names.",
    save: "Save",
    case_conflict: "Someone else saved this case while you were editing. Their version is shown below; your changes are kept in the form. Merge them, then save again.",
    their_version: "The version saved by someone else",
    milestones: "Milestones",
    milestone_add: "Add a milestone",
    milestone_kind: "What happened",
    milestone_date: "Date",
    milestone_date_hint: "2024-03-15, or 2024-03 for a month, or 2024 for a year.",
    country: "Country",
    country_hint: "Two letters, such as TH. Country level only.",
    place_code: "Place code name",
    place_code_hint: "A code name such as JRL-01, never a real place.",
    milestone_note: "Private note",
    print: "Print",
    yes: "yes",
    edit: "Edit",
    milestone_edit: "Edit milestone",
    nav_team: "Team",
    team_title: "Team",
    team_intro: "Freeze an account at once if its owner may be detained or their device lost: every session ends, every case grant and the key certification go, and the account is disabled. Only a coordinator lifts a freeze; the key then needs a new certification and cases must be assigned again.",
    freeze: "Freeze",
    unfreeze: "Lift freeze",
    frozen_notice: "Frozen. Their sessions have ended and their grants are gone.",
    unfrozen_notice: "Freeze lifted. Certify their key again before assigning cases.",
    nav_audit: "Audit trail",
    audit_title: "Audit trail",
    audit_head: "Chain head",
    audit_head_reminder: "Copy this line somewhere the server cannot reach (paper, your own laptop), regularly. Only an earlier copy proves that no entry was cut from the end or rewritten.",
    audit_verify: "Verify the whole chain now",
    audit_intact: "The chain is intact. Entries checked:",
    audit_broken: "The chain is broken:",
    audit_flags: "Bulk-reading flags",
    audit_flags_intro: "One person opening many different cases in a short time. Ask them why.",
    audit_no_flags: "No flags.",
    audit_actor: "Actor",
    audit_action: "Action",
    audit_target: "Target",
    audit_outcome: "Outcome",
    audit_time: "Time (UTC)",
    audit_from: "From (UTC)",
    audit_to: "To (UTC)",
    audit_export: "Export these entries as CSV",
    audit_more: "More entries",
    audit_distinct: "Distinct cases",
    audit_window: "Window (minutes)",
    nav_shelters: "Shelters",
    shelters_title: "Shelter register",
    shelters_intro: "Code names only. Regions are coarse (a province), never an address. Details are visible to coordinators only; certified caseworkers see the code names.",
    shelter_code: "Code name",
    region: "Region",
    capacity: "Capacity",
    shelter_add: "Add a shelter",
    assigned: "Assigned caseworkers",
    waiting_certification: "Waiting for their key to be certified",
    assign: "Assign",
    unassign: "Unassign",
    nobody_assigned: "No one is assigned.",
    no: "no",
    // -- hardening A throttles and recovery
    recovery_code_hint: "8 groups of 4 letters and digits (0-9, a-f), as on your list of codes.",
    reauth_ended: "Your session has ended after too many wrong passwords. Log in again.",

    // -- hardening B freeze and teams

    // -- hardening C sessions and access

    // -- hardening D command line

    // -- hardening E clear columns

    // -- hardening F pages

};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_value_has_words() {
        for v in AgeBand::ALL {
            assert!(!EN.age_band(v).is_empty());
        }
        for v in Stage::ALL {
            assert!(!EN.stage(v).is_empty());
        }
        for v in MilestoneKind::ALL {
            assert!(!EN.kind(v).is_empty());
        }
        for v in Status::ALL {
            assert!(!EN.status(v).is_empty());
        }
        assert_eq!(EN.status(Status::Closed(Outcome::Resettled)), "Closed: Resettled");
        assert_eq!(EN.tr("A code name."), "A code name.");
        let other = Messages { translations: &[("A code name.", "コードネーム。")], ..EN };
        assert_eq!(other.tr("A code name."), "コードネーム。");
        assert_eq!(other.tr("Untranslated."), "Untranslated.");
    }
}
