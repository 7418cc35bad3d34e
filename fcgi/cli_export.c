/*
 * cli_export.c - `toolgate export` and `toolgate import` over lib/export,
 * straight against the database named by the PG* variables (no HTTP, no
 * body cap). The CLI acts as an administrator without a user id: audit
 * rows name the actor "cli", imported rows have no author.
 *
 *   toolgate export [FILE]                          document to FILE or stdout
 *   toolgate import [--keep-status] [--no-settings] FILE|-
 *
 * Exit status 0 on success; 1 with a one-line reason (and the field errors,
 * one per line) on stderr otherwise. Import is all or nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/cli_base.h"
#include "fcgi/cli_export.h"
#include "fcgi/request.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/export.h"
#include "lib/status.h"

#define IMPORT_MAX (64 * 1024 * 1024)

/* The whole stream into a new buffer, at most IMPORT_MAX bytes. */
static int
read_all(FILE *f, char **out, size_t *len)
{
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;

	for (;;) {
		if (n == cap) {
			if (cap >= IMPORT_MAX) {
				free(buf);
				return -TG_E_TOOLARGE;
			}
			cap = cap ? cap * 2 : 64 * 1024;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return -TG_E_NOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return -TG_E_INTERNAL;
	}
	*out = buf;
	*len = n;
	return TG_OK;
}

static void
print_err(const char *what, struct tg_err *err)
{
	json_t *f;
	size_t i;

	fprintf(stderr, "toolgate: %s failed (%s): %s\n", what,
	    tg_status_name(err->status), err->detail);
	json_array_foreach(err->fields, i, f)
		fprintf(stderr, "  %s: %s\n",
		    json_string_value(json_object_get(f, "field")),
		    json_string_value(json_object_get(f, "message")));
}

int
tg_cmd_export(int argc, char **argv)
{
	struct tg_config cfg;
	struct tg_principal who;
	struct tg_call c;
	struct tg_err err;
	struct tg_db *db = NULL;
	json_t *doc = NULL;
	FILE *f = NULL;
	int rc = 1;

	tg_err_init(&err);
	if (argc > 2) {
		fprintf(stderr, "usage: toolgate export [FILE]\n");
		return 1;
	}
	if ((db = tg_cli_connect(&cfg, TG_CFG_NONE, "toolgate-cli", NULL)) == NULL)
		return 1;
	tg_cli_call(&c, &who, &cfg, db);
	if (tg_export_build(&c, &doc, &err) != TG_OK) {
		print_err("export", &err);
		goto out;
	}
	f = argc == 2 && strcmp(argv[1], "-") != 0 ? fopen(argv[1], "w") : stdout;
	if (f == NULL) {
		perror(argv[1]);
		goto out;
	}
	if (json_dumpf(doc, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0) {
		fprintf(stderr, "toolgate: export: write failed\n");
		goto out;
	}
	rc = 0;
out:
	if (f && f != stdout && fclose(f) != 0)
		rc = 1;
	json_decref(doc);
	tg_err_clear(&err);
	tg_db_close(db);
	tg_config_wipe(&cfg);
	return rc;
}

int
tg_cmd_import(int argc, char **argv)
{
	struct tg_import_opts opts = {0, 0};
	struct tg_config cfg;
	struct tg_principal who;
	struct tg_call c;
	struct tg_err err;
	struct tg_db *db = NULL;
	json_t *doc = NULL, *out = NULL, *w;
	json_error_t je;
	const char *path = NULL;
	char *text = NULL;
	size_t len = 0, wi;
	FILE *f = NULL;
	int i, bad = 0, rc = 1;

	tg_err_init(&err);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep-status") == 0)
			opts.keep_status = 1;
		else if (strcmp(argv[i], "--no-settings") == 0)
			opts.skip_settings = 1;
		else if (path == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			bad = 1;
	}
	if (path == NULL || bad) {
		fprintf(stderr, "usage: toolgate import [--keep-status] [--no-settings] FILE|-\n");
		return 1;
	}
	if (tg_cli_load_config(&cfg, TG_CFG_NONE) != 0)
		return 1;
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		perror(path);
		goto out;
	}
	if (read_all(f, &text, &len) != TG_OK) {
		fprintf(stderr, "toolgate: import: cannot read %s (or it is larger than %d bytes)\n",
		    path, IMPORT_MAX);
		goto out;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL || !json_is_object(doc)) {
		fprintf(stderr, "toolgate: import: %s: line %d, column %d: %s\n", path,
		    je.line, je.column, doc ? "not a JSON object" : je.text);
		goto out;
	}
	if ((db = tg_cli_open_db("toolgate-cli", NULL)) == NULL)
		goto out;
	tg_cli_call(&c, &who, &cfg, db);
	if (tg_export_import(&c, doc, &opts, &out, &err) != TG_OK) {
		print_err("import", &err);
		goto out;
	}
	printf("import: %lld servers, %lld tools, %lld versions, %lld secret names,"
	    " %lld sources%s\n",
	    (long long)json_integer_value(json_object_get(json_object_get(out, "counts"), "servers")),
	    (long long)json_integer_value(json_object_get(json_object_get(out, "counts"), "tools")),
	    (long long)json_integer_value(json_object_get(json_object_get(out, "counts"), "versions")),
	    (long long)json_integer_value(json_object_get(json_object_get(out, "counts"), "secrets")),
	    (long long)json_integer_value(json_object_get(json_object_get(out, "counts"), "sources")),
	    opts.keep_status ? " (statuses kept)" : " (tools as drafts, servers stopped)");
	json_array_foreach(json_object_get(out, "warnings"), wi, w)
		fprintf(stderr, "toolgate: import: warning: %s/%s (source id %lld): %s\n",
		    json_string_value(json_object_get(w, "server")),
		    json_string_value(json_object_get(w, "source")),
		    (long long)json_integer_value(json_object_get(w, "source_id")),
		    json_string_value(json_object_get(w, "message")));
	rc = 0;
out:
	if (f && f != stdin)
		fclose(f);
	free(text);
	json_decref(doc);
	json_decref(out);
	tg_err_clear(&err);
	tg_db_close(db);
	tg_config_wipe(&cfg);
	return rc;
}
