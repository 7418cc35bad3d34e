-- 008_approval: approval integrity (security issue #14). What is served is
-- the APPROVED version's content, so the name a model sees must be part of
-- a version too: tool_versions gets the tool's name. Every existing version
-- takes the tool's current name (the only one known); new versions take the
-- name of the tool row they are appended from (tools.c APPEND_VERSION and
-- the other writers name it, the trigger below fills it for any writer
-- that does not, e.g. an import of an older export document).

ALTER TABLE tool_versions ADD COLUMN name text;

ALTER TABLE tool_versions DISABLE TRIGGER tool_versions_no_update;
UPDATE tool_versions v SET name = t.name FROM tools t WHERE t.id = v.tool_id;
ALTER TABLE tool_versions ENABLE TRIGGER tool_versions_no_update;

CREATE FUNCTION tool_versions_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS NULL THEN
        SELECT t.name INTO NEW.name FROM tools t WHERE t.id = NEW.tool_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tool_versions_name BEFORE INSERT ON tool_versions
    FOR EACH ROW EXECUTE FUNCTION tool_versions_name();

ALTER TABLE tool_versions ALTER COLUMN name SET NOT NULL,
    ADD CONSTRAINT tool_versions_name_check
        CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$');

-- A served tool is looked up by (tool, approved version): the primary key
-- (tool_id, version) covers it.

-- Until now only status 'approved' was served and a revoke kept
-- approved_version. From now on a Python tool with an approved_version is
-- served (its approved version) while a newer version waits for review,
-- and a revoke clears approved_version. A 'rejected' or 'draft' tool cannot
-- tell a revoke from a rejected newer version, so it serves nothing.
UPDATE tools SET approved_version = NULL
    WHERE status IN ('rejected', 'draft') AND approved_version IS NOT NULL;

-- 'approved' now means "the approved version IS the current one". A tool
-- left 'approved' with an older approved version (a description change
-- under approval_reset_on = 'code' before this migration), or none, has
-- its current version wait for review; the approved one stays served.
UPDATE tools SET status = 'pending_review'
    WHERE status = 'approved' AND approved_version IS DISTINCT FROM current_version;
