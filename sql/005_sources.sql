-- 005_sources: external MCP sources (issue 7; DESIGN.md §4, §6, §8).
-- A source is a remote MCP server (Streamable HTTP) attached to a server;
-- its tools are imported as tools rows of kind 'external' that follow the
-- normal approval workflow and are called by passthrough (lib/sources.c).

CREATE TABLE external_sources (
    id                   bigserial PRIMARY KEY,
    server_id            bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    name                 text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,47}$'),
    description          text NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
    url                  text NOT NULL
                         CHECK (length(url) <= 2048 AND url ~* '^https?://'),
    transport            text NOT NULL DEFAULT 'streamable_http'
                         CHECK (transport IN ('streamable_http')),
    -- set by an admin: loopback/private/link-local destinations allowed
    internal             boolean NOT NULL DEFAULT false,
    enabled              boolean NOT NULL DEFAULT true,
    -- credentials: AES-256-GCM (lib/secretbox.h), AAD 'source_cred:<id>';
    -- write-only, never returned by any endpoint or export.
    auth_type            text NOT NULL DEFAULT 'none'
                         CHECK (auth_type IN ('none', 'bearer', 'header')),
    auth_header          text CHECK (auth_header ~ '^[A-Za-z0-9-]{1,64}$'),
    cred_nonce           bytea CHECK (cred_nonce IS NULL OR length(cred_nonce) = 12),
    cred_ciphertext      bytea,
    cred_key_version     integer,
    connect_timeout_ms   integer NOT NULL DEFAULT 5000
                         CHECK (connect_timeout_ms BETWEEN 100 AND 60000),
    timeout_ms           integer NOT NULL DEFAULT 30000
                         CHECK (timeout_ms BETWEEN 100 AND 120000),
    max_response_bytes   integer NOT NULL DEFAULT 4194304
                         CHECK (max_response_bytes BETWEEN 1024 AND 67108864),
    -- health and circuit breaker
    status               text NOT NULL DEFAULT 'unknown'
                         CHECK (status IN ('unknown', 'healthy', 'unhealthy')),
    consecutive_failures integer NOT NULL DEFAULT 0,
    failure_threshold    integer NOT NULL DEFAULT 3 CHECK (failure_threshold BETWEEN 1 AND 100),
    cooldown_s           integer NOT NULL DEFAULT 30 CHECK (cooldown_s BETWEEN 1 AND 86400),
    circuit_open_until   timestamptz,
    last_health_at       timestamptz,
    last_latency_ms      integer,
    last_error           text,
    last_error_at        timestamptz,
    -- the MCP session shared by every worker (re-initialised on 404)
    session_id           text CHECK (length(session_id) <= 256),
    protocol_version     text CHECK (length(protocol_version) <= 32),
    session_at           timestamptz,
    server_info          jsonb,
    created_by           bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (server_id, name),
    CHECK ((cred_ciphertext IS NULL) = (cred_nonce IS NULL)),
    CHECK (auth_type <> 'header' OR auth_header IS NOT NULL)
);
CREATE INDEX external_sources_server_idx ON external_sources (server_id);

-- Imported tools: kind 'external', code '' (nothing runs in the sandbox),
-- the remote name, and a hash of what the model reads (description,
-- input schema, annotations) to detect remote changes on discover.
ALTER TABLE tools
    ADD COLUMN kind text NOT NULL DEFAULT 'python' CHECK (kind IN ('python', 'external')),
    ADD COLUMN source_id bigint REFERENCES external_sources(id) ON DELETE CASCADE,
    ADD COLUMN remote_name text CHECK (length(remote_name) <= 256),
    ADD COLUMN remote_hash text CHECK (remote_hash ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT tools_external_source CHECK
        ((kind = 'external') = (source_id IS NOT NULL AND remote_name IS NOT NULL));
CREATE UNIQUE INDEX tools_source_remote_idx ON tools (source_id, remote_name)
    WHERE source_id IS NOT NULL;
