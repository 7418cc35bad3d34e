-- 002_identity: users, API keys, refresh tokens, the JWT blacklist, rate-limit
-- windows and the append-only, hash-chained audit log (DESIGN.md §4, §8;
-- docs/security.md).
--
-- Database roles. Migrations run as the owner (the PGUSER of `toolgate migrate`).
-- Every other connection (workers, the master's maintenance, the CLI) switches to
-- the non-superuser role toolgate_app right after connecting (lib/db.c, SET ROLE;
-- TOOLGATE_DB_ROLE overrides the name). toolgate_app may SELECT/INSERT/UPDATE/
-- DELETE application tables, including those later migrations create (default
-- privileges below), but only SELECT/INSERT on audit_log.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'toolgate_app') THEN
        CREATE ROLE toolgate_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
    -- The owner must be able to SET ROLE toolgate_app (a no-op for superusers).
    EXECUTE format('GRANT toolgate_app TO %I', current_user);
END
$$;

GRANT USAGE ON SCHEMA public TO toolgate_app;

CREATE TABLE users (
    id                 bigserial PRIMARY KEY,
    username           text NOT NULL
                       CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    password_hash      text NOT NULL CHECK (length(password_hash) <= 256),
    role               text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    disabled           boolean NOT NULL DEFAULT false,
    -- Every JWT/refresh token/API key issued before this instant is invalid.
    tokens_valid_after timestamptz NOT NULL DEFAULT 'epoch',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_login_at      timestamptz
);
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username));

CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    -- The first 12 characters of the secret part: a non-secret lookup handle.
    prefix       text NOT NULL UNIQUE CHECK (prefix ~ '^[A-Za-z0-9_-]{12}$'),
    key_hash     text NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    role         text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE refresh_tokens (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family         text NOT NULL CHECK (family ~ '^[0-9a-f]{32}$'),
    token_hash     text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    -- jti of the access token issued together with this refresh token (logout
    -- of that access token revokes the family).
    access_jti     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_jti_idx ON refresh_tokens (access_jti);

CREATE TABLE jwt_blacklist (
    jti        text PRIMARY KEY CHECK (jti ~ '^[0-9a-f]{32}$'),
    user_id    bigint,
    expires_at timestamptz NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jwt_blacklist_expires_idx ON jwt_blacklist (expires_at);

-- Fixed-window counters: one row per (bucket, window start in epoch seconds).
CREATE TABLE rate_limits (
    bucket       text NOT NULL,
    window_start bigint NOT NULL,
    hits         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, window_start)
);

CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    bigint,            -- users.id; no FK: history outlives users
    actor       text NOT NULL,     -- username, "key:<id>/<username>" or "-"
    role        text NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL,
    request_id  text NOT NULL,
    client_addr text NOT NULL,
    outcome     text NOT NULL,
    detail      jsonb,
    prev_hash   text NOT NULL,
    hash        text NOT NULL
);
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
CREATE INDEX audit_log_action_idx ON audit_log (action);

-- The canonical hash of one row: SHA-256 over the previous row's hash and a
-- JSON array of the row's fields (unambiguous; jsonb text is canonical; the
-- time as integer microseconds, independent of TimeZone).
CREATE FUNCTION audit_row_hash(prev text, id bigint, at timestamptz,
    actor_id bigint, actor text, role text, action text, target text,
    request_id text, client_addr text, outcome text, detail jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(prev || jsonb_build_array(id,
        (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor, role,
        action, target, request_id, client_addr, outcome, detail)::text,
        'UTF8')), 'hex')
$$;

-- Appends one row. The advisory lock serialises appends (every writer links
-- to the same predecessor otherwise); as a VOLATILE plpgsql function each
-- statement takes a fresh snapshot, so the predecessor is read after the
-- lock is held. The lock lasts until the caller's transaction ends.
CREATE FUNCTION audit_append(p_actor_id bigint, p_actor text, p_role text,
    p_action text, p_target text, p_request_id text, p_client_addr text,
    p_outcome text, p_detail jsonb)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_prev text;
    v_id   bigint;
    v_at   timestamptz := clock_timestamp();
BEGIN
    PERFORM pg_advisory_xact_lock(7415003);
    SELECT hash INTO v_prev FROM audit_log ORDER BY id DESC LIMIT 1;
    IF v_prev IS NULL THEN
        v_prev := repeat('0', 64);
    END IF;
    v_id := nextval('audit_log_id_seq');
    INSERT INTO audit_log (id, at, actor_id, actor, role, action, target,
        request_id, client_addr, outcome, detail, prev_hash, hash)
    VALUES (v_id, v_at, p_actor_id, p_actor, p_role, p_action, p_target,
        p_request_id, p_client_addr, p_outcome, p_detail, v_prev,
        audit_row_hash(v_prev, v_id, v_at, p_actor_id, p_actor, p_role,
            p_action, p_target, p_request_id, p_client_addr, p_outcome,
            p_detail));
    RETURN v_id;
END
$$;

-- Privileges: everything that exists now (001's settings, these tables) and,
-- through default privileges, every table/sequence later migrations create.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO toolgate_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO toolgate_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO toolgate_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO toolgate_app;
-- Append-only for the application.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM toolgate_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
GRANT SELECT, INSERT ON audit_log TO toolgate_app;
GRANT EXECUTE ON FUNCTION audit_row_hash(text, bigint, timestamptz, bigint,
    text, text, text, text, text, text, text, jsonb) TO toolgate_app;
GRANT EXECUTE ON FUNCTION audit_append(bigint, text, text, text, text, text,
    text, text, jsonb) TO toolgate_app;
