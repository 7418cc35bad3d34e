-- 020_pkg_install.sql - approval installs off the request path (issue #20,
-- docs/packages.md "Approval"): approving a pending package request makes
-- it 'installing' in one transaction and answers 202 at once; the
-- package-job process (lib/pkg_jobs.c, or `toolgate packages run-jobs`
-- where no master runs) claims it like a resolution (a session advisory
-- lock, retries, taken over when the process dies), builds the server's
-- new package tree and then, in one transaction, makes the request
-- 'approved' and rewrites the package set, or makes it 'failed' with the
-- reason. Until then the server keeps its previous set.
ALTER TABLE package_requests DROP CONSTRAINT package_requests_status_check;
ALTER TABLE package_requests ADD CONSTRAINT package_requests_status_check
    CHECK (status IN ('resolving', 'failed', 'pending', 'installing',
                      'approved', 'rejected', 'revoked', 'superseded'));
ALTER TABLE package_requests ADD COLUMN installed_at timestamptz;
-- one request in flight, pending or installing per server and distribution
DROP INDEX package_requests_one_pending;
CREATE UNIQUE INDEX package_requests_one_pending ON package_requests (server_id, name)
    WHERE status IN ('resolving', 'pending', 'installing');
-- the package-job process's queue: resolutions and installs
DROP INDEX package_requests_resolving;
CREATE INDEX package_requests_jobs ON package_requests (next_attempt_at, id)
    WHERE status IN ('resolving', 'installing');
