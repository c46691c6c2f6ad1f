-- +goose Up
-- The answers to requests sent with an Idempotency-Key, so a retry of the
-- same request gets the first answer again instead of doing the work
-- twice. scope is whose key it is ("user:12", or "address:203.0.113.9"
-- where there is no user yet); request_hash tells the same request from
-- another one sent with the same key. status is NULL while the first
-- request runs; rows are pruned once expires_at has passed.
CREATE TABLE idempotency_keys (
    scope           VARCHAR(80) NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    request_hash    VARCHAR(64) NOT NULL,
    status          INTEGER,
    headers         TEXT,
    body            BLOB,
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
