-- 010_reliability.sql - the execution log records every call before it runs
-- (issue #15): a row starts as 'running' and is completed after the call;
-- maintenance marks rows whose worker died as 'lost'; a call stopped because
-- the client went away is 'cancelled' (was logged as 'error').
ALTER TABLE execution_logs DROP CONSTRAINT IF EXISTS execution_logs_status_check;
ALTER TABLE execution_logs ADD CONSTRAINT execution_logs_status_check
    CHECK (status IN ('ok', 'error', 'timeout', 'truncated', 'unavailable',
                      'cancelled', 'running', 'lost'));
-- Who runs the call: the worker process and its database session (what
-- maintenance checks in pg_stat_activity), and when it ended.
ALTER TABLE execution_logs ADD COLUMN worker_pid integer;
ALTER TABLE execution_logs ADD COLUMN backend_pid integer;
ALTER TABLE execution_logs ADD COLUMN backend_start timestamptz;
ALTER TABLE execution_logs ADD COLUMN finished_at timestamptz;
CREATE INDEX execution_logs_running_idx ON execution_logs (id) WHERE status = 'running';
