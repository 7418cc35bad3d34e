-- 003_lifecycle: servers, tools, immutable tool versions, server secrets,
-- module and network requests (DESIGN.md §5, §8). Author columns are
-- nullable: rows created by the CLI or by an import may have no user.

CREATE TABLE servers (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE
                  CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,47}$'),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
    -- NULL: the default prefix name || '__'; '' is a valid (empty) prefix.
    tool_prefix   text CHECK (tool_prefix ~ '^[A-Za-z0-9_.-]{0,64}$'),
    status        text NOT NULL DEFAULT 'stopped'
                  CHECK (status IN ('running', 'stopped')),
    allowed_hosts text[] NOT NULL DEFAULT '{}',
    created_by    bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tools (
    id               bigserial PRIMARY KEY,
    server_id        bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    name             text NOT NULL
                     CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$'),
    description      text NOT NULL DEFAULT '',
    code             text NOT NULL,
    input_schema     json,    -- verbatim text (json, not jsonb)
    -- explicit: given by the author (kept verbatim); derived: from main()'s
    -- signature by the validator; default: neither was available.
    schema_source    text NOT NULL DEFAULT 'default'
                     CHECK (schema_source IN ('explicit', 'derived', 'default')),
    annotations      json,
    status           text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'pending_review', 'approved', 'rejected')),
    current_version  integer NOT NULL DEFAULT 1,
    approved_version integer,
    review_reason    text,
    reviewed_by      bigint REFERENCES users(id) ON DELETE SET NULL,
    reviewed_at      timestamptz,
    created_by       bigint REFERENCES users(id) ON DELETE SET NULL,
    updated_by       bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (server_id, name)
);
CREATE INDEX tools_status_idx ON tools (status);

CREATE TABLE tool_versions (
    tool_id        bigint NOT NULL REFERENCES tools(id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 1),
    code           text NOT NULL,
    description    text NOT NULL DEFAULT '',
    input_schema   json,
    schema_source  text NOT NULL DEFAULT 'default',
    annotations    json,
    change_summary text NOT NULL DEFAULT '',
    author_id      bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tool_id, version)
);

-- Versions are immutable: no UPDATE; rows go only with their tool.
CREATE FUNCTION tool_versions_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tool_versions rows are immutable' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER tool_versions_no_update BEFORE UPDATE ON tool_versions
    FOR EACH ROW EXECUTE FUNCTION tool_versions_immutable();

-- AES-256-GCM: nonce (12 bytes) and ciphertext||tag; AAD is
-- 'server_secret:<server_id>:<key>'. A placeholder has no ciphertext.
CREATE TABLE server_secrets (
    id           bigserial PRIMARY KEY,
    server_id    bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (key ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
    nonce        bytea,
    ciphertext   bytea,
    key_version  integer,
    created_by   bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    value_set_at timestamptz,
    UNIQUE (server_id, key),
    CHECK ((ciphertext IS NULL) = (nonce IS NULL)),
    CHECK (nonce IS NULL OR length(nonce) = 12)
);

CREATE TABLE module_requests (
    id              bigserial PRIMARY KEY,
    module          text NOT NULL
                    CHECK (module ~ '^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)*$'
                           AND length(module) <= 128),
    reason          text NOT NULL DEFAULT '',
    tool_id         bigint REFERENCES tools(id) ON DELETE SET NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by    bigint REFERENCES users(id) ON DELETE SET NULL,
    decided_by      bigint REFERENCES users(id) ON DELETE SET NULL,
    decision_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE UNIQUE INDEX module_requests_one_pending ON module_requests (module)
    WHERE status = 'pending';

CREATE TABLE network_requests (
    id              bigserial PRIMARY KEY,
    server_id       bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    host            text NOT NULL
                    CHECK (host ~ '^[a-z0-9*]([a-z0-9.-]{0,252})(:[0-9]{1,5})?$'),
    reason          text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by    bigint REFERENCES users(id) ON DELETE SET NULL,
    decided_by      bigint REFERENCES users(id) ON DELETE SET NULL,
    decision_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE UNIQUE INDEX network_requests_one_pending ON network_requests (server_id, host)
    WHERE status = 'pending';
