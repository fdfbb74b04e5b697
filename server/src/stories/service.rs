//! Story rules: a draft from a case, a coordinator's review and approval,
//! the automatic withdrawal, and what communications staff read and export.
//!
//! Every story entry in the audit trail names a story or a draft by its own
//! random id, never a case, and carries a request id of its own: the same
//! request also reads the case, and its case entries must not lead to the
//! story.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::anonymity::{self, Anonymised};
use super::compose::{self, Source};
use super::model::{Decision, Facts, Gate, Opening, Reason, Step, StoryKind};
use crate::accounts::model::{Actor, Role};
use crate::audit::{self, Action, Outcome};
use crate::cases::service::{self as cases, Case, Summary};
use crate::crypto::{self, Aad, Key32, Label, RecordKind, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{CaseId, UserId};
use crate::keyring::Team;
use crate::membership;
use crate::storage::{StoryDraftRow, StoryLinkRow, StoryRow, Write};
use crate::vault::Vault;

// ---------------------------------------------------------------------------
// Sealed bodies
// ---------------------------------------------------------------------------

/// A case's link to one of its stories, sealed under the case key.
#[derive(Serialize, Deserialize)]
struct LinkBody {
    story: String,
    facts: Facts,
    opening: Opening,
}

/// An approved story, sealed to the communications team.
#[derive(Serialize, Deserialize)]
struct StoryBody {
    id: String,
    facts: Facts,
    opening: Opening,
    #[serde(with = "time::serde::rfc3339")]
    approved: OffsetDateTime,
}

/// A waiting draft, sealed to the coordinators. The MAC, under a key
/// derived from the case key, proves the drafter held that key (anyone
/// can encrypt to a public recipient).
#[derive(Serialize, Deserialize)]
struct DraftBody {
    case_id: String,
    kind: StoryKind,
    drafter: UserId,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    mac: String,
}

fn link_place<'a>(case_id: &'a str, link_id: &'a str) -> Aad<'a> {
    Aad { kind: RecordKind::StoryLink, owner: case_id, record: link_id, field: "story-link", version: 1 }
}

fn encode<T: Serialize>(value: &T) -> ServiceResult<Zeroizing<Vec<u8>>> {
    serde_json::to_vec(value).map(Zeroizing::new).map_err(|_| ServiceError::Internal("story encoding"))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ServiceResult<T> {
    serde_json::from_slice(bytes).map_err(|_| ServiceError::Integrity("story record does not decode"))
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    crypto::to_hex(&buf)
}

/// A story's id: random and short enough to read out, with no link to its case.
fn new_story_id() -> String {
    random_hex(8)
}

fn draft_mac(case_key: &Key32, draft_id: &str, body: &DraftBody) -> ServiceResult<[u8; 32]> {
    let key = case_key.derive(Label::StoryDraftMac, body.case_id.as_bytes());
    let at = body
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| ServiceError::Internal("draft time"))?;
    let drafter = body.drafter.to_string();
    Ok(crypto::mac(
        &key,
        &[
            b"story-draft".as_slice(),
            draft_id.as_bytes(),
            body.case_id.as_bytes(),
            body.kind.as_str().as_bytes(),
            drafter.as_bytes(),
            at.as_bytes(),
        ],
    ))
}

/// An audit event for a story, with a request id of its own.
fn story_event(actor: &Actor, action: Action, role: Role) -> audit::Event {
    let mut event = actor.event(action).as_role(role);
    event.request_id = audit::model::new_request_id();
    event
}

fn case_role(actor: &Actor) -> Role {
    if actor.has(Role::Coordinator) { Role::Coordinator } else { Role::Caseworker }
}

fn publications_role(actor: &Actor) -> Role {
    if actor.has(Role::Communications) { Role::Communications } else { Role::Coordinator }
}

// ---------------------------------------------------------------------------
// A case's links, and the guard every case write carries
// ---------------------------------------------------------------------------

/// One of a case's stories, as its link under the case key tells.
#[derive(Debug, Clone)]
pub struct Linked {
    pub story: String,
    pub facts: Facts,
    pub opening: Opening,
}

async fn links(vault: &Vault, case_key: &Key32, case_id: &str) -> ServiceResult<(String, Vec<Linked>)> {
    let tag = super::tag(case_key, case_id);
    let mut out = Vec::new();
    for row in vault.store().story_links(&tag).await? {
        let body: LinkBody = decode(&crypto::open(case_key, &link_place(case_id, &row.id), &row.sealed)?)?;
        out.push(Linked { story: body.story, facts: body.facts, opening: body.opening });
    }
    Ok((tag, out))
}

/// What a case write carries for the case's stories: a check that no
/// story was approved meanwhile, and the withdrawal of every story still
/// out if the case is no longer out of danger or someone's consent went.
pub(crate) struct Guard {
    pub writes: Vec<Write>,
    /// The stories withdrawn by this write, for their audit entries.
    pub withdrawn: Vec<String>,
}

/// The guard for a case write; `after` is the case as the write leaves it.
/// One query for the links; the stories themselves are read only when
/// they must be withdrawn.
pub(crate) async fn guard(vault: &Vault, case_key: &Key32, after: &Case) -> ServiceResult<Guard> {
    let (tag, linked) = links(vault, case_key, &after.id.to_string()).await?;
    let count = i64::try_from(linked.len()).map_err(|_| ServiceError::Internal("story links"))?;
    let mut writes = vec![Write::RequireStoryLinks { tag, count }];
    let mut withdrawn = Vec::new();
    let unsafe_now = !compose::out_of_danger(after).passed() || !compose::consent(after).passed();
    if unsafe_now {
        for link in linked {
            let Some(row) = vault.store().story(&link.story).await? else { continue };
            if row.withdrawn == 0 && !withdrawn.contains(&link.story) {
                writes.push(Write::WithdrawStory { id: link.story.clone() });
                withdrawn.push(link.story);
            }
        }
    }
    Ok(Guard { writes, withdrawn })
}

/// One `story.withdraw` entry per story a committed case write withdrew.
pub(crate) async fn record_withdrawals(
    vault: &Vault,
    actor: &Actor,
    role: Role,
    withdrawn: &[String],
) -> ServiceResult<()> {
    for id in withdrawn {
        vault.record(&story_event(actor, Action::StoryWithdraw, role).on(id), Outcome::Ok).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Drafting and review
// ---------------------------------------------------------------------------

/// Everything a draft or review page shows, computed on the server from
/// the case as it is now.
pub struct Review {
    pub case: Case,
    pub kind: StoryKind,
    /// The finest facts the allowlist lets out, if the case has a story to tell.
    pub source: Option<Source>,
    /// Every gate's decision, k-anonymity last.
    pub gates: Vec<(Gate, Decision)>,
    /// A coordinator's review: what the k-anonymity check did.
    pub anonymised: Option<Anonymised>,
    /// The facts as they would be published (the check's, then the
    /// coordinator's further steps).
    pub facts: Option<Facts>,
    /// How many candidate cases the published facts fit, with the others.
    pub fits: Option<usize>,
    /// The steps a coordinator may still add.
    pub further: Vec<Step>,
    pub chosen: Vec<Step>,
    pub opening: Opening,
    /// The case's other stories (withdrawn ones included).
    pub others: Vec<Linked>,
    /// Whether this is a coordinator's review (the k-anonymity check ran).
    pub coordinator: bool,
    /// The k the check used.
    pub k: u32,
    tag: String,
    case_key: Key32,
}

impl Review {
    pub fn passed(&self) -> bool {
        self.source.is_some() && compose::all_passed(&self.gates)
    }

    /// Whether a caseworker may send it: every gate but the pending one passed.
    pub fn case_gates_passed(&self) -> bool {
        self.source.is_some()
            && self.gates.iter().filter(|(g, _)| *g != Gate::KAnonymity).all(|(_, d)| d.passed())
    }

    /// The text as it would be published, in the language of `phrasing`.
    pub fn text(&self, phrasing: &dyn super::phrasing::Phrasing) -> Option<String> {
        self.facts.map(|f| phrasing.story(&f, self.opening))
    }
}

async fn review(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    kind: StoryKind,
    chosen: &[Step],
    opening: Opening,
) -> ServiceResult<Review> {
    let (case, case_key) = cases::read_keyed(vault, actor, case_id).await?;
    let coordinator = actor.has(Role::Coordinator);
    let today = vault.clock.now().date();
    let policy = vault.publication;
    let (source, mut gates) = compose::case_gates(&case, kind, today, &policy);
    let (tag, others) = links(vault, &case_key, &case_id.to_string()).await?;
    let mut review = Review {
        kind,
        source,
        gates: Vec::new(),
        anonymised: None,
        facts: None,
        fits: None,
        further: Vec::new(),
        chosen: Vec::new(),
        opening,
        others,
        coordinator,
        k: policy.k,
        tag,
        case_key,
        case,
    };
    if let Some(source) = &review.source {
        if coordinator {
            let (_, index): (_, Vec<Arc<Summary>>) = cases::dashboard(vault, actor).await?;
            let other_facts: Vec<Facts> = review.others.iter().map(|l| l.facts).collect();
            match anonymity::anonymise(source.facts, &other_facts, &index, policy.k) {
                Ok(a) => {
                    gates.push((Gate::KAnonymity, Decision::Passed));
                    let chosen: Vec<Step> =
                        chosen.iter().copied().filter(|s| s.apply(&a.facts).is_some()).collect();
                    let facts = anonymity::apply_chosen(a.facts, &chosen);
                    let mut all = vec![facts];
                    all.extend(other_facts);
                    review.fits = Some(anonymity::count(&all, &index));
                    review.further = anonymity::further_steps(&a.facts);
                    review.facts = Some(facts);
                    review.chosen = chosen;
                    review.anonymised = Some(a);
                }
                Err(reason) => gates.push((Gate::KAnonymity, Decision::Refused(reason))),
            }
        } else {
            gates.push((Gate::KAnonymity, Decision::Waiting(Reason::Pending)));
            review.facts = Some(source.facts);
        }
    }
    review.gates = gates;
    Ok(review)
}

/// The draft page: a caseworker's (the k-anonymity check pending) or a
/// coordinator's review, for a case the actor may open.
pub async fn draft(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    kind: StoryKind,
    chosen: &[Step],
    opening: Opening,
) -> ServiceResult<Review> {
    review(vault, actor, case_id, kind, chosen, opening).await
}

/// What sending a draft did.
pub enum Sent {
    Sent {
        draft: String,
    },
    /// A gate refused: nothing was stored.
    Refused(Box<Review>),
}

/// Send a draft for approval: stored only if every case gate passed.
pub async fn send(vault: &Vault, actor: &Actor, case_id: CaseId, kind: StoryKind) -> ServiceResult<Sent> {
    let r = review(vault, actor, case_id, kind, &[], Opening::default()).await?;
    if !r.case_gates_passed() {
        return Ok(Sent::Refused(Box::new(r)));
    }
    let id = random_hex(16);
    let event = story_event(actor, Action::StoryDraft, case_role(actor)).on(&id);
    let prepared = async {
        let mut body = DraftBody {
            case_id: case_id.to_string(),
            kind,
            drafter: actor.user_id(),
            at: vault.clock.now(),
            mac: String::new(),
        };
        body.mac = crate::keyring::to_base64(&draft_mac(&r.case_key, &id, &body)?);
        let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
        Ok(vec![Write::InsertStoryDraft(StoryDraftRow {
            id: id.clone(),
            tag: r.tag.clone(),
            sealed: wrap::wrap(&recipient, &encode(&body)?)?,
        })])
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(Sent::Sent { draft: id })
}

/// A waiting draft, as a coordinator opens it.
#[derive(Debug, Clone)]
pub struct DraftLine {
    pub id: String,
    /// `None`: the draft did not open, or its MAC or tag did not check: it
    /// was not written by a holder of the case key, and is never approved.
    pub genuine: Option<Genuine>,
}

#[derive(Debug, Clone, Copy)]
pub struct Genuine {
    pub case_id: CaseId,
    pub kind: StoryKind,
    pub drafter: UserId,
    pub at: OffsetDateTime,
}

async fn check_draft(
    vault: &Vault,
    coordinators: &crypto::Identity,
    row: &StoryDraftRow,
) -> ServiceResult<Option<Genuine>> {
    let Ok(plain) = wrap::unwrap(coordinators, &row.sealed) else { return Ok(None) };
    let Ok(body) = serde_json::from_slice::<DraftBody>(&plain) else { return Ok(None) };
    let Some(case_id) = CaseId::parse(&body.case_id) else { return Ok(None) };
    let Ok(case_key) = membership::case_key_for_team(vault, coordinators, &body.case_id).await else {
        return Ok(None);
    };
    let Some(mac) = crate::keyring::from_base64(&body.mac) else { return Ok(None) };
    let expected = draft_mac(&case_key, &row.id, &body)?;
    if !crypto::mac_verify_tag(&expected, &mac) || super::tag(&case_key, &body.case_id) != row.tag {
        tracing::warn!(target: "safehouse::stories", "a story draft without a valid case-key MAC");
        return Ok(None);
    }
    Ok(Some(Genuine { case_id, kind: body.kind, drafter: body.drafter, at: body.at }))
}

/// A waiting draft authenticated again under its case's new key (a case
/// key rotation): `keys` gives a case's old and new key. Returns the new
/// tag and envelope, or `None` for a draft the review would refuse under
/// the old key (its MAC or tag does not check): a forged draft is
/// dropped, never given a genuine MAC.
pub(crate) fn rekey_draft<'k>(
    coordinators: &crypto::Identity,
    recipient: &crypto::Recipient,
    keys: impl Fn(&str) -> Option<(&'k Key32, &'k Key32)>,
    row: &StoryDraftRow,
) -> ServiceResult<Option<(String, Vec<u8>)>> {
    let Ok(plain) = wrap::unwrap(coordinators, &row.sealed) else { return Ok(None) };
    let Ok(mut body) = serde_json::from_slice::<DraftBody>(&plain) else { return Ok(None) };
    let Some((old, new)) = keys(&body.case_id) else { return Ok(None) };
    let Some(mac) = crate::keyring::from_base64(&body.mac) else { return Ok(None) };
    if !crypto::mac_verify_tag(&draft_mac(old, &row.id, &body)?, &mac)
        || super::tag(old, &body.case_id) != row.tag
    {
        return Ok(None);
    }
    body.mac = crate::keyring::to_base64(&draft_mac(new, &row.id, &body)?);
    Ok(Some((super::tag(new, &body.case_id), wrap::wrap(recipient, &encode(&body)?)?)))
}

/// A case's story link sealed again under its new key, at the same place.
pub(crate) fn reseal_link(
    old: &Key32,
    new: &Key32,
    case_id: &str,
    row: &StoryLinkRow,
) -> ServiceResult<Vec<u8>> {
    let place = link_place(case_id, &row.id);
    Ok(crypto::seal(new, &place, &crypto::open(old, &place, &row.sealed)?))
}

/// Every waiting draft, oldest first (coordinators-team members).
pub async fn drafts(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<DraftLine>> {
    let coordinators = membership::coordinators_identity(vault, actor).await?;
    let mut out = Vec::new();
    for row in vault.store().story_drafts().await? {
        let genuine = check_draft(vault, &coordinators, &row).await?;
        out.push(DraftLine { id: row.id, genuine });
    }
    out.sort_by_key(|d| d.genuine.map(|g| g.at));
    Ok(out)
}

/// One waiting draft, or `NotFound` if it is gone.
pub async fn waiting_draft(vault: &Vault, actor: &Actor, id: &str) -> ServiceResult<DraftLine> {
    let coordinators = membership::coordinators_identity(vault, actor).await?;
    let row = vault.store().story_draft(id).await?.ok_or(ServiceError::NotFound)?;
    let genuine = check_draft(vault, &coordinators, &row).await?;
    Ok(DraftLine { id: row.id, genuine })
}

/// What an approval is of: a case and kind directly, or a waiting draft.
#[derive(Debug, Clone)]
pub enum Target {
    Case { case_id: CaseId, kind: StoryKind },
    Draft { id: String },
}

pub enum Approval {
    Approved {
        story: String,
    },
    /// A gate refused: nothing was written.
    Refused(Box<Review>),
}

/// Approve a story: everything is computed again here from the case as it
/// is now; the coordinator chooses only further steps and an opening.
/// One audited write stores the story (sealed to the communications
/// team), its link (sealed under the case key), deletes the draft, and
/// fails as a conflict if the case or its stories changed since read.
pub async fn approve(
    vault: &Vault,
    actor: &Actor,
    target: &Target,
    chosen: &[Step],
    opening: Opening,
) -> ServiceResult<Approval> {
    membership::coordinators_identity(vault, actor).await?;
    let (case_id, kind, draft) = match target {
        Target::Case { case_id, kind } => (*case_id, *kind, None),
        Target::Draft { id } => {
            let line = waiting_draft(vault, actor, id).await?;
            let g = line.genuine.ok_or(ServiceError::Forbidden("a draft that is not genuine"))?;
            (g.case_id, g.kind, Some(id.clone()))
        }
    };
    let r = review(vault, actor, case_id, kind, chosen, opening).await?;
    let story = new_story_id();
    let mut event = story_event(actor, Action::StoryApprove, Role::Coordinator);
    let (Some(facts), true) = (r.facts, r.passed()) else {
        if let Some(id) = &draft {
            event = event.on(id);
        }
        vault.record(&event, Outcome::Invalid).await?;
        return Ok(Approval::Refused(Box::new(r)));
    };
    let event = event.on(&story);
    let prepared = async {
        let cid = case_id.to_string();
        let count = i64::try_from(r.others.len()).map_err(|_| ServiceError::Internal("story links"))?;
        // The checks first: the link inserted below must not count.
        let mut writes = vec![
            Write::RequireStoryLinks { tag: r.tag.clone(), count },
            Write::RequireCaseState {
                case_id: cid.clone(),
                version: r.case.version,
                milestones: r.case.milestones.iter().map(|m| (m.id.to_string(), m.version)).collect(),
            },
        ];
        if let Some(id) = &draft {
            writes.push(Write::DeleteStoryDraft { id: id.clone() });
        }
        let body = StoryBody { id: story.clone(), facts, opening, approved: vault.clock.now() };
        let recipient = vault.keyring.team_recipient(vault.store(), Team::Communications).await?;
        writes.push(Write::InsertStory(StoryRow {
            id: story.clone(),
            withdrawn: 0,
            sealed: wrap::wrap(&recipient, &encode(&body)?)?,
        }));
        let link_id = random_hex(16);
        let link = LinkBody { story: story.clone(), facts, opening };
        writes.push(Write::InsertStoryLink(StoryLinkRow {
            sealed: crypto::seal(&r.case_key, &link_place(&cid, &link_id), &encode(&link)?),
            id: link_id,
            tag: r.tag.clone(),
        }));
        Ok(writes)
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(Approval::Approved { story })
}

/// Reject a waiting draft: it is deleted. `Conflict` if it is gone already.
pub async fn reject(vault: &Vault, actor: &Actor, id: &str) -> ServiceResult<()> {
    let event = story_event(actor, Action::StoryReject, Role::Coordinator).on(id);
    let prepared = async {
        membership::coordinators_identity(vault, actor).await?;
        Ok(vec![Write::DeleteStoryDraft { id: id.to_owned() }])
    }
    .await;
    vault.write(&event, prepared).await
}

// ---------------------------------------------------------------------------
// The case page's stories section
// ---------------------------------------------------------------------------

pub struct CaseStories {
    /// Drafts of this case waiting for a coordinator.
    pub drafts: usize,
    /// This case's stories, with whether each was withdrawn.
    pub stories: Vec<(Linked, bool)>,
}

/// For a holder of the case key, after the case page recorded its read.
pub async fn of_case(vault: &Vault, actor: &Actor, case_id: CaseId) -> ServiceResult<CaseStories> {
    let key = cases::open_key(vault, actor, case_id).await?;
    let (tag, linked) = links(vault, &key, &case_id.to_string()).await?;
    let drafts = vault.store().story_drafts_of(&tag).await?.len();
    let mut stories = Vec::with_capacity(linked.len());
    for link in linked {
        let withdrawn = vault.store().story(&link.story).await?.is_none_or(|row| row.withdrawn != 0);
        stories.push((link, withdrawn));
    }
    Ok(CaseStories { drafts, stories })
}

// ---------------------------------------------------------------------------
// Communications staff
// ---------------------------------------------------------------------------

/// An approved story as communications staff read it: its words and
/// coarse facts, never anything of its case.
#[derive(Debug, Clone)]
pub struct Published {
    pub id: String,
    pub facts: Facts,
    pub opening: Opening,
    pub approved: OffsetDateTime,
    pub withdrawn: bool,
}

impl Published {
    /// The text in the language of `phrasing`, written from the same facts in each.
    pub fn text(&self, phrasing: &dyn super::phrasing::Phrasing) -> String {
        phrasing.story(&self.facts, self.opening)
    }
}

async fn open_published(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Published>> {
    let identity = membership::team_identity(vault, actor, Team::Communications).await?;
    let mut out = Vec::new();
    for row in vault.store().stories().await? {
        let body: StoryBody = decode(&wrap::unwrap(&identity, &row.sealed)?)?;
        if body.id != row.id {
            return Err(ServiceError::Integrity("story moved"));
        }
        out.push(Published {
            id: row.id,
            facts: body.facts,
            opening: body.opening,
            approved: body.approved,
            withdrawn: row.withdrawn != 0,
        });
    }
    out.sort_by(|a, b| b.approved.cmp(&a.approved).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// Every approved story, newest first, withdrawn ones included (marked).
/// Recorded as one `story.read`.
pub async fn published(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Published>> {
    let event = actor.event(Action::StoryRead).as_role(publications_role(actor)).on("stories");
    let result = open_published(vault, actor).await;
    vault.finish(&event, result).await
}

/// The stories an export carries: approved and not withdrawn. Recorded as
/// an `export` entry on `file`, the file and its language (`stories.md ja`).
pub async fn export(vault: &Vault, actor: &Actor, file: &str) -> ServiceResult<Vec<Published>> {
    let event = actor.event(Action::Export).as_role(publications_role(actor)).on(file);
    let result =
        open_published(vault, actor).await.map(|all| all.into_iter().filter(|s| !s.withdrawn).collect());
    vault.finish(&event, result).await
}
