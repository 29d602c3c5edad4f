-- Runs once, when the postgres container initialises an empty data volume (docker-entrypoint-initdb.d),
-- as the superuser, in POSTGRES_DB. The reservations' no-overlap EXCLUDE constraint needs btree_gist;
-- the migrations create it too (IF NOT EXISTS), but the application role may not be allowed to.
CREATE EXTENSION IF NOT EXISTS btree_gist;
