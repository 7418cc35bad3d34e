/*
 * rows.c - JSON rows from PostgreSQL into jansson values (rows.h).
 */
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
tg_rows_page(PGresult *res, int col, int idcol, int64_t limit, json_t **out)
{
	json_t *root = NULL, *items = NULL;
	int i, n = PQntuples(res);

	if ((root = json_object()) == NULL || (items = json_array()) == NULL)
		goto fail;
	for (i = 0; i < n && i < limit; i++)
		if (json_array_append_new(items, tg_rows_json(PQgetvalue(res, i, col))) != 0)
			goto fail;
	if (json_object_set(root, "items", items) != 0)
		goto fail;
	if (json_object_set_new(root, "next_cursor", n > limit && limit > 0 ?
	    json_string(PQgetvalue(res, (int)limit - 1, idcol)) : json_null()) != 0)
		goto fail;
	json_decref(items);
	*out = root;
	return TG_OK;
fail:
	json_decref(items);
	json_decref(root);
	return -TG_E_NOMEM;
}
