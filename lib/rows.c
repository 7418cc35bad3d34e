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
