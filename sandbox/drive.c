/*
 * drive.c - sandbox-drive: a thin command-line front end to
 * lib/sandbox_client.c, used by tests/sandbox and the benchmark so that they
 * exercise the same client code as the worker.
 *
 *   sandbox-drive [--helper PATH] [--allow-degraded] [--grace MS]
 *                 [--warm | --warm-strict] [--warm-calls N] [--warm-ms MS]
 *                 [-- EXTRA-HELPER-ARGS...]
 *                 < request.json
 *   sandbox-drive --lines [--helper PATH] [--warm | --warm-strict] ...
 *   sandbox-drive --probe [--helper PATH] [--allow-degraded]
 *
 * Prints the result document on stdout and exits 0; on a client error
 * prints {"client_error": "<status name>", "diag": "..."} and exits 1.
 * --warm / --warm-strict set opts.warm to 1 / 2 (warm sandboxes). With
 * --lines it reads one JSON document per line, {"request": {...},
 * "flags": ["--helper-arg", ...]} (flags optional), and answers each with
 * one line, all through one client (so warm calls share one long-lived
 * helper and its zygote, as in a worker).
 */
#include "lib/sandbox_client.h"
#include "lib/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
print_result(int rc, json_t *res, const char *diag)
{
	char *s = NULL;

	if (rc == 0)
		s = json_dumps(res, JSON_COMPACT);
	else {
		json_t *e = json_pack("{s:s, s:s}", "client_error",
		    tg_status_name(rc), "diag", diag);

		s = e ? json_dumps(e, JSON_COMPACT) : NULL;
		json_decref(e);
	}
	if (s != NULL)
		puts(s);
	free(s);
	fflush(stdout);
}

/* --lines: one request per line through one client */
static int
lines(struct tg_sandbox_opts *o, char *diag, size_t diag_len)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *doc = json_loadb(line, (size_t)n, 0, &je), *res = NULL;
		json_t *fl = json_object_get(doc, "flags"), *f;
		const char *args[32];
		size_t i;
		int rc = -TG_E_BADREQ;

		diag[0] = '\0';
		o->extra_args = NULL;
		if (json_is_array(fl) && json_array_size(fl) < 31) {
			json_array_foreach(fl, i, f)
				args[i] = json_string_value(f) ? json_string_value(f) : "";
			args[json_array_size(fl)] = NULL;
			o->extra_args = json_array_size(fl) ? args : NULL;
		}
		if (json_is_object(json_object_get(doc, "request")))
			rc = tg_sandbox_run(o, json_object_get(doc, "request"), &res);
		else
			snprintf(diag, diag_len, "bad line: %s", je.text);
		print_result(rc, res, diag);
		json_decref(res);
		json_decref(doc);
	}
	free(line);
	tg_sandbox_warm_stop();
	return 0;
}

static json_t *
read_stdin(void)
{
	json_error_t je;
	json_t *j = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL)
		fprintf(stderr, "sandbox-drive: bad request JSON: %s\n", je.text);
	return j;
}

int
main(int argc, char **argv)
{
	struct tg_sandbox_opts o;
	char diag[1024] = "";
	json_t *req = NULL, *res = NULL;
	int i, rc, probe = 0, ex = 1, nlines = 0;

	memset(&o, 0, sizeof o);
	o.helper_path = "build/toolgate-sandbox";
	o.diag = diag;
	o.diag_len = sizeof diag;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--helper") == 0 && i + 1 < argc)
			o.helper_path = argv[++i];
		else if (strcmp(argv[i], "--allow-degraded") == 0)
			o.allow_degraded = 1;
		else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc)
			o.grace_ms = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--probe") == 0)
			probe = 1;
		else if (strcmp(argv[i], "--warm") == 0)
			o.warm = 1;
		else if (strcmp(argv[i], "--warm-strict") == 0)
			o.warm = 2;
		else if (strcmp(argv[i], "--lines") == 0)
			nlines = 1;
		else if (strcmp(argv[i], "--warm-calls") == 0 && i + 1 < argc)
			o.warm_calls = strtoll(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--warm-ms") == 0 && i + 1 < argc)
			o.warm_ms = strtoll(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--") == 0) {
			o.extra_args = (const char *const *)&argv[i + 1];
			break;
		} else {
			fprintf(stderr, "usage: sandbox-drive [--helper PATH] "
			    "[--allow-degraded] [--grace MS] [--probe] [--warm | "
			    "--warm-strict] [--lines] [-- HELPER-ARGS] < "
			    "request.json\n");
			return 2;
		}
	}
	(void)tg_sandbox_warm_start(&o);	/* a no-op unless --warm */
	if (nlines)
		return lines(&o, diag, sizeof diag);
	if (probe) {
		enum tg_sandbox_isolation lvl;

		rc = tg_sandbox_probe(&o, &lvl, &res);
	} else {
		req = read_stdin();
		if (req == NULL)
			return 2;
		rc = tg_sandbox_run(&o, req, &res);
		tg_sandbox_warm_stop();
	}
	if (rc == 0) {
		char *s = json_dumps(res, JSON_COMPACT);

		if (s != NULL) {
			puts(s);
			free(s);
			ex = 0;
		}
	} else {
		json_t *e = json_pack("{s:s, s:s}", "client_error",
		    tg_status_name(rc), "diag", diag);
		char *s = e ? json_dumps(e, JSON_COMPACT) : NULL;

		if (s != NULL)
			puts(s);
		free(s);
		json_decref(e);
	}
	json_decref(req);
	json_decref(res);
	return ex;
}
