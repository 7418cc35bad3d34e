/*
 * tools_diff.c - what changed since the approved version: a line diff of
 * the code (unified format, LCS) and the changed members (see tools.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/status.h"
#include "lib/tools.h"
#include "lib/tools_int.h"

int
tg_tools_jeq(json_t *a, json_t *b)
{
	if (a == NULL)
		a = json_null();
	if (b == NULL)
		b = json_null();
	return json_equal(a, b);
}

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int
split(const char *s, struct lines *l)
{
	const char *q;
	size_t n = 1, i = 0;

	for (q = s; *q; q++)
		if (*q == '\n')
			n++;
	l->p = calloc(n, sizeof(*l->p));
	l->len = calloc(n, sizeof(*l->len));
	if (l->p == NULL || l->len == NULL)
		return -TG_E_NOMEM;
	while (*s) {
		q = strchr(s, '\n');
		l->p[i] = s;
		l->len[i] = q ? (size_t)(q - s) : strlen(s);
		i++;
		if (q == NULL)
			break;
		s = q + 1;
	}
	l->n = i;
	return TG_OK;
}

static int
line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

static int
emit(struct tg_buf *o, char mark, const char *p, size_t n)
{
	if (tg_buf_append(o, &mark, 1) || tg_buf_append(o, p, n) ||
	    tg_buf_append(o, "\n", 1))
		return -TG_E_NOMEM;
	return TG_OK;
}

char *
tg_tools_unified_diff(const char *a, const char *b)
{
	struct lines la = {0}, lb = {0};
	struct tg_buf o = {0};
	unsigned *t = NULL;
	size_t i, j, w;
	char *res = NULL;
	int rc = TG_OK;

	if (split(a, &la) != TG_OK || split(b, &lb) != TG_OK)
		goto out;
	if (tg_buf_printf(&o, "--- approved\n+++ current\n@@ -1,%zu +1,%zu @@\n",
	    la.n, lb.n) != 0)
		goto out;
	w = lb.n + 1;
	if ((la.n + 1) * w <= 4u * 1024 * 1024)
		t = calloc((la.n + 1) * w, sizeof(*t));
	if (t == NULL) {
		/* Too large (or no memory for the table): replace everything. */
		for (i = 0; rc == TG_OK && i < la.n; i++)
			rc = emit(&o, '-', la.p[i], la.len[i]);
		for (j = 0; rc == TG_OK && j < lb.n; j++)
			rc = emit(&o, '+', lb.p[j], lb.len[j]);
	} else {
		/* LCS table from the end. */
		for (i = la.n; i-- > 0;)
			for (j = lb.n; j-- > 0;)
				t[i * w + j] = line_eq(&la, i, &lb, j) ?
				    t[(i + 1) * w + j + 1] + 1 :
				    (t[(i + 1) * w + j] > t[i * w + j + 1] ?
				    t[(i + 1) * w + j] : t[i * w + j + 1]);
		i = j = 0;
		while (rc == TG_OK && (i < la.n || j < lb.n)) {
			if (i < la.n && j < lb.n && line_eq(&la, i, &lb, j)) {
				rc = emit(&o, ' ', la.p[i], la.len[i]);
				i++;
				j++;
			} else if (i < la.n && (j == lb.n ||
			    t[(i + 1) * w + j] >= t[i * w + j + 1])) {
				/* Deletions before insertions, as diff -u does. */
				rc = emit(&o, '-', la.p[i], la.len[i]);
				i++;
			} else {
				rc = emit(&o, '+', lb.p[j], lb.len[j]);
				j++;
			}
		}
	}
	if (rc == TG_OK && o.p) {
		res = o.p;
		o.p = NULL;
	}
out:
	tg_buf_free(&o);
	free(t);
	free(la.p);
	free(la.len);
	free(lb.p);
	free(lb.len);
	return res;
}

int
tg_tools_diff(const struct tg_call *c, int64_t id, json_t **out,
    struct tg_err *err)
{
	json_t *cur = NULL, *old = NULL, *o = NULL, *ov, *nv;
	char *d = NULL;
	static const char *const keys[] = {"name", "description", "input_schema",
		"annotations", NULL};
	json_int_t av;
	int rc, k, same;

	if ((rc = tg_tools_get(c, id, &cur, err)) != TG_OK)
		return rc;
	ov = json_object_get(cur, "approved_version");
	av = json_is_integer(ov) ? json_integer_value(ov) : 0;
	if (av > 0 && (rc = tg_tools_version_get(c, id, av, &old, err)) != TG_OK)
		goto out;
	/* issue #16: content identical to the approved version (a rollback
	 * to it) is said so, instead of a hunk of unchanged lines. */
	same = old != NULL && tg_tools_jeq(json_object_get(old, "code"), json_object_get(cur, "code")) &&
	    tg_tools_jeq(json_object_get(old, "schema_source"), json_object_get(cur, "schema_source"));
	for (k = 0; same && keys[k]; k++)
		same = tg_tools_jeq(json_object_get(old, keys[k]), json_object_get(cur, keys[k]));
	if (!same)
		d = tg_tools_unified_diff(old ? json_string_value(json_object_get(old, "code")) : "",
		    json_string_value(json_object_get(cur, "code")));
	o = json_pack("{s:I, s:o, s:O, s:s, s:b}", "tool_id", (json_int_t)id,
	    "from_version", av > 0 ? json_integer(av) : json_null(), "to_version",
	    json_object_get(cur, "current_version"), "code_diff", d ? d : "",
	    "identical", same);
	if (o == NULL) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	if (same && json_object_set_new(o, "summary",
	    json_string("identical to the approved version")) != 0) {
		rc = -TG_E_NOMEM;
		goto out;
	}
	for (k = 0; keys[k]; k++) {
		ov = old ? json_object_get(old, keys[k]) : json_null();
		nv = json_object_get(cur, keys[k]);
		if (!tg_tools_jeq(ov, nv))
			json_object_set_new(o, keys[k], json_pack("{s:O, s:O}", "old",
			    ov ? ov : json_null(), "new", nv ? nv : json_null()));
	}
	*out = o;
	o = NULL;
out:
	free(d);
	json_decref(o);
	json_decref(cur);
	json_decref(old);
	return tg_err_from(err, rc);
}
