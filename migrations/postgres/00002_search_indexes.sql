-- +goose Up
-- Indexes for GET /items search.
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so
-- the database owner may create it. Its GIN index serves
-- lower(name) LIKE '%…%', which no B-tree can.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX items_lower_name_trgm_idx ON items USING gin (lower(name) gin_trgm_ops);
-- ?tag=red finds tags by name across stores; the unique index on
-- (store_id, lower(name)) cannot serve that.
CREATE INDEX tags_lower_name_idx ON tags (lower(name));

-- +goose Down
-- The extension stays: other objects may have come to use it.
DROP INDEX tags_lower_name_idx;
DROP INDEX items_lower_name_trgm_idx;
