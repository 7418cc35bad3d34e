/*
 * maintenance.h - periodic cleanup of expired state.
 *
 * tg_maintenance_run() takes a session-level PostgreSQL advisory lock with
 * pg_try_advisory_lock, so across all hosts at most one run happens at a
 * time; a run that finds the lock taken returns TG_OK with
 * report->skipped = 1. Deletions run in autocommit batches so no run holds
 * long locks. Each step is skipped while its table does not exist yet.
 */
#ifndef TG_MAINTENANCE_H
#define TG_MAINTENANCE_H

#include <stdint.h>

struct tg_db;

#define TG_MAINT_MAX_STEPS 16

struct tg_maint_report {
	int skipped;			/* another host held the lock */
	int nsteps;
	struct {
		const char *name;	/* static string */
		int64_t deleted;
	} steps[TG_MAINT_MAX_STEPS];
};

int tg_maintenance_run(struct tg_db *db, struct tg_maint_report *report);

#endif
