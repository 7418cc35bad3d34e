-- 021_refresh_retry.sql - the refresh-token reuse interval (docs/security.md
-- "Refresh tokens: the reuse interval"): each refresh token records the token
-- it was rotated from, so that a retry of a rotated token within the interval
-- can find (and supersede) its successor, and see whether that successor was
-- used already (then the retry is reuse: the family is revoked).
-- No foreign key: maintenance deletes expired rows, and a parent expires
-- before its children; ids are never reused (bigserial).
ALTER TABLE refresh_tokens ADD COLUMN parent_id bigint;
CREATE INDEX refresh_tokens_parent_idx ON refresh_tokens (parent_id)
    WHERE parent_id IS NOT NULL;
