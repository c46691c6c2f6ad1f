-- +goose Up
-- AUTOINCREMENT: SQLite would otherwise reuse the id of the last deleted row,
-- and a deleted user's tokens would then name the next user to register.
CREATE TABLE stores (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(80) NOT NULL
);
-- Store names are unique whatever their case.
CREATE UNIQUE INDEX stores_lower_name_key ON stores (lower(name));

CREATE TABLE items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        VARCHAR(80) NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents BETWEEN 0 AND 9999999999),
    description VARCHAR(1000),
    store_id    INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE
);
-- Item names are unique per store whatever their case; the index also
-- serves "items of store N".
CREATE UNIQUE INDEX items_store_id_lower_name_key ON items (store_id, lower(name));
CREATE INDEX items_price_cents_idx ON items (price_cents);

CREATE TABLE tags (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name     VARCHAR(80) NOT NULL,
    store_id INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX tags_store_id_lower_name_key ON tags (store_id, lower(name));

CREATE TABLE items_tags (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, tag_id)
) WITHOUT ROWID;
-- The primary key serves lookups by item; this one serves lookups by tag.
CREATE INDEX items_tags_tag_id_idx ON items_tags (tag_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         VARCHAR(254) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE revoked_tokens (
    jti        VARCHAR(64) PRIMARY KEY,
    expires_at DATETIME NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);

-- +goose Down
DROP TABLE revoked_tokens;
DROP TABLE users;
DROP TABLE items_tags;
DROP TABLE tags;
DROP TABLE items;
DROP TABLE stores;
