/*
 * inval.h - invalidation epochs for the workers' caches.
 *
 * A worker caches what nearly every request would read from PostgreSQL
 * (credentials, MCP sessions, the tool catalogue version, rate-limit
 * leases). Each cache entry remembers the epoch of its domain when it was
 * read and a fill time; it is used only while the epoch is unchanged and
 * it is younger than the TTL (TOOLGATE_CACHE_TTL_MS, 0 = no caching).
 *
 * Epochs move when:
 *   - a NOTIFY on channel toolgate_inval arrives (sql/007_inval.sql: every
 *     change that matters, from any process or host); lib/db.c drains
 *     them after every statement and at the start of every request;
 *   - the database connection is (re)established or found broken
 *     (notifications may have been missed): every domain.
 * A worker that receives a notification also moves the epoch in memory
 * shared by the workers of its master (tg_inval_shared_init), so a change
 * made through one worker is seen by its siblings before the writer's
 * response leaves: a revoked key never passes on the same host, and on
 * other hosts it stops passing once PostgreSQL delivers the NOTIFY.
 */
#ifndef TG_INVAL_H
#define TG_INVAL_H

#include <stdint.h>

enum tg_inval_domain {
	TG_INV_AUTH = 0,	/* users, API keys, JWT blacklist, rate limits */
	TG_INV_SESSION,		/* MCP sessions */
	TG_INV_CATALOG,		/* tool catalogue version */
	TG_INV_N
};

#define TG_INV_ALL ((1u << TG_INV_N) - 1)
#define TG_INVAL_CHANNEL "toolgate_inval"
#define TG_CACHE_TTL_DEFAULT_MS 2000
#define TG_CACHE_TTL_MAX_MS 60000

/* Maps the shared epochs (MAP_SHARED|MAP_ANONYMOUS); the master calls it
 * before forking workers. Without it the epochs are per process. */
int tg_inval_shared_init(void);

/* Moves the epochs of the domains in mask (bits 1 << TG_INV_*). */
void tg_inval_bump(unsigned mask);

/* Bits for a notification payload ("auth", "session", "catalog"; anything
 * else means every domain). */
unsigned tg_inval_payload_mask(const char *payload);

/* The current epoch of a domain. */
uint64_t tg_inval_epoch(enum tg_inval_domain d);

/* Cache lifetime in ms; 0 disables every cache (each request reads the
 * database, as without this module). */
void tg_inval_set_ttl_ms(int ms);
int tg_inval_ttl_ms(void);

/* Monotonic milliseconds. */
int64_t tg_inval_now_ms(void);

/* A cache stamp: the domain epoch and the fill time. */
struct tg_inval_stamp {
	uint64_t epoch;
	int64_t at_ms;
};

/* Takes the stamp of domain d now (before reading what it will cover). */
void tg_inval_stamp(struct tg_inval_stamp *s, enum tg_inval_domain d);

/* 1 while something read under stamp s may still be used. */
int tg_inval_fresh(const struct tg_inval_stamp *s, enum tg_inval_domain d);

#endif
