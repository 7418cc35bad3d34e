/*
 * shm.c - zeroed anonymous shared memory (lib/shm.h).
 */
#include <string.h>
#include <sys/mman.h>

#include "lib/shm.h"

void *
tg_shm_zalloc(size_t size)
{
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, size);
	return p;
}
