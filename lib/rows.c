/*
 * rows.c - JSON rows from PostgreSQL into jansson values (rows.h), and
 * jansson values as statement parameters.
 */
#include <stdlib.h>

#include "lib/db.h"
#include "lib/rows.h"
#include "lib/status.h"

json_t *
tg_rows_json(const char *text)
{
	json_error_t err;

	return json_loads(text, JSON_DECODE_ANY, &err);
}

int
tg_json_hand(json_t **out, json_t *v, int rc)
{
	if (rc == TG_OK)
		*out = v;
	else
		json_decref(v);
	return rc;
}

int
tg_db_exec_json(struct tg_db *db, const char *sql, int n, const char **p,
    json_t *const *js, int nj, PGresult **res)
{
	char *txt[4] = {NULL, NULL, NULL, NULL};
	int i, rc = TG_OK;

	if (nj < 0 || nj > 4 || nj > n)
		return -TG_E_INTERNAL;
	for (i = 0; i < nj; i++) {
		if (js[i] != NULL && (txt[i] = json_dumps(js[i], JSON_COMPACT |
		    JSON_ENCODE_ANY)) == NULL)
			rc = -TG_E_NOMEM;
		p[n - nj + i] = txt[i];
	}
	if (rc == TG_OK)
		rc = tg_db_exec(db, sql, n, p, res);
	for (i = 0; i < nj; i++)
		free(txt[i]);
	return rc;
}
