//! Hardening after the outside review (issue 10): recovery_ops.
