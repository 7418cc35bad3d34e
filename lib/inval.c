/*
 * inval.c - invalidation epochs for the workers' caches (see inval.h).
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/inval.h"
#include "lib/obs.h"
#include "lib/shm.h"
#include "lib/status.h"

static uint64_t local_epoch[TG_INV_N];
static _Atomic uint64_t *shared_epoch;	/* TG_INV_N counters, or NULL */
static int ttl_ms = TG_CACHE_TTL_DEFAULT_MS;

int
tg_inval_shared_init(void)
{
	void *p;

	if (shared_epoch != NULL)
		return TG_OK;
	if ((p = tg_shm_zalloc(sizeof(_Atomic uint64_t) * TG_INV_N)) == NULL)
		return -TG_E_NOMEM;
	shared_epoch = p;
	for (int i = 0; i < TG_INV_N; i++)
		atomic_init(&shared_epoch[i], 0);
	return TG_OK;
}

void
tg_inval_bump(unsigned mask)
{
	for (int i = 0; i < TG_INV_N; i++) {
		if (!(mask & (1u << i)))
			continue;
		local_epoch[i]++;
		if (shared_epoch != NULL)
			atomic_fetch_add_explicit(&shared_epoch[i], 1, memory_order_acq_rel);
	}
}

unsigned
tg_inval_payload_mask(const char *payload)
{
	if (payload == NULL)
		return TG_INV_ALL;
	if (strcmp(payload, "auth") == 0)
		return 1u << TG_INV_AUTH;
	if (strcmp(payload, "session") == 0)
		return 1u << TG_INV_SESSION;
	if (strcmp(payload, "catalog") == 0)
		return 1u << TG_INV_CATALOG;
	return TG_INV_ALL;
}

uint64_t
tg_inval_epoch(enum tg_inval_domain d)
{
	uint64_t e = local_epoch[d];

	/* Both counters only grow, so their sum changes whenever either
	 * does. */
	if (shared_epoch != NULL)
		e += atomic_load_explicit(&shared_epoch[d], memory_order_acquire);
	return e;
}

void
tg_inval_set_ttl_ms(int ms)
{
	ttl_ms = ms < 0 ? 0 : ms > TG_CACHE_TTL_MAX_MS ? TG_CACHE_TTL_MAX_MS : ms;
}

int
tg_inval_ttl_ms(void)
{
	return ttl_ms;
}

int64_t
tg_inval_now_ms(void)
{
	return tg_now_us() / 1000;
}

void
tg_inval_stamp(struct tg_inval_stamp *s, enum tg_inval_domain d)
{
	s->epoch = tg_inval_epoch(d);
	s->at_ms = tg_inval_now_ms();
	tg_obs_cache((int)d, 0);	/* observability: a fill */
}

int
tg_inval_fresh(const struct tg_inval_stamp *s, enum tg_inval_domain d)
{
	int64_t age;

	if (ttl_ms <= 0 || s->at_ms == 0)
		return 0;
	age = tg_inval_now_ms() - s->at_ms;
	if (age >= 0 && age < ttl_ms && s->epoch == tg_inval_epoch(d)) {
		tg_obs_cache((int)d, 1);	/* observability: a hit */
		return 1;
	}
	return 0;
}
