/*
 * log.c - logfmt lines on stderr, written with one write(2) each so lines
 * from several workers sharing the same stderr never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static int cur_level = TG_LOG_INFO;
static char cur_req[80];

static const char *const names[] = {"err", "warn", "info", "debug"};

void
tg_log_set_level(int level)
{
	cur_level = level;
}

int
tg_log_level_parse(const char *s, int *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	if (strcasecmp(s, "error") == 0) {
		*out = TG_LOG_ERR;
		return 0;
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = TG_LOG_WARN;
		return 0;
	}
	return -1;
}

void
tg_log_set_request(const char *request_id)
{
	size_t i, o = 0;

	if (request_id != NULL) {
		/* Only token characters: the id comes from nginx, but check. */
		for (i = 0; request_id[i] && o + 1 < sizeof(cur_req); i++) {
			char c = request_id[i];
			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '-' || c == '_')
				cur_req[o++] = c;
		}
	}
	cur_req[o] = '\0';
}

const char *
tg_log_q(const char *s)
{
	static char ring[4][512];
	static int slot;
	char *out;
	size_t o = 0, i;

	out = ring[slot];
	slot = (slot + 1) % 4;
	if (s == NULL)
		return "\"\"";
	out[o++] = '"';
	for (i = 0; s[i] && o + 6 < sizeof(ring[0]); i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			int n = snprintf(out + o, sizeof(ring[0]) - o, "\\x%02x", c);
			if (n < 0)
				break;
			o += (size_t)n;
		} else {
			out[o++] = (char)c;
		}
	}
	if (s[i])
		out[o++] = '~'; /* truncated */
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void
tg_log(int level, const char *event, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;
	size_t len;

	if (level > cur_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ lvl=%s pid=%ld%s%s ev=%s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, names[level < 0 || level > 3 ? 0 : level],
	    (long)getpid(), cur_req[0] ? " req=" : "", cur_req, event);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0) {
		/* Nowhere left to report it. */
	}
}
