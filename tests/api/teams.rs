//! Hardening after the outside review (issue 10): teams.
