//! Hardening after the outside review (issue 10): clear_columns.
