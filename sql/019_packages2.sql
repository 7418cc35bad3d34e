-- 019_packages2.sql - package requests are resolved off the request path
-- (issue #20, docs/packages.md "Resolution"): a request is created
-- 'resolving' and answered 202 at once; the master's package-job process
-- (lib/pkg_jobs.c) claims it (a session advisory lock: a process that dies
-- releases it, and the next one takes the job over), resolves it in the
-- sandbox and makes it 'pending' (with the review document) or 'failed'
-- (with the reason). Extras ("requests[socks]") are recorded per request.
ALTER TABLE package_requests DROP CONSTRAINT package_requests_status_check;
ALTER TABLE package_requests ADD CONSTRAINT package_requests_status_check
    CHECK (status IN ('resolving', 'failed', 'pending', 'approved',
                      'rejected', 'revoked', 'superseded'));
ALTER TABLE package_requests ALTER COLUMN resolution SET DEFAULT '{}'::jsonb;
ALTER TABLE package_requests
    ADD COLUMN extras text[] NOT NULL DEFAULT '{}',
    ADD COLUMN error jsonb,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN claimed_pid integer,
    ADD COLUMN resolved_at timestamptz;
-- one request in flight or pending per server and distribution
DROP INDEX package_requests_one_pending;
CREATE UNIQUE INDEX package_requests_one_pending ON package_requests (server_id, name)
    WHERE status IN ('resolving', 'pending');
CREATE INDEX package_requests_resolving ON package_requests (next_attempt_at, id)
    WHERE status = 'resolving';
