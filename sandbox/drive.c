/*
 * drive.c - sandbox-drive: a thin command-line front end to
 * lib/sandbox_client.c, used by tests/sandbox and the benchmark so that they
 * exercise the same client code as the worker.
 *
 *   sandbox-drive [--helper PATH] [--allow-degraded] [--grace MS]
 *                 [-- EXTRA-HELPER-ARGS...] < request.json
 *   sandbox-drive --probe [--helper PATH] [--allow-degraded]
 *
 * Prints the result document on stdout and exits 0; on a client error
 * prints {"client_error": "<status name>", "diag": "..."} and exits 1.
 */
#include "lib/sandbox_client.h"
#include "lib/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	int i, rc, probe = 0, ex = 1;

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
		else if (strcmp(argv[i], "--") == 0) {
			o.extra_args = (const char *const *)&argv[i + 1];
			break;
		} else {
			fprintf(stderr, "usage: sandbox-drive [--helper PATH] "
			    "[--allow-degraded] [--grace MS] [--probe] "
			    "[-- HELPER-ARGS] < request.json\n");
			return 2;
		}
	}
	if (probe) {
		enum tg_sandbox_isolation lvl;

		rc = tg_sandbox_probe(&o, &lvl, &res);
	} else {
		req = read_stdin();
		if (req == NULL)
			return 2;
		rc = tg_sandbox_run(&o, req, &res);
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
