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

/// The most one entry may carry, in its kind's unit: ten thousand tonnes of
/// food, or an amount of money (in yen, about 70,000 dollars).
pub const MAX_QUANTITY: u64 = 10_000_000;
/// The most people one entry may say were served.
pub const MAX_PEOPLE_SERVED: u32 = 100_000;

impl Month {
    /// The month `date` falls in.
    pub fn of(date: time::Date) -> Month {
        Month { year: date.year(), month: u8::from(date.month()) }
    }

    /// The first day of the month.
    pub fn first_day(self) -> time::Date {
        self.period().first_day()
    }
}

/// The entry form's fields, as sent.
#[derive(Debug, Clone, Copy)]
pub struct EntryFields<'a> {
    pub month: &'a str,
    pub kind: &'a str,
    pub quantity: &'a str,
    pub currency: &'a str,
    pub people_served: &'a str,
    pub note: &'a str,
}

/// What a user enters for an entry, parsed: everything but who, when and
/// which shelter. Whether a kind a coordinator added exists is the
/// service's check (it needs the sealed list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    pub month: Month,
    pub kind: AidKind,
    pub quantity: u64,
    pub currency: Option<Currency>,
    pub people_served: u32,
    pub note: Note,
}

/// A whole number, in ASCII or full-width digits (what a Japanese or
/// Korean input method types), nothing else: "1,200" is refused rather
/// than guessed at, since a comma is a decimal mark in some places.
fn whole_number(input: &str) -> Option<u64> {
    let text = input.trim();
    if text.is_empty() || text.chars().count() > 12 {
        return None;
    }
    text.chars().try_fold(0u64, |n, c| {
        let digit = match c {
            '0'..='9' => c.to_digit(10),
            '\u{FF10}'..='\u{FF19}' => Some(u32::from(c) - 0xFF10),
            _ => None,
        }?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

impl EntryDraft {
    /// Every problem of the form at once, each named by its field.
    /// `this_month` is the current month: an entry is for a month that has begun.
    pub fn parse(fields: EntryFields<'_>, this_month: Month) -> Result<EntryDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let month = Month::parse(fields.month)
            .and_then(|m| {
                if m > this_month {
                    Err(FieldError::new(
                        "month",
                        "This month has not begun yet: record aid for this month or an earlier one.",
                    ))
                } else {
                    Ok(m)
                }
            })
            .map_err(|e| errors.push(e))
            .ok();
        let kind = AidKind::parse(fields.kind).map_err(|e| errors.push(e)).ok();
        let quantity = whole_number(fields.quantity)
            .filter(|q| *q <= MAX_QUANTITY)
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "quantity",
                    "The quantity is a whole number from 0 to 10000000, in the kind's unit (food in kilograms).",
                ))
            })
            .ok();
        let currency = match (kind, fields.currency.trim().is_empty()) {
            (Some(AidKind::CashForFood), true) => {
                errors.push(FieldError::new(
                    "currency",
                    "Cash needs its currency: a three-letter code such as JPY or KRW.",
                ));
                None
            }
            (Some(AidKind::CashForFood), false) => {
                Currency::parse(fields.currency).map_err(|e| errors.push(e)).ok()
            }
            (Some(_), false) => {
                errors.push(FieldError::new(
                    "currency",
                    "Only cash for food has a currency: leave this empty for other kinds.",
                ));
                None
            }
            (_, _) => None,
        };
        let people_served = whole_number(fields.people_served)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= MAX_PEOPLE_SERVED)
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "people_served",
                    "People served is a whole number from 0 to 100000.",
                ))
            })
            .ok();
        // The note's own parser names its field "notes"; this form's is "note".
        let note = Note::parse(fields.note).map_err(|e| errors.push(FieldError { field: "note", ..e })).ok();
        match (month, kind, quantity, people_served, note) {
            (Some(month), Some(kind), Some(quantity), Some(people_served), Some(note))
                if errors.is_empty() =>
            {
                Ok(EntryDraft { month, kind, quantity, currency, people_served, note })
            }
            _ => Err(errors),
        }
    }

    /// The draft of an existing entry (a correction form starts from it).
    pub fn of(entry: &AidEntry) -> EntryDraft {
        EntryDraft {
            month: entry.month,
            kind: entry.kind,
            quantity: entry.quantity,
            currency: entry.currency.clone(),
            people_served: entry.people_served,
            note: entry.note.clone(),
        }
    }
}

/// A kind of aid a coordinator is adding: a name and a unit, as the
/// report prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindDraft {
    pub name: String,
    pub unit: String,
}

/// One line of text: trimmed, 1 to `max` characters, no control or
/// direction-override characters (they make a name display differently
/// from what it says).
fn short_text(input: &str, max: usize, field: &'static str, message: &str) -> Result<String, FieldError> {
    let text = input.trim();
    let forbidden =
        |c: char| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let count = text.chars().count();
    if count == 0 || count > max || text.chars().any(forbidden) {
        return Err(FieldError::new(field, message));
    }
    Ok(text.to_owned())
}

impl KindDraft {
    pub fn parse(name: &str, unit: &str) -> Result<KindDraft, Vec<FieldError>> {
        let name = short_text(
            name,
            40,
            "name",
            "A kind's name is 1 to 40 characters on one line, such as Blankets.",
        );
        let unit = short_text(unit, 20, "unit", "A unit is 1 to 20 characters on one line, such as pieces.");
        match (name, unit) {
            (Ok(name), Ok(unit)) => Ok(KindDraft { name, unit }),
            (name, unit) => Err(name.err().into_iter().chain(unit.err()).collect()),
        }
    }

    /// Whether `other` is the same name, whatever the letter case.
    pub fn same_name(&self, other: &str) -> bool {
        self.name.to_lowercase() == other.trim().to_lowercase()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARCH: Month = Month { year: 2026, month: 3 };

    fn fields<'a>(kind: &'a str, quantity: &'a str, currency: &'a str) -> EntryFields<'a> {
        EntryFields { month: "2026-02", kind, quantity, currency, people_served: "450", note: "" }
    }

    fn problems(result: Result<EntryDraft, Vec<FieldError>>) -> Vec<&'static str> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn an_entry_parses_with_its_unit_rules() {
        let food = EntryDraft::parse(fields("food", "1200", ""), MARCH).unwrap();
        assert_eq!(
            (food.kind, food.quantity, food.currency, food.people_served),
            (AidKind::Food, 1200, None, 450)
        );
        let cash = EntryDraft::parse(fields("cash_for_food", "50000", "jpy"), MARCH).unwrap();
        assert_eq!(cash.currency.unwrap().as_str(), "JPY");
        // Full-width digits, as a Japanese input method types them.
        assert_eq!(EntryDraft::parse(fields("food", "１２００", ""), MARCH).unwrap().quantity, 1200);
        assert_eq!(EntryDraft::parse(fields("food", "10000000", ""), MARCH).unwrap().quantity, MAX_QUANTITY);
        let id = AidKindId::random();
        let custom = EntryDraft::parse(fields(&format!("custom:{id}"), "0", ""), MARCH).unwrap();
        assert_eq!(custom.kind, AidKind::Custom(id));
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        assert_eq!(problems(EntryDraft::parse(fields("cash_for_food", "10", ""), MARCH)), ["currency"]);
        assert_eq!(problems(EntryDraft::parse(fields("food", "10", "JPY"), MARCH)), ["currency"]);
        for bad in ["12.5", "-3", "1,200", "", "10000001", "ten", "99999999999999999999"] {
            assert_eq!(problems(EntryDraft::parse(fields("food", bad, ""), MARCH)), ["quantity"], "{bad:?}");
        }
        let all = EntryFields {
            month: "2026-04",
            kind: "rice",
            quantity: "x",
            currency: "",
            people_served: "100001",
            note: "bell\u{7}",
        };
        assert_eq!(
            problems(EntryDraft::parse(all, MARCH)),
            ["month", "kind", "quantity", "people_served", "note"]
        );
        let month = EntryFields { month: "March", ..fields("food", "1", "") };
        assert_eq!(problems(EntryDraft::parse(month, MARCH)), ["month"]);
        // This month is fine; the next is not.
        assert!(
            EntryDraft::parse(EntryFields { month: "2026-03", ..fields("food", "1", "") }, MARCH).is_ok()
        );
    }

    #[test]
    fn a_kind_has_a_short_name_and_unit() {
        let kind = KindDraft::parse("  Blankets ", "pieces").unwrap();
        assert_eq!((kind.name.as_str(), kind.unit.as_str()), ("Blankets", "pieces"));
        assert!(kind.same_name("BLANKETS") && kind.same_name(" blankets") && !kind.same_name("Blanket"));
        let fields = |r: Result<KindDraft, Vec<FieldError>>| -> Vec<&'static str> {
            r.unwrap_err().into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(KindDraft::parse("", "")), ["name", "unit"]);
        assert_eq!(fields(KindDraft::parse(&"a".repeat(41), "kg")), ["name"]);
        assert_eq!(fields(KindDraft::parse("Soap", &"b".repeat(21))), ["unit"]);
        assert_eq!(fields(KindDraft::parse("So\nap", "bars")), ["name"]);
        assert_eq!(fields(KindDraft::parse("\u{202E}paoS", "bars")), ["name"]);
        assert!(KindDraft::parse(&"毛".repeat(40), "枚").is_ok());
    }

    proptest! {
        #[test]
        fn quantities_in_range_parse_back(q in 0u64..=MAX_QUANTITY, p in 0u32..=MAX_PEOPLE_SERVED) {
            let (q_text, p_text) = (q.to_string(), p.to_string());
            let f = EntryFields { people_served: &p_text, ..fields("clothes", &q_text, "") };
            let draft = EntryDraft::parse(f, MARCH).unwrap();
            prop_assert_eq!((draft.quantity, draft.people_served), (q, p));
        }

        #[test]
        fn no_input_panics_the_parsers(
            a in ".{0,24}", b in ".{0,24}", c in ".{0,24}", d in ".{0,24}", e in ".{0,24}", f in ".{0,50}"
        ) {
            let _ = EntryDraft::parse(
                EntryFields { month: &a, kind: &b, quantity: &c, currency: &d, people_served: &e, note: &f },
                MARCH,
            );
            let _ = KindDraft::parse(&a, &f);
        }
    }
}
