-- 001_init: settings, the key/value store for runtime-tunable settings
-- (module allow-list, retention, limits). Values are JSON.
CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]{0,63}$'),
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint
);
