/*
 * shm.h - memory shared by the master and the processes it forks
 * (metrics, observability, tool slots, cache epochs): an anonymous shared
 * mapping made before the fork, all zero. Released with munmap.
 */
#ifndef TG_SHM_H
#define TG_SHM_H

#include <stddef.h>

/* size bytes of zeroed shared memory, or NULL when the mapping fails. */
void *tg_shm_zalloc(size_t size);

#endif
