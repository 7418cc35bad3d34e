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

/* The other way: tg_db_exec() of sql with n parameters, p[0..n - nj) as
 * the caller set them and p[n - nj..n) the compact JSON texts of the nj
 * (at most 4) values js (a NULL value is SQL NULL; the texts are freed
 * before it returns). */
struct tg_db;
int tg_db_exec_json(struct tg_db *db, const char *sql, int n, const char **p,
    json_t *const *js, int nj, PGresult **res);

#endif
