//! The annual report: for the organisation's fiscal year, what the
//! programmes did, counted with the public figures' suppression rules.
