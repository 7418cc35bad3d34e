/*
 * cli_user.c - account administration from the shell (registered in
 * fcgi/cli.c):
 *
 *   toolgate user add --username NAME --role admin|developer|viewer
 *                     (--password-file FILE | --password-stdin)
 *   toolgate user list
 *   toolgate user passwd --username NAME (--password-file FILE | --password-stdin)
 *   toolgate user disable --username NAME      (also revokes every token)
 *   toolgate user enable --username NAME
 *
 * Passwords are read from a file (one trailing newline is dropped) or stdin,
 * never from the command line. Connects with the PG* variables as the
 * application role (lib/db.c); every change is audited with actor "cli".
 * Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/cli_base.h"
#include "lib/auth.h"
#include "lib/call.h"
#include "lib/config.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/status.h"
#include "lib/users.h"

#include "fcgi/cli_user.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: toolgate user add --username NAME --role admin|developer|viewer (--password-file FILE | --password-stdin)\n"
	    "       toolgate user list\n"
	    "       toolgate user passwd --username NAME (--password-file FILE | --password-stdin)\n"
	    "       toolgate user disable|enable --username NAME\n");
	return 2;
}

/* Reads the password into pw (cap bytes); returns its length or -1. */
static long
read_password(const char *file, int from_stdin, char *pw, size_t cap)
{
	FILE *f = NULL;
	size_t n;
	long rc = -1;

	if (from_stdin)
		f = stdin;
	else if (file != NULL)
		f = fopen(file, "re");
	if (f == NULL) {
		fprintf(stderr, "toolgate: cannot read the password file %s\n",
		    file ? file : "(none given)");
		return -1;
	}
	n = fread(pw, 1, cap - 1, f);
	if (ferror(f) || (n == cap - 1 && !feof(f) && fgetc(f) != EOF)) {
		fprintf(stderr, "toolgate: password unreadable or longer than %d bytes\n",
		    TG_PASSWORD_MAX);
		goto out;
	}
	if (n > 0 && pw[n - 1] == '\n')
		n--;
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (memchr(pw, '\0', n) != NULL) {
		fprintf(stderr, "toolgate: the password contains a NUL byte\n");
		goto out;
	}
	if (n < TG_PASSWORD_MIN || n > TG_PASSWORD_MAX) {
		fprintf(stderr, "toolgate: the password must be %d to %d bytes\n",
		    TG_PASSWORD_MIN, TG_PASSWORD_MAX);
		goto out;
	}
	rc = (long)n;
out:
	if (f != NULL && f != stdin)
		fclose(f);
	return rc;
}

static struct tg_db *
open_db(void)
{
	struct tg_config cfg;
	struct tg_db *db;

	db = tg_cli_connect(&cfg, TG_CFG_NONE, "toolgate-cli", "as the application"
	    " role (check PG*, TOOLGATE_DB_ROLE, and that `toolgate migrate` ran)");
	tg_config_wipe(&cfg);
	return db;
}

static int
fail(struct tg_err *err)
{
	fprintf(stderr, "toolgate: %s\n", err->detail[0] ? err->detail : "failed");
	tg_err_clear(err);
	return 1;
}

static int
cmd_list(const struct tg_call *c)
{
	struct tg_err err;
	json_t *page = NULL, *u;
	struct tg_page pg = {200, NULL};
	const char *cursor;
	char after[32];
	size_t i;

	tg_err_init(&err);
	printf("%-6s %-32s %-10s %-9s %s\n", "id", "username", "role", "disabled", "last_login");
	do {
		json_decref(page);
		page = NULL;
		if (tg_users_list(c, &pg, &page, &err) != TG_OK)
			return fail(&err);
		json_array_foreach(json_object_get(page, "items"), i, u)
			printf("%-6lld %-32s %-10s %-9s %s\n",
			    (long long)json_integer_value(json_object_get(u, "id")),
			    json_string_value(json_object_get(u, "username")),
			    json_string_value(json_object_get(u, "role")),
			    json_is_true(json_object_get(u, "disabled")) ? "yes" : "no",
			    json_is_string(json_object_get(u, "last_login_at")) ?
			    json_string_value(json_object_get(u, "last_login_at")) : "-");
		cursor = json_string_value(json_object_get(page, "next_cursor"));
		if (cursor != NULL)
			snprintf(after, sizeof(after), "%s", cursor);
		pg.cursor = after;
	} while (cursor != NULL);
	json_decref(page);
	return 0;
}

int
tg_cli_user(int argc, char **argv)
{
	const char *sub, *username = NULL, *role = NULL, *pwfile = NULL;
	char pw[TG_PASSWORD_MAX + 2];
	struct tg_db *db = NULL;
	struct tg_principal who;
	struct tg_call c;
	struct tg_err err;
	struct tg_user_new nu;
	struct tg_user_patch pa;
	json_t *out = NULL;
	int64_t id;
	int i, pwstdin = 0, code = 1;
	long pwlen = -1;

	pw[0] = '\0';
	tg_err_init(&err);
	memset(&c, 0, sizeof(c));
	memset(&pa, 0, sizeof(pa));
	pa.disabled = -1;
	if (argc < 2)
		return usage();
	sub = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--username") == 0 && i + 1 < argc)
			username = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
			pwfile = argv[++i];
		else if (strcmp(argv[i], "--password-stdin") == 0)
			pwstdin = 1;
		else
			return usage();
	}
	if (strcmp(sub, "list") != 0 && strcmp(sub, "add") != 0 &&
	    strcmp(sub, "passwd") != 0 && strcmp(sub, "disable") != 0 &&
	    strcmp(sub, "enable") != 0)
		return usage();
	if (strcmp(sub, "list") != 0 && username == NULL)
		return usage();
	if (strcmp(sub, "add") == 0 && tg_role_parse(role) == TG_ROLE_NONE) {
		fprintf(stderr, "toolgate: --role must be admin, developer or viewer\n");
		return 2;
	}
	if ((strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) &&
	    (pwlen = read_password(pwfile, pwstdin, pw, sizeof(pw))) < 0)
		goto out;
	if ((db = open_db()) == NULL)
		goto out;
	tg_cli_call(&c, &who, NULL, db);
	if (strcmp(sub, "list") == 0) {
		code = cmd_list(&c);
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		memset(&nu, 0, sizeof(nu));
		nu.username = username;
		nu.password = pw;
		nu.password_len = (size_t)pwlen;
		nu.role = role;
		if (tg_users_create(&c, &nu, &out, &err) != TG_OK) {
			code = fail(&err);
			goto out;
		}
		printf("user %s created (id %lld, role %s)\n", username,
		    (long long)json_integer_value(json_object_get(out, "id")), role);
		code = 0;
		goto out;
	}
	if (tg_users_find(&c, username, &id, &err) != TG_OK) {
		code = fail(&err);
		goto out;
	}
	if (strcmp(sub, "passwd") == 0) {
		pa.password = pw;
		pa.password_len = (size_t)pwlen;
	} else {
		pa.disabled = strcmp(sub, "disable") == 0;
	}
	if (tg_users_update(&c, id, &pa, &out, &err) != TG_OK) {
		code = fail(&err);
		goto out;
	}
	if (pa.password != NULL)
		printf("password of %s changed; existing tokens revoked\n", username);
	else
		printf("user %s %sd\n", username, sub);
	code = 0;
out:
	json_decref(out);
	tg_err_clear(&err);
	tg_db_close(db);
	tg_crypto_wipe(pw, sizeof(pw));
	return code;
}
