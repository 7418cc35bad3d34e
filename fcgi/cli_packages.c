/*
 * cli_packages.c - the package-job loop where no master runs (the Apache
 * CGI and mod_fcgid recipes, deploy/apache; docs/packages.md):
 *
 *   toolgate packages run-jobs --once   every due job, then exit (cron)
 *   toolgate packages run-jobs          forever, woken by NOTIFY (a shell
 *                                       or a service of its own)
 *
 * The same loop as the master's package-job process (lib/pkg_jobs.c):
 * resolves 'resolving' requests and installs 'installing' ones, one at a
 * time; a job is claimed with a session advisory lock, so several runners
 * (and masters) on one database never do one job twice, and a runner
 * killed mid-job leaves it to the next. Needs the settings of the workers
 * (TOOLGATE_PIP_INDEX_URL, TOOLGATE_PACKAGES_DIR, the sandbox helper) and
 * runs as their user (the package trees must be theirs to read). Exit
 * status: 0 ok, 1 failure, 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fcgi/cli_base.h"
#include "fcgi/cli_packages.h"
#include "lib/config.h"
#include "lib/packages.h"
#include "lib/status.h"

static int
usage(void)
{
	fprintf(stderr, "usage: toolgate packages run-jobs [--once]\n");
	return 2;
}

/* One line per finished job: "package request 7 (tgdemo): approved". */
static void
report(const json_t *done)
{
	const json_t *e = json_object_get(done, "error");

	printf("run-jobs: package request %lld (%s): %s%s%s\n",
	    (long long)json_integer_value(json_object_get(done, "id")),
	    json_string_value(json_object_get(done, "name")) ?
		json_string_value(json_object_get(done, "name")) :
		"?",
	    json_string_value(json_object_get(done, "status")) ?
		json_string_value(json_object_get(done, "status")) :
		"?",
	    e && json_is_object(e) ? ": " : "",
	    e && json_is_object(e) && json_string_value(json_object_get(e, "message")) ?
		json_string_value(json_object_get(e, "message")) :
		"");
	fflush(stdout);
}

int
tg_cmd_packages(int argc, char **argv)
{
	struct tg_config cfg;
	int once = 0, rc, i;

	if (argc < 2 || strcmp(argv[1], "run-jobs") != 0)
		return usage();
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else
			return usage();
	}
	/* security: the sandbox helper refuses root, and the trees must be
	 * the workers' */
	if (geteuid() == 0) {
		fprintf(stderr, "toolgate: packages run-jobs runs tool sandboxes and"
				" writes package trees: run it as the workers' user"
				" (TOOLGATE_USER, or Apache's User), not as root\n");
		return 1;
	}
	if (tg_cli_load_config(&cfg, TG_CFG_NONE) != 0)
		return 1;
	if (cfg.pip_index_url[0] == '\0') {
		fprintf(stderr, "toolgate: TOOLGATE_PIP_INDEX_URL is not set:"
				" third-party packages are off, there are no package jobs\n");
		tg_config_wipe(&cfg);
		return 1;
	}
	if (cfg.packages_dir[0] == '\0')
		fprintf(stderr, "toolgate: TOOLGATE_PACKAGES_DIR is not set: requests"
				" are resolved, but nothing can be installed\n");
	rc = tg_pkg_jobs_run(&cfg, once, report);
	tg_config_wipe(&cfg);
	if (rc < 0) {
		fprintf(stderr, "toolgate: the package jobs could not run (%s; check"
				" PGHOST, PGPORT, PGUSER, PGDATABASE and the log line above)\n",
		    tg_status_name(rc));
		return 1;
	}
	printf("run-jobs: %d package job%s done\n", rc, rc == 1 ? "" : "s");
	return 0;
}
