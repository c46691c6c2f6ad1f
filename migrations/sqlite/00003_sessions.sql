-- +goose Up
-- A session is one sign-in: every token issued from it (the access and
-- refresh tokens of one /login and of each /refresh after it, or one admin
-- panel sign-in) carries its id in the "sid" claim, and is good only while
-- the session's row exists. Ending a session (logout, a replayed refresh
-- token, an admin ending a user's sessions, deleting the user) deletes the
-- row, which revokes all its tokens at once.
--
-- refresh_jti is the jti of the one refresh token that may still be used,
-- NULL for sessions without refresh tokens: the admin panel's. expires_at
-- is when the session's last token expires; the row is pruned after.
CREATE TABLE sessions (
    id          VARCHAR(64) PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_jti VARCHAR(64),
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Revocation is per session now; tokens issued before this migration
-- carry no session and are refused, so their users sign in again.
DROP TABLE revoked_tokens;

-- +goose Down
CREATE TABLE revoked_tokens (
    jti        VARCHAR(64) PRIMARY KEY,
    expires_at DATETIME NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);
DROP TABLE sessions;
