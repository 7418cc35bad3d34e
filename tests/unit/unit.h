/*
 * unit.h - helpers shared by the unit tests (included after cmocka.h):
 * loading the configuration from a table instead of the environment, and
 * the release hook that checks the wiping JSON allocator
 * (lib/jsonalloc.h) zeroed a block before it was freed.
 */
#ifndef TG_UNIT_H
#define TG_UNIT_H

#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/status.h"
#include "tests/test_main.h"

/* A valid TOOLGATE_ENCRYPTION_KEY. */
#define UNIT_KEY64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* The environment of a process that serves (socket and key), plus the
 * given name, value pairs (replacing those two when named again): a
 * NULL-terminated table for unit_config. */
#define UNIT_ENV(...) ((const char *const[]){"TOOLGATE_SOCKET", "/tmp/x.sock", \
    "TOOLGATE_ENCRYPTION_KEY", UNIT_KEY64, __VA_ARGS__, NULL})

/* The table unit_getenv reads. */
static inline const char *const **
unit_env(void)
{
	static const char *const *table;

	return &table;
}

/* getenv() over the table of name, value pairs set by unit_config; a
 * later pair wins (UNIT_ENV's own values can be replaced). */
static inline const char *
unit_getenv(const char *name)
{
	const char *const *t = *unit_env();
	const char *v = NULL;
	int i;

	for (i = 0; t && t[i]; i += 2)
		if (strcmp(t[i], name) == 0)
			v = t[i + 1];
	return v;
}

/* tg_config_load(c, need) from env (name, value, ..., NULL), the message
 * into err (256 bytes, "" when none). The caller wipes c. */
static inline int
unit_config(struct tg_config *c, const char *const *env, int need, char *err)
{
	*unit_env() = env;
	err[0] = '\0';
	return tg_config_load(c, need, unit_getenv, err, 256);
}

/* A TG_CFG_SERVE config from up to two "NAME", "value" pairs on top of
 * the two required ones (a NULL name ends the list). */
static inline int
unit_config2(const char *name, const char *value, const char *name2,
    const char *value2, struct tg_config *c, char *err)
{
	memset(c, 0, sizeof(*c));
	return unit_config(c, UNIT_ENV(name, value, name2, value2), TG_CFG_SERVE, err);
}

/* Fails unless unit_config2 with the one setting name=value refuses it
 * (-TG_E_BADREQ) with a message that holds what (e.g. the setting's name). */
static inline void
unit_config_refused(const char *name, const char *value, const char *what)
{
	struct tg_config c;
	char err[256];

	assert_int_equal(unit_config2(name, value, NULL, NULL, &c, err), -TG_E_BADREQ);
	tg_config_wipe(&c);
	if (strstr(err, what) == NULL)
		fail_msg("%s=%s: refused with \"%s\", which does not name %s", name, value,
		    err, what);
}

/* unit_config for TG_CFG_SERVE whose result is only the status (and err). */
static inline int
unit_config_rc(const char *const *env, char *err)
{
	struct tg_config c;
	int rc = unit_config(&c, env, TG_CFG_SERVE, err);

	tg_config_wipe(&c);
	return rc;
}

/* Blocks the wiping allocator released, and those with a byte not zero. */
struct unit_released {
	size_t released, dirty;
};

static inline struct unit_released *
unit_releases(void)
{
	static struct unit_released r;

	return &r;
}

/* tg_jsonalloc_set_release hook: counts the block, checks it is all
 * zero, frees it. */
static inline void
unit_check_release(void *p)
{
	size_t n = malloc_usable_size(p), i;
	const unsigned char *b = p;

	for (i = 0; i < n; i++)
		if (b[i] != 0) {
			unit_releases()->dirty++;
			break;
		}
	unit_releases()->released++;
	free(p);
}

#endif
