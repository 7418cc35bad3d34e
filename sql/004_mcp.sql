-- 004_mcp: MCP sessions (2025-era Streamable HTTP) and execution logs
-- (DESIGN.md §6, §8). Sessions are rows so any worker on any host serves
-- any session; the session token itself is never stored, only its SHA-256.

CREATE TABLE mcp_sessions (
    id_hash          text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    protocol_version text NOT NULL CHECK (length(protocol_version) <= 32),
    client_name      text NOT NULL DEFAULT '' CHECK (length(client_name) <= 256),
    client_version   text NOT NULL DEFAULT '' CHECK (length(client_version) <= 256),
    client_info      jsonb,
    capabilities     jsonb,
    user_id          bigint REFERENCES users(id) ON DELETE CASCADE,
    api_key_id       bigint,
    role             text NOT NULL DEFAULT '',
    log_level        text,
    initialized      boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen        timestamptz NOT NULL DEFAULT now(),
    -- last_seen + the idle timeout; refreshed by every request of the session
    expires_at       timestamptz NOT NULL DEFAULT now() + interval '1 hour'
);
CREATE INDEX mcp_sessions_expires_idx ON mcp_sessions (expires_at);

CREATE TABLE execution_logs (
    id           bigserial PRIMARY KEY,
    tool_id      bigint REFERENCES tools(id) ON DELETE SET NULL,
    server_id    bigint REFERENCES servers(id) ON DELETE SET NULL,
    tool_name    text NOT NULL DEFAULT '',
    tool_version integer,
    kind         text NOT NULL DEFAULT 'call' CHECK (kind IN ('call', 'test')),
    caller_id    bigint REFERENCES users(id) ON DELETE SET NULL,
    api_key_id   bigint,
    session_hash text,
    request_id   text,
    traceparent  text,
    arguments    jsonb,          -- redacted
    status       text NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'truncated', 'unavailable')),
    result       text,           -- truncated with a marker
    stdout       text,
    stderr       text,
    error        text,
    duration_ms  integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_logs_tool_idx ON execution_logs (tool_id, id DESC);
CREATE INDEX execution_logs_server_idx ON execution_logs (server_id, id DESC);
CREATE INDEX execution_logs_created_idx ON execution_logs (created_at);
