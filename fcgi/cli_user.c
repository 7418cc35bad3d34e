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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/cli.h"
#include "fcgi/config.h"
#include "lib/audit.h"
#include "lib/auth.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/status.h"

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

	if (tg_cli_load_config(&cfg, TG_CFG_NONE) != 0)
		return NULL;
	tg_config_wipe(&cfg);
	db = tg_db_open("toolgate-cli");
	if (db == NULL || !tg_db_ok(db)) {
		fprintf(stderr, "toolgate: cannot connect to PostgreSQL as the application role (check PG*, TOOLGATE_DB_ROLE, and that `toolgate migrate` ran)\n");
		tg_db_close(db);
		return NULL;
	}
	return db;
}

static int
audit_cli(struct tg_db *db, const char *action, const char *target)
{
	struct tg_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.actor = "cli";
	rec.role = "-";
	rec.action = action;
	rec.target = target;
	rec.request_id = "";
	rec.client_addr = "local";
	rec.outcome = "ok";
	return tg_audit_write(db, &rec);
}

static int
cmd_list(struct tg_db *db)
{
	PGresult *res = NULL;
	int i;

	if (tg_db_exec(db, "SELECT id, username, role, disabled,"
	    " COALESCE(to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-')"
	    " FROM users ORDER BY id", 0, NULL, &res) != TG_OK)
		return 1;
	printf("%-6s %-32s %-10s %-9s %s\n", "id", "username", "role", "disabled", "last_login");
	for (i = 0; i < PQntuples(res); i++)
		printf("%-6s %-32s %-10s %-9s %s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3)[0] == 't' ? "yes" : "no", PQgetvalue(res, i, 4));
	PQclear(res);
	return 0;
}

int
tg_cli_user(int argc, char **argv)
{
	const char *sub, *username = NULL, *role = NULL, *pwfile = NULL;
	char pw[TG_PASSWORD_MAX + 2], hash[TG_PWHASH_MAX];
	struct tg_db *db = NULL;
	PGresult *res = NULL;
	const char *p[3];
	int i, pwstdin = 0, code = 1, rc;
	long pwlen = -1;

	pw[0] = '\0';
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
	if (strcmp(sub, "list") == 0) {
		if ((db = open_db()) == NULL)
			return 1;
		code = cmd_list(db);
		goto out;
	}
	if (username == NULL)
		return usage();
	if (strcmp(sub, "add") == 0) {
		if (tg_role_parse(role) == TG_ROLE_NONE) {
			fprintf(stderr, "toolgate: --role must be admin, developer or viewer\n");
			return 2;
		}
		if ((pwlen = read_password(pwfile, pwstdin, pw, sizeof(pw))) < 0)
			goto out;
		if (tg_auth_pw_hash(pw, (size_t)pwlen, hash, sizeof(hash)) != TG_OK) {
			fprintf(stderr, "toolgate: cannot hash the password\n");
			goto out;
		}
		if ((db = open_db()) == NULL)
			goto out;
		p[0] = username;
		p[1] = hash;
		p[2] = role;
		rc = tg_db_exec(db, "INSERT INTO users (username, password_hash, role)"
		    " VALUES ($1, $2, $3) RETURNING id", 3, p, &res);
		if (rc == -TG_E_CONFLICT) {
			fprintf(stderr, "toolgate: user %s already exists\n", username);
			goto out;
		}
		if (rc == -TG_E_UNPROCESSABLE) {
			fprintf(stderr, "toolgate: invalid username (letters, digits, _ . @ -; at most 64)\n");
			goto out;
		}
		if (rc != TG_OK)
			goto out;
		(void)audit_cli(db, "user.create", username);
		printf("user %s created (id %s, role %s)\n", username, PQgetvalue(res, 0, 0), role);
		code = 0;
	} else if (strcmp(sub, "passwd") == 0) {
		if ((pwlen = read_password(pwfile, pwstdin, pw, sizeof(pw))) < 0)
			goto out;
		if (tg_auth_pw_hash(pw, (size_t)pwlen, hash, sizeof(hash)) != TG_OK)
			goto out;
		if ((db = open_db()) == NULL)
			goto out;
		p[0] = username;
		p[1] = hash;
		if (tg_db_exec(db, "UPDATE users SET password_hash = $2, updated_at = now(),"
		    " tokens_valid_after = greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second'"
		    " WHERE lower(username) = lower($1) RETURNING id", 2, p, &res) != TG_OK)
			goto out;
		if (PQntuples(res) != 1) {
			fprintf(stderr, "toolgate: no user %s\n", username);
			goto out;
		}
		(void)audit_cli(db, "user.password", username);
		printf("password of %s changed; existing tokens revoked\n", username);
		code = 0;
	} else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		if ((db = open_db()) == NULL)
			goto out;
		p[0] = username;
		p[1] = strcmp(sub, "disable") == 0 ? "true" : "false";
		if (tg_db_exec(db, "UPDATE users SET disabled = $2::boolean, updated_at = now(),"
		    " tokens_valid_after = CASE WHEN $2::boolean THEN"
		    "  greatest(date_trunc('second', now()), tokens_valid_after) + interval '1 second' ELSE tokens_valid_after END"
		    " WHERE lower(username) = lower($1) RETURNING id", 2, p, &res) != TG_OK)
			goto out;
		if (PQntuples(res) != 1) {
			fprintf(stderr, "toolgate: no user %s\n", username);
			goto out;
		}
		(void)audit_cli(db, p[1][0] == 't' ? "user.disable" : "user.enable", username);
		printf("user %s %sd\n", username, sub);
		code = 0;
	} else {
		return usage();
	}
out:
	PQclear(res);
	tg_db_close(db);
	tg_crypto_wipe(pw, sizeof(pw));
	tg_crypto_wipe(hash, sizeof(hash));
	return code;
}
