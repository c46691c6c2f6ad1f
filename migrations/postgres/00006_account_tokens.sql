-- +goose Up
-- Whether the user has proved the email is theirs, by following the link
-- of the welcome email. Accounts made before this migration are not.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- The single-use tokens of the links we email: verifying an email and
-- resetting a password. Only a SHA-256 hash of each token is kept, so
-- someone who reads this table cannot use the links. A token is deleted
-- when it is used; rows are pruned once expires_at has passed.
CREATE TABLE account_tokens (
    token_hash VARCHAR(64) PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    VARCHAR(20) NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_tokens_user_id_idx ON account_tokens (user_id);
CREATE INDEX account_tokens_expires_at_idx ON account_tokens (expires_at);

-- +goose Down
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified;
