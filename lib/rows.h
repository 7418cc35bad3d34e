/*
 * rows.h - JSON built by PostgreSQL, read back: most queries return one
 * json_build_object(...)::text column per row, so the row shapes are
 * defined once, next to the SQL. These helpers turn such results into
 * jansson values and pages.
 */
#ifndef TG_ROWS_H
#define TG_ROWS_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

/* One JSON text value into a new reference (NULL on failure). */
json_t *tg_rows_json(const char *text);


/* The end of a function that builds a JSON result v (owned) and ends in
 * rc: when rc is 0, v goes to *out; otherwise v is released and *out is
 * left alone. Returns rc. */
int tg_json_hand(json_t **out, json_t *v, int rc);

#endif
