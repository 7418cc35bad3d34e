/*
 * clock.h - the monotonic clock every deadline and duration is measured on.
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stdint.h>

/* Microseconds of CLOCK_MONOTONIC (not wall time). */
int64_t tg_now_us(void);

#endif
