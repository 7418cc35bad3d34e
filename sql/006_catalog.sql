-- 006_catalog: a version number for the tool catalogue, bumped by any
-- change to servers or tools, so workers can cache what tools/list serves
-- and revalidate it with one integer (docs/performance.md). And rate-limit
-- windows become UNLOGGED: they are short-lived counters, not worth WAL on
-- every request (after a PostgreSQL crash they start again from zero).
CREATE TABLE tool_catalog (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO tool_catalog (id, version) VALUES (1, 1);

CREATE FUNCTION tool_catalog_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tool_catalog SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END $$;

CREATE TRIGGER servers_catalog_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON servers FOR EACH STATEMENT EXECUTE FUNCTION tool_catalog_bump();
CREATE TRIGGER tools_catalog_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON tools FOR EACH STATEMENT EXECUTE FUNCTION tool_catalog_bump();

GRANT SELECT, UPDATE ON tool_catalog TO toolgate_app;

ALTER TABLE rate_limits SET UNLOGGED;
