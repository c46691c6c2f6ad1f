-- +goose Up
-- Indexes for GET /items search. SQLite has no index that serves
-- lower(name) LIKE '%…%' (a leading wildcard): name search scans items.
-- ?tag=red finds tags by name across stores; the unique index on
-- (store_id, lower(name)) cannot serve that.
CREATE INDEX tags_lower_name_idx ON tags (lower(name));

-- +goose Down
DROP INDEX tags_lower_name_idx;
