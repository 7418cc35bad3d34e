/*
 * clock.c - the monotonic clock (clock.h).
 */
#include <time.h>

#include "lib/clock.h"

int64_t
tg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
