/*
 * clock.c - the monotonic clock and the JSON timestamp format (clock.h).
 */
#include <stdio.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/status.h"

int64_t
tg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
tg_now_ms(void)
{
	return tg_now_us() / 1000;
}

/* tm and milliseconds in the one format. */
static int
render(const struct tm *tm, long ms, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
	    tm->tm_sec, ms);

	if (n != TG_TS_LEN || (size_t)n >= cap)
		return -TG_E_INTERNAL;
	return TG_OK;
}

int
tg_ts_rfc3339(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		return -TG_E_INTERNAL;
	return render(&tm, ts.tv_nsec / 1000000, buf, cap);
}

int
tg_ts_rfc3339_epoch(int64_t epoch_s, char *buf, size_t cap)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -TG_E_INTERNAL;
	return render(&tm, 0, buf, cap);
}
