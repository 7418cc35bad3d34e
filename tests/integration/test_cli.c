/*
 * test_cli.c - the toolgate command line as a person meets it (issue #16):
 * conventional --help/-h/--version/-V flags, "CMD --help" never running
 * the command, unknown options, bare toolgate started by hand without its
 * settings pointing at where to look, and plain CGI mode (as Apache runs
 * it) logging warnings only unless TOOLGATE_LOG_LEVEL says otherwise, and
 * make help. Runs
 * build/toolgate from the checkout (tests/run.sh starts in its root); the
 * CGI cases use the test stack's database and secrets.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TG "build/toolgate"

static char out[16384];

static void
t_help_flags(void **state)
{
	static const char *const flags[] = {"--help", "-h", "help", NULL};
	char help[16384];
	int i;

	(void)state;
	assert_int_equal(it_capture(help, sizeof(help), TG " help 2>&1"), 0);
	assert_non_null(strstr(help, "usage: toolgate"));
	assert_non_null(strstr(help, "serve"));
	assert_non_null(strstr(help, "docs/configuration.md"));
	assert_non_null(strstr(help, "TOOLGATE_ENCRYPTION_KEY"));
	for (i = 0; flags[i]; i++) {
		assert_int_equal(it_capture(out, sizeof(out), TG " %s 2>&1", flags[i]), 0);
		assert_string_equal(out, help);
	}
}

static void
t_version_flags(void **state)
{
	char v[256];

	(void)state;
	assert_int_equal(it_capture(v, sizeof(v), TG " version 2>&1"), 0);
	assert_int_equal(strncmp(v, "toolgate ", 9), 0);
	assert_int_equal(it_capture(out, sizeof(out), TG " --version 2>&1"), 0);
	assert_string_equal(out, v);
	assert_int_equal(it_capture(out, sizeof(out), TG " -V 2>&1"), 0);
	assert_string_equal(out, v);
}

static void
t_unknown(void **state)
{
	(void)state;
	assert_int_equal(it_capture(out, sizeof(out), TG " --bogus 2>&1"), 2);
	assert_non_null(strstr(out, "unknown option --bogus"));
	assert_non_null(strstr(out, "--help"));
	assert_int_equal(it_capture(out, sizeof(out), TG " frobnicate 2>&1"), 2);
	assert_non_null(strstr(out, "unknown command frobnicate"));
}

/* "export --help" used to write the export into a file named --help. */
static void
t_command_help(void **state)
{
	char dir[] = "/tmp/tg-it-cli-XXXXXX", cwd[4096];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(it_capture(out, sizeof(out),
	    "cd %s && %s/" TG " export --help 2>&1", dir, cwd), 0);
	assert_non_null(strstr(out, "usage: toolgate export"));
	snprintf(cwd, sizeof(cwd), "%s/--help", dir);
	assert_int_not_equal(stat(cwd, &st), 0);
	assert_int_equal(it_capture(out, sizeof(out), TG " serve -h 2>&1"), 0);
	assert_non_null(strstr(out, "usage: toolgate serve"));
	assert_int_equal(it_sh("rm -rf %s", dir), 0);
}

/* Started by hand with nothing set: the error says where to look. */
static void
t_bare_without_settings(void **state)
{
	(void)state;
	assert_int_equal(it_capture(out, sizeof(out),
	    "env -i PATH=/usr/bin:/bin timeout 10 " TG " </dev/null 2>&1"), 1);
	assert_non_null(strstr(out, "TOOLGATE_ENCRYPTION_KEY is required"));
	assert_non_null(strstr(out, "toolgate help"));
	assert_non_null(strstr(out, "docs/configuration.md"));
}

/* One CGI request with the test stack's settings; stderr into out. */
static int
cgi(const char *extra_env)
{
	return it_capture(out, sizeof(out),
	    "env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET"
	    " REQUEST_URI=/api/v1/version SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1"
	    " PGHOST='%s' PGPORT='%s' PGUSER='%s' PGDATABASE='%s'"
	    " TOOLGATE_ENCRYPTION_KEY='%s' %s timeout 20 " TG " </dev/null 2>&1 >/dev/null",
	    it_env("PGHOST"), it_env("PGPORT"), it_env("PGUSER"), it_env("PGDATABASE"),
	    it_env("TOOLGATE_ENCRYPTION_KEY"), extra_env);
}

/* Apache logs every stderr line of a CGI program as an error and keeps
 * its own access log: CGI mode logs warnings only by default. */
static void
t_cgi_log_level(void **state)
{
	(void)state;
	assert_int_equal(cgi(""), 0);
	assert_null(strstr(out, "ev=http.access"));
	assert_int_equal(cgi("TOOLGATE_LOG_LEVEL=info"), 0);
	assert_non_null(strstr(out, "ev=http.access"));
	assert_non_null(strstr(out, "status=200"));
}

/* make help lists the targets a person uses. */
static void
t_make_help(void **state)
{
	static const char *const targets[] = {"make run", "make start", "make stop",
		"make check", "make all", "make bench", "make help", NULL};
	int i;

	(void)state;
	assert_int_equal(it_capture(out, sizeof(out), "make -s help 2>&1"), 0);
	for (i = 0; targets[i]; i++) {
		if (strstr(out, targets[i]) == NULL)
			fprintf(stderr, "make help does not list %s\n", targets[i]);
		assert_non_null(strstr(out, targets[i]));
	}
}

TG_TEST_MAIN("cli", NULL, NULL, t_help_flags, t_version_flags, t_unknown,
    t_command_help, t_bare_without_settings, t_cgi_log_level, t_make_help)
