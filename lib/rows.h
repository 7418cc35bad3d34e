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

/* {"items":[JSON texts of column col, first limit rows], "next_cursor": the
 * text of column idcol of the last item when res has more than limit rows
 * (the query fetched limit + 1), else null}. 0 or -TG_E_NOMEM. */
int tg_rows_page(PGresult *res, int col, int idcol, int64_t limit,
    json_t **out);

/* The end of a function that builds a JSON result v (owned) and ends in
 * rc: when rc is 0, v goes to *out; otherwise v is released and *out is
 * left alone. Returns rc. */
int tg_json_hand(json_t **out, json_t *v, int rc);

#endif
