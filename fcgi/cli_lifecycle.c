/*
 * cli_lifecycle.c - `toolgate rotate-key` and `toolgate secrets-verify`.
 *
 * Rotation procedure (docs/operations.md): set TOOLGATE_ENCRYPTION_KEY to
 * the new key and TOOLGATE_ENCRYPTION_KEY_OLD to the current one, run
 * `toolgate rotate-key` (one transaction: every secret or none), restart
 * the workers, then drop the _OLD variable. External source credentials
 * (lib/sources.c) rotate in the same transaction. While _OLD is set, workers
 * fall back to it for secrets not yet rotated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/cli_base.h"
#include "fcgi/cli_lifecycle.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/secrets.h"
#include "lib/sources.h"
#include "lib/status.h"

int
tg_cmd_rotate_key(int argc, char **argv)
{
	struct tg_config cfg;
	struct tg_db *db = NULL;
	long n = 0, ns = 0;
	int rc = 1;

	(void)argc;
	(void)argv;
	if (tg_cli_load_config(&cfg, TG_CFG_SECRETS) != 0)
		return 1;
	if (!cfg.have_enc_key_old) {
		fprintf(stderr, "toolgate: rotate-key needs TOOLGATE_ENCRYPTION_KEY_OLD (the current key) and TOOLGATE_ENCRYPTION_KEY (the new one)\n");
		goto out;
	}
	if (memcmp(cfg.enc_key, cfg.enc_key_old, sizeof(cfg.enc_key)) == 0) {
		fprintf(stderr, "toolgate: the old and the new key are the same\n");
		goto out;
	}
	if ((db = tg_cli_open_db("toolgate-cli", NULL)) == NULL)
		goto out;
	if (tg_secrets_rotate(db, cfg.enc_key_old, cfg.enc_key, &n, &ns) != TG_OK) {
		fprintf(stderr, "toolgate: rotation failed; nothing was changed\n");
		goto out;
	}
	printf("rotate-key: %ld secrets and %ld source credentials re-encrypted with the new key\n",
	    n, ns);
	rc = 0;
out:
	tg_db_close(db);
	tg_config_wipe(&cfg);
	return rc;
}

int
tg_cmd_secrets_verify(int argc, char **argv)
{
	struct tg_config cfg;
	struct tg_db *db = NULL;
	long ok = 0, bad = 0, sok = 0, sbad = 0;
	int rc = 1;

	(void)argc;
	(void)argv;
	if ((db = tg_cli_connect(&cfg, TG_CFG_SECRETS, "toolgate-cli", NULL)) == NULL)
		return 1;
	if (tg_secrets_verify(db, cfg.enc_key, &ok, &bad) != TG_OK ||
	    tg_sources_cred_verify(db, cfg.enc_key, &sok, &sbad) != TG_OK)
		goto out;
	printf("secrets-verify: %ld open with TOOLGATE_ENCRYPTION_KEY, %ld do not;"
	    " source credentials: %ld open, %ld do not\n", ok, bad, sok, sbad);
	rc = bad == 0 && sbad == 0 ? 0 : 1;
out:
	tg_db_close(db);
	tg_config_wipe(&cfg);
	return rc;
}
