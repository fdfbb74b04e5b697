//! Rotations of the team keys and of the recovery and backup recipients.
