-- No clear time of a login (SECURITY.md, "What is stored in clear").
--
-- The last accepted TOTP step told a thief each volunteer's last login to
-- 30 seconds. It is now sealed (XChaCha20-Poly1305 under a key derived from
-- the directory key, bound to the user), and a code is consumed by a
-- compare-and-swap on the sealed value. An existing clear step cannot be
-- sealed here (SQL holds no key): it is dropped, and the next login starts
-- a new record. The one thing lost: a code accepted in the minute before
-- the upgrade (a code passes until one step after its own) could pass once
-- more, with the right password, if typed again before it expires. Start
-- the upgraded server a minute after stopping the old one to rule that out
-- (docs/deployment.md, upgrades).
ALTER TABLE totp ADD COLUMN sealed_last_step BYTEA;
ALTER TABLE totp DROP COLUMN last_step;

-- The time of the last wrong code was never read: only the count is shown.
ALTER TABLE login_alerts DROP COLUMN last_at;
