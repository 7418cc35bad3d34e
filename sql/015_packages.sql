-- 015_packages.sql - third-party Python packages (issue #20,
-- docs/packages.md). A package request names a distribution for one
-- server; its resolution (done in the sandbox, wheels only) records the
-- exact closure with sha256 hashes and what the reviewer needs. Approved
-- requests make the server's package set; package_sets keeps the set's
-- content address (the tree under TOOLGATE_PACKAGES_DIR) and its closure,
-- from which any host rebuilds the tree.
CREATE TABLE package_requests (
    id              bigserial PRIMARY KEY,
    server_id       bigint NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$'),
    spec            text NOT NULL DEFAULT '' CHECK (length(spec) <= 200),
    import_names    text[] NOT NULL DEFAULT '{}',
    reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 2048),
    tool_id         bigint REFERENCES tools(id) ON DELETE SET NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected',
                                      'revoked', 'superseded')),
    resolution      jsonb NOT NULL,
    requested_by    bigint REFERENCES users(id) ON DELETE SET NULL,
    decided_by      bigint REFERENCES users(id) ON DELETE SET NULL,
    decision_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE UNIQUE INDEX package_requests_one_pending ON package_requests (server_id, name)
    WHERE status = 'pending';
CREATE UNIQUE INDEX package_requests_one_approved ON package_requests (server_id, name)
    WHERE status = 'approved';

CREATE TABLE package_sets (
    server_id       bigint PRIMARY KEY REFERENCES servers(id) ON DELETE CASCADE,
    tree            text NOT NULL CHECK (tree ~ '^[0-9a-f]{64}$'),
    closure         jsonb NOT NULL,
    import_names    text[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT now()
);
