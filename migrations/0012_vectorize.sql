-- Migration 0012: Vectorize, the seed's vector index, in SQLite.
--
-- An index has its dimensions and its metric; its vectors are float32,
-- little-endian, in a BLOB of 4 bytes a dimension (the trigger refuses
-- any other length), with their metadata as a JSON object and an
-- optional namespace (a user's notes are in the user's).  Queries are
-- exact: vector_score(), a function the store registers on every
-- connection (shared/store/ttai_vector.c), scores each vector of the
-- index (of the namespace) and SQLite keeps the best top-k.

CREATE TABLE vector_indexes (
    name         TEXT PRIMARY KEY,
    dimensions   INTEGER NOT NULL CHECK (dimensions BETWEEN 1 AND 4096),
    metric       TEXT NOT NULL
                 CHECK (metric IN ('cosine', 'dot-product', 'euclidean')),
    description  TEXT,
    created_at   INTEGER NOT NULL
);

-- vec last: a row's first columns are in its page, and a filter on the
-- namespace or the metadata reads no vector's overflow pages
CREATE TABLE vectors (
    index_name   TEXT NOT NULL
                 REFERENCES vector_indexes (name) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    namespace    TEXT,
    metadata     TEXT,
    vec          BLOB NOT NULL,
    PRIMARY KEY (index_name, id)
);

CREATE INDEX vectors_namespace ON vectors (index_name, namespace);

CREATE TRIGGER vectors_dimensions BEFORE INSERT ON vectors
WHEN length(NEW.vec) != 4 * (SELECT dimensions FROM vector_indexes
                             WHERE name = NEW.index_name)
BEGIN
    SELECT RAISE(ABORT, 'the vector''s dimensions are not the index''s');
END;

CREATE TRIGGER vectors_dimensions_update BEFORE UPDATE OF vec ON vectors
WHEN length(NEW.vec) != 4 * (SELECT dimensions FROM vector_indexes
                             WHERE name = NEW.index_name)
BEGIN
    SELECT RAISE(ABORT, 'the vector''s dimensions are not the index''s');
END;
