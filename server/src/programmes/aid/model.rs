//! An aid entry's values, its seal, and which entries count.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cases::model::{FieldError, Note};
use crate::crypto::{self, Aad, Key32, RecordKind};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{AidEntryId, AidKindId, ShelterId, UserId};
use crate::publication::period::Period;
use crate::storage::{AidEntryRow, SealedRow};

/// The month an entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    /// `2026-03` (what a month input sends).
    pub fn parse(input: &str) -> Result<Month, FieldError> {
        match Period::parse(input.trim()) {
            Some(Period::Month { year, month }) if (2000..=2100).contains(&year) => Ok(Month { year, month }),
            _ => Err(FieldError::new("month", "Give the month as year and month, such as 2026-03.")),
        }
    }

    pub fn period(self) -> Period {
        Period::Month { year: self.year, month: self.month }
    }

    pub fn code(self) -> String {
        self.period().code()
    }
}

/// A currency, ISO 4217: three capital letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(input: &str) -> Result<Currency, FieldError> {
        let code = input.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(code))
        } else {
            Err(FieldError::new("currency", "A currency is its three-letter code, such as JPY or KRW."))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

/// What was given. The built-in kinds have their own unit; a kind a
/// coordinator added names its own (see [`CustomKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AidKind {
    /// Food, in kilograms.
    Food,
    /// Sets of clothes.
    Clothes,
    FirstAidKits,
    MedicalVisits,
    /// Cash for food, in the entry's currency.
    CashForFood,
    Custom(AidKindId),
}

impl AidKind {
    pub const BUILT_IN: [AidKind; 5] = [
        AidKind::Food,
        AidKind::Clothes,
        AidKind::FirstAidKits,
        AidKind::MedicalVisits,
        AidKind::CashForFood,
    ];

    /// The form's code: `food`, ..., or `custom:<id>`.
    pub fn code(self) -> String {
        match self {
            AidKind::Food => "food".into(),
            AidKind::Clothes => "clothes".into(),
            AidKind::FirstAidKits => "first_aid_kits".into(),
            AidKind::MedicalVisits => "medical_visits".into(),
            AidKind::CashForFood => "cash_for_food".into(),
            AidKind::Custom(id) => format!("custom:{id}"),
        }
    }

    pub fn parse(code: &str) -> Result<AidKind, FieldError> {
        let code = code.trim();
        let built_in = AidKind::BUILT_IN.into_iter().find(|k| k.code() == code);
        built_in
            .or_else(|| code.strip_prefix("custom:").and_then(AidKindId::parse).map(AidKind::Custom))
            .ok_or_else(|| FieldError::new("kind", "Choose one of the listed kinds of aid."))
    }
}

/// A kind of aid a coordinator added: its name and unit, as the report
/// prints them ("blankets", "pieces").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomKind {
    pub id: AidKindId,
    pub name: String,
    pub unit: String,
}

/// One distribution: what a shelter gave in a month, to how many people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AidEntry {
    pub id: AidEntryId,
    pub shelter: ShelterId,
    pub month: Month,
    pub kind: AidKind,
    /// In the kind's unit: kilograms of food, sets, kits, visits, or an
    /// amount of `currency`.
    pub quantity: u64,
    /// Only for cash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// How many people were served (for food: how many asked for it in the month).
    pub people_served: u32,
    pub note: Note,
    /// The entry this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<AidEntryId>,
    pub recorded_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

fn entry_place(id: &str) -> Aad<'_> {
    Aad { kind: RecordKind::AidEntry, owner: id, record: "", field: "entry", version: 1 }
}

fn kind_place(id: &str) -> Aad<'_> {
    Aad { kind: RecordKind::AidKind, owner: id, record: "", field: "kind", version: 1 }
}

/// The entry's row, sealed under the register details key.
pub fn seal_entry(details_key: &Key32, entry: &AidEntry) -> ServiceResult<AidEntryRow> {
    let id = entry.id.to_string();
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(entry).map_err(|_| ServiceError::Internal("aid entry encoding"))?,
    );
    Ok(AidEntryRow {
        sealed: crypto::seal(details_key, &entry_place(&id), &json),
        supersedes: entry.supersedes.map(|s| s.to_string()),
        id,
    })
}

/// Open a row; its clear `supersedes` must say what the sealed entry says.
pub fn open_entry(details_key: &Key32, row: &AidEntryRow) -> ServiceResult<AidEntry> {
    let json = crypto::open(details_key, &entry_place(&row.id), &row.sealed)?;
    let entry: AidEntry = serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("aid entry"))?;
    if entry.id.to_string() != row.id || entry.supersedes.map(|s| s.to_string()) != row.supersedes {
        return Err(ServiceError::Integrity("aid entry moved"));
    }
    Ok(entry)
}

pub fn seal_kind(details_key: &Key32, kind: &CustomKind) -> ServiceResult<SealedRow> {
    let id = kind.id.to_string();
    let json = serde_json::to_vec(kind).map_err(|_| ServiceError::Internal("aid kind encoding"))?;
    Ok(SealedRow { sealed: crypto::seal(details_key, &kind_place(&id), &json), id })
}

pub fn open_kind(details_key: &Key32, row: &SealedRow) -> ServiceResult<CustomKind> {
    let json = crypto::open(details_key, &kind_place(&row.id), &row.sealed)?;
    let kind: CustomKind = serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("aid kind"))?;
    if kind.id.to_string() != row.id {
        return Err(ServiceError::Integrity("aid kind moved"));
    }
    Ok(kind)
}

/// The entries that count: every entry no other entry supersedes. A
/// corrected entry and its correction are counted once, as the correction.
pub fn current(entries: &[AidEntry]) -> Vec<&AidEntry> {
    let superseded: BTreeSet<AidEntryId> = entries.iter().filter_map(|e| e.supersedes).collect();
    entries.iter().filter(|e| !superseded.contains(&e.id)).collect()
}
