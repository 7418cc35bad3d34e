-- 013_warm.sql - warm sandboxes (issue #18): which isolation a call ran
-- with and whether its sandbox was a warm child of a zygote or a cold
-- helper; NULL for rows of calls that never reached a sandbox (and for
-- rows written before this migration).
ALTER TABLE execution_logs ADD COLUMN isolation text
    CHECK (isolation IN ('full', 'degraded'));
ALTER TABLE execution_logs ADD COLUMN sandbox text
    CHECK (sandbox IN ('warm', 'cold'));
