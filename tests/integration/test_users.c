/*
 * test_users.c - the user-account service (lib/users.c) is one set of
 * rules for REST and the CLI: `toolgate user ...` creates, changes the
 * password of, disables and enables accounts with the same validation,
 * token revocation and audit rows as PATCH /users/:id, and it cannot
 * disable the last enabled admin either (it could before: the CLI had its
 * own SQL).
 *
 * Needs TG_BASE_URL, TG_ADMIN_USER/PASSWORD, PG* (psql as the superuser)
 * and the test stack's TOOLGATE_* settings for build/toolgate.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define PW "users-test-password-1"
#define PW2 "users-test-password-2"

static char admin_tok[4096];
static char suffix[32];

static int
group_setup(void **state)
{
	(void)state;
	snprintf(suffix, sizeof(suffix), "%ld%d", (long)time(NULL) % 100000, getpid() % 1000);
	return it_login_admin(admin_tok, sizeof(admin_tok)) == 0 ? 0 : -1;
}

/* Runs `build/toolgate user ARGS` with the password on stdin (NULL: none);
 * out receives stdout+stderr. Returns the exit status. */
static int
cli(char *out, size_t cap, const char *pw, const char *args)
{
	if (pw != NULL)
		return it_capture(out, cap, "printf '%%s' '%s' | build/toolgate user %s 2>&1", pw, args);
	return it_capture(out, cap, "build/toolgate user %s </dev/null 2>&1", args);
}

static void
last_audit(const char *target, char *out, size_t cap)
{
	assert_int_equal(it_capture(out, cap, "psql -X -A -t -c \"SELECT action || ' ' ||"
	    " actor FROM audit_log WHERE target = '%s' ORDER BY id DESC LIMIT 1\"", target), 0);
}

static void
t_cli_lifecycle(void **state)
{
	char name[64], out[1024], tok[4096], tok2[4096], args[256], target[64];
	long long id;

	(void)state;
	snprintf(name, sizeof(name), "cliuser%s", suffix);
	snprintf(args, sizeof(args), "add --username %s --role developer --password-stdin", name);
	if (cli(out, sizeof(out), PW, args) != 0)
		fail_msg("user add: %s", out);
	assert_non_null(strstr(out, "created"));
	assert_int_equal(it_login(name, PW, tok, sizeof(tok)), 0);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", tok, NULL), 200);
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT id FROM users"
	    " WHERE username = '%s'\"", name), 0);
	id = atoll(out);
	assert_true(id > 0);
	snprintf(target, sizeof(target), "user:%lld", id);
	last_audit(target, out, sizeof(out));
	assert_string_equal(out, "user.create cli");

	/* a duplicate is refused with the service's message */
	assert_int_equal(cli(out, sizeof(out), PW, args), 1);
	assert_non_null(strstr(out, "already exists"));

	/* passwd revokes existing tokens, the new password works */
	snprintf(args, sizeof(args), "passwd --username %s --password-stdin", name);
	sleep(1); /* tokens_valid_after has a one-second granularity */
	if (cli(out, sizeof(out), PW2, args) != 0)
		fail_msg("user passwd: %s", out);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", tok, NULL), 401);
	assert_int_not_equal(it_login(name, PW, tok2, sizeof(tok2)), 0);
	assert_int_equal(it_login(name, PW2, tok2, sizeof(tok2)), 0);
	last_audit(target, out, sizeof(out));
	assert_string_equal(out, "user.update cli");

	/* disable revokes and blocks sign-in; enable restores sign-in */
	snprintf(args, sizeof(args), "disable --username %s", name);
	if (cli(out, sizeof(out), NULL, args) != 0)
		fail_msg("user disable: %s", out);
	assert_int_equal(it_status("GET", "/api/v1/auth/me", tok2, NULL), 401);
	assert_int_not_equal(it_login(name, PW2, tok, sizeof(tok)), 0);
	snprintf(args, sizeof(args), "enable --username %s", name);
	if (cli(out, sizeof(out), NULL, args) != 0)
		fail_msg("user enable: %s", out);
	assert_int_equal(it_login(name, PW2, tok, sizeof(tok)), 0);

	/* list shows the account */
	assert_int_equal(cli(out, sizeof(out), NULL, "list"), 0);
	assert_non_null(strstr(out, "username"));
}

static void
t_cli_bad_input(void **state)
{
	char out[1024], args[256];

	(void)state;
	/* the same username rule as REST (it was left to a CHECK constraint) */
	assert_int_equal(cli(out, sizeof(out), PW, "add --username -bad --role viewer"
	    " --password-stdin"), 1);
	assert_non_null(strstr(out, "username: 1-64 characters"));
	/* the same password rule */
	snprintf(args, sizeof(args), "add --username short%s --role viewer --password-stdin", suffix);
	assert_int_equal(cli(out, sizeof(out), "short", args), 1);
	assert_non_null(strstr(out, "password"));
	assert_int_equal(cli(out, sizeof(out), NULL, "disable --username nobody-at-all-here"), 1);
	assert_non_null(strstr(out, "no user nobody-at-all-here"));
	assert_int_equal(cli(out, sizeof(out), NULL, "frobnicate --username x"), 2);
}

static void
t_last_admin_everywhere(void **state)
{
	char out[1024], args[256], path[64], tok[4096];
	const char *admin = it_env("TG_ADMIN_USER");
	long long id;
	struct it_resp r;

	(void)state;
	/* make the stack's admin the only enabled admin (other suites' admins
	 * are test accounts) */
	assert_int_equal(it_sh("psql -X -q -c \"UPDATE users SET disabled = true WHERE"
	    " role = 'admin' AND NOT disabled AND lower(username) <> lower('%s')\" >/dev/null",
	    admin), 0);
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT count(*) FROM"
	    " users WHERE role = 'admin' AND NOT disabled\""), 0);
	assert_string_equal(out, "1");

	snprintf(args, sizeof(args), "disable --username %s", admin);
	assert_int_equal(cli(out, sizeof(out), NULL, args), 1);
	assert_non_null(strstr(out, "last enabled admin"));
	/* nothing changed: the admin still signs in with its token intact */
	assert_int_equal(it_status("GET", "/api/v1/auth/me", admin_tok, NULL), 200);
	assert_int_equal(it_login_admin(tok, sizeof(tok)), 0);

	/* and REST says the same */
	assert_int_equal(it_capture(out, sizeof(out), "psql -X -A -t -c \"SELECT id FROM users"
	    " WHERE lower(username) = lower('%s')\"", admin), 0);
	id = atoll(out);
	snprintf(path, sizeof(path), "/api/v1/users/%lld", id);
	assert_int_equal(it_json("PATCH", path, admin_tok, "{\"disabled\":true}", &r), 0);
	assert_int_equal(r.status, 409);
	it_resp_free(&r);
	assert_int_equal(it_json("PATCH", path, admin_tok, "{\"role\":\"viewer\"}", &r), 0);
	assert_int_equal(r.status, 409);
	it_resp_free(&r);
	assert_int_equal(it_get("DELETE", path, admin_tok, &r), 0);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.body, "last enabled admin"));
	it_resp_free(&r);
}

TG_TEST_MAIN_WITH(curl_global_init(CURL_GLOBAL_DEFAULT), "users", group_setup, NULL,
    t_cli_lifecycle, t_cli_bad_input, t_last_admin_everywhere)
