//! Hardening after the outside review (issue 10): sessions_life.
