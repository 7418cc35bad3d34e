/*
 * clock.h - the monotonic clock every deadline and duration is measured on,
 * and the one timestamp format of JSON output.
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Microseconds of CLOCK_MONOTONIC (not wall time). */
int64_t tg_now_us(void);
/* Milliseconds of the same clock. */
int64_t tg_now_ms(void);

/*
 * The timestamp format of every REST and MCP JSON answer (docs/api.md):
 * RFC 3339, UTC, milliseconds, "Z": "2026-12-05T21:16:37.123Z", always
 * TG_TS_LEN characters. TG_SQL_TS(col) renders a timestamptz column so in
 * SQL (NULL stays NULL); tg_ts_rfc3339() renders the wall clock's now into
 * buf (cap >= TG_TS_LEN + 1), 0 or -TG_E_INTERNAL.
 */
#define TG_TS_LEN 24
#define TG_SQL_TS(col) \
	"to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
int tg_ts_rfc3339(char *buf, size_t cap);
/* The same for epoch seconds (a JWT's exp): 0 or -TG_E_INTERNAL. */
int tg_ts_rfc3339_epoch(int64_t epoch_s, char *buf, size_t cap);

#endif
