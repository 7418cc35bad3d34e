-- 016_oauth: the OAuth 2.1 authorization server for remote MCP clients
-- (issue #21; docs/security.md "OAuth for MCP clients", lib/oauth.c).
--
--   oauth_clients    dynamic client registrations (RFC 7591): public clients
--                    only (PKCE, token_endpoint_auth_method "none"); removed
--                    when never used for a day, or unused for 90 days
--   oauth_requests   pending authorization requests, between /oauth/authorize
--                    and the person's decision on the consent page (10 min)
--   oauth_grants     remembered consent, one per user and client, with the
--                    role the client acts with (at most the user's)
--   oauth_codes      authorization codes: single use, 60 s, bound to the
--                    grant, client, redirect URI, PKCE challenge and resource
-- Refresh tokens of an OAuth grant are ordinary refresh_tokens rows (the same
-- rotation, reuse detection and revocation) with grant_id set; deleting the
-- grant (consent withdrawn, client deleted) deletes them, after the service
-- blacklisted the access tokens issued with them.

CREATE TABLE oauth_clients (
    id              bigserial PRIMARY KEY,
    client_id       text NOT NULL UNIQUE CHECK (client_id ~ '^tgc_[A-Za-z0-9_-]{43}$'),
    client_name     text NOT NULL CHECK (length(client_name) BETWEEN 1 AND 100),
    client_uri      text CHECK (length(client_uri) <= 512),
    -- a JSON array of 1..10 strings, checked by the service
    redirect_uris   jsonb NOT NULL CHECK (jsonb_typeof(redirect_uris) = 'array'),
    registered_from text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz
);

CREATE TABLE oauth_requests (
    id             text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),  -- SHA-256 of the handle
    client_id      bigint NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    redirect_uri   text NOT NULL,
    -- whether the request named it (else the client's only one): the token
    -- request must then name it too (OAuth 2.1 section 4.1.3)
    redirect_given boolean NOT NULL DEFAULT true,
    state          text,
    code_challenge text NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    resource       text NOT NULL,
    scope          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    decided_at     timestamptz
);
CREATE INDEX oauth_requests_expires_idx ON oauth_requests (expires_at);

CREATE TABLE oauth_grants (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    bigint NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    UNIQUE (user_id, client_id)
);
CREATE INDEX oauth_grants_client_idx ON oauth_grants (client_id);

CREATE TABLE oauth_codes (
    code_hash      text PRIMARY KEY CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    grant_id       bigint NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    redirect_uri   text NOT NULL,
    redirect_given boolean NOT NULL DEFAULT true,
    code_challenge text NOT NULL,
    resource       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    -- the refresh family issued for this code: a second exchange revokes it
    family         text
);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);

ALTER TABLE refresh_tokens
    ADD COLUMN grant_id bigint REFERENCES oauth_grants(id) ON DELETE CASCADE;
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id) WHERE grant_id IS NOT NULL;
