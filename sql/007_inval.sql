-- 007_inval: cache invalidation. Workers keep short-lived caches of what
-- every request would otherwise read (the caller's credentials, its MCP
-- session, the tool catalogue version; docs/performance.md). Every change
-- that could make such a cache wrong sends a NOTIFY on channel
-- toolgate_inval naming the cache ("auth", "session", "catalog", "all"),
-- whoever makes it (the app, the CLI, psql); workers LISTEN and drop the
-- named cache before serving their next request.
CREATE FUNCTION toolgate_inval() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('toolgate_inval', TG_ARGV[0]);
    RETURN NULL;
END $$;

-- Who may call, with which role, and at what rate.
CREATE TRIGGER users_inval
    AFTER UPDATE OF username, role, disabled, tokens_valid_after OR DELETE OR TRUNCATE
    ON users FOR EACH STATEMENT EXECUTE FUNCTION toolgate_inval('auth');
CREATE TRIGGER api_keys_inval
    AFTER UPDATE OF user_id, prefix, key_hash, role, expires_at, revoked_at, created_at
    OR DELETE OR TRUNCATE
    ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION toolgate_inval('auth');
CREATE TRIGGER jwt_blacklist_inval
    AFTER INSERT OR UPDATE ON jwt_blacklist
    FOR EACH STATEMENT EXECUTE FUNCTION toolgate_inval('auth');
-- Settings hold rate limits and session timeouts: everything.
CREATE TRIGGER settings_inval
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON settings FOR EACH STATEMENT EXECUTE FUNCTION toolgate_inval('all');
-- MCP sessions: ended, expired, or changed (log level, initialized); not
-- the idle-expiry refresh (last_seen, expires_at).
CREATE TRIGGER mcp_sessions_inval
    AFTER UPDATE OF protocol_version, user_id, api_key_id, role, log_level, initialized
    OR DELETE OR TRUNCATE
    ON mcp_sessions FOR EACH STATEMENT EXECUTE FUNCTION toolgate_inval('session');
-- The tool catalogue (006_catalog bumps its version on any change).
CREATE TRIGGER tool_catalog_inval
    AFTER UPDATE ON tool_catalog
    FOR EACH STATEMENT EXECUTE FUNCTION toolgate_inval('catalog');
