/*
 * trace.c - spans of one worker (see trace.h).
 *
 * A span lives in a fixed pool slot from start to end; the innermost open
 * recording span is the parent of the next one. Attributes and events are
 * written as OTLP/JSON text straight into the slot (bounded: what does not
 * fit is dropped and counted in the span's droppedAttributesCount), and the
 * finished span is appended to the process's pending buffer, which
 * tg_trace_flush() sends as one datagram:
 *
 *   uint32_t nspans (host order) | span JSON "," span JSON "," ...
 *
 * The exporter (lib/otlp_export.c) concatenates datagrams into one
 * ExportTraceServiceRequest. A span that would not fit a datagram is
 * dropped (counted as queue_full).
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/crypto.h"
#include "lib/obs.h"
#include "lib/trace.h"

#define POOL 16
#define ATTR_CAP 1536
#define EV_CAP 768
#define PEND_CAP (48 * 1024)
#define VAL_MAX 256

struct span {
	int used;
	int parent; /* pool handle of the local parent, 0 none */
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_id[8];
	int has_parent;
	uint8_t link_trace[16];
	uint8_t link_span[8];
	int has_link;
	int kind;
	char name[96];
	int64_t start_ns;
	int status; /* 0 unset, 2 error */
	char status_msg[160];
	char attrs[ATTR_CAP];
	size_t attrs_len;
	int attrs_dropped;
	char events[EV_CAP];
	size_t events_len;
	int events_dropped;
	char tracestate[TG_TRACESTATE_MAX + 1];
};

static int qfd = -1;
static int64_t ratio_ppm = 1000000;
static struct span pool[POOL];
static int cur; /* innermost open recording span, 0 none */

/* The incoming context of the current request (propagated unchanged
 * when nothing is recorded). */
static struct {
	int valid;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t flags;
	char tracestate[TG_TRACESTATE_MAX + 1];
} in;

static void send_pending(void);

static char pend[PEND_CAP];
static size_t pend_len = sizeof(uint32_t);
static uint32_t pend_n;

void
tg_trace_setup(int fd, int64_t sample_ppm)
{
	qfd = fd;
	ratio_ppm = sample_ppm < 0 ? 0 : sample_ppm > 1000000 ? 1000000 :
								sample_ppm;
}

int
tg_trace_enabled(void)
{
	return qfd >= 0;
}

int64_t
tg_trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
tg_trace_ratio_ppm(const char *s)
{
	char *end;
	double d;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !(d >= 0.0 && d <= 1.0))
		return -1;
	return (int64_t)(d * 1e6 + 0.5);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is invalid in traceparent */
}

static int
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo, nz = 0;

	for (i = 0; i < n; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
		nz |= out[i];
	}
	return nz ? 0 : -1;
}

static void
tohex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
tg_trace_parse(const char *tp, uint8_t trace_id[16], uint8_t span_id[8],
    uint8_t *flags)
{
	uint8_t ver, fl;
	size_t len;

	if (tp == NULL)
		return -1;
	len = strlen(tp);
	if (len < TG_TRACEPARENT_LEN || tp[2] != '-' || tp[35] != '-' ||
	    tp[52] != '-')
		return -1;
	if (hexval((unsigned char)tp[0]) < 0 || hexval((unsigned char)tp[1]) < 0)
		return -1;
	ver = (uint8_t)(hexval((unsigned char)tp[0]) << 4 | hexval((unsigned char)tp[1]));
	if (ver == 0xff || (ver == 0 && len != TG_TRACEPARENT_LEN) ||
	    (ver > 0 && len > TG_TRACEPARENT_LEN && tp[55] != '-'))
		return -1;
	if (unhex(tp + 3, trace_id, 16) != 0 || unhex(tp + 36, span_id, 8) != 0)
		return -1;
	if (hexval((unsigned char)tp[53]) < 0 || hexval((unsigned char)tp[54]) < 0)
		return -1;
	fl = (uint8_t)(hexval((unsigned char)tp[53]) << 4 | hexval((unsigned char)tp[54]));
	*flags = fl;
	return 0;
}

/* tracestate: printable ASCII, bounded; anything else is ignored. */
static void
copy_state(char *dst, const char *src)
{
	size_t i;

	dst[0] = '\0';
	if (src == NULL || strlen(src) > TG_TRACESTATE_MAX)
		return;
	for (i = 0; src[i]; i++)
		if ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] > 0x7e)
			return;
	memcpy(dst, src, i + 1);
}

static int
new_ids(uint8_t *p, size_t n)
{
	size_t i;
	int nz = 0;

	if (tg_crypto_random(p, n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		nz |= p[i];
	if (!nz)
		p[n - 1] = 1;
	return 0;
}

static struct span *
get(int h)
{
	if (h <= 0 || h > POOL || !pool[h - 1].used)
		return NULL;
	return &pool[h - 1];
}

static int
alloc_span(const char *name, enum tg_span_kind kind)
{
	int i;

	for (i = 0; i < POOL; i++) {
		if (pool[i].used)
			continue;
		memset(&pool[i], 0, offsetof(struct span, attrs));
		pool[i].attrs_len = pool[i].events_len = 0;
		pool[i].attrs_dropped = pool[i].events_dropped = 0;
		pool[i].tracestate[0] = '\0';
		pool[i].used = 1;
		pool[i].kind = (int)kind;
		snprintf(pool[i].name, sizeof(pool[i].name), "%s", name ? name : "span");
		if (new_ids(pool[i].span_id, 8) != 0) {
			pool[i].used = 0;
			return 0;
		}
		pool[i].start_ns = tg_trace_now_ns();
		return i + 1;
	}
	return 0; /* too deep: not recorded */
}

/* A root is sampled when the top 56 bits of its trace id are below the
 * ratio (the TraceIdRatioBased rule), so the decision is reproducible. */
static int
root_sampled(const uint8_t *tid)
{
	uint64_t v = 0;
	int i;

	if (ratio_ppm >= 1000000)
		return 1;
	if (ratio_ppm <= 0)
		return 0;
	for (i = 8; i < 15; i++)
		v = v << 8 | tid[i];
	return (double)v < (double)ratio_ppm / 1e6 * 72057594037927936.0;
}

int
tg_span_start_remote(const char *name, enum tg_span_kind kind,
    const char *traceparent, const char *tracestate)
{
	uint8_t tid[16], sid[8], fl = 0;
	struct span *s, *p;
	int remote, h;

	remote = tg_trace_parse(traceparent, tid, sid, &fl) == 0;
	if (kind == TG_SPAN_SERVER && cur == 0) {
		/* the request's own context, kept for propagation */
		memset(&in, 0, sizeof(in));
		if (remote) {
			in.valid = 1;
			memcpy(in.trace_id, tid, 16);
			memcpy(in.span_id, sid, 8);
			in.flags = fl;
			copy_state(in.tracestate, tracestate);
		}
	}
	if (qfd < 0)
		return 0;
	p = get(cur);
	if (!remote) {
		if (p != NULL)
			return tg_span_start(name, kind);
		if (ratio_ppm <= 0 || new_ids(tid, 16) != 0 || !root_sampled(tid))
			return 0;
	} else if (!(fl & 1)) {
		return 0;
	}
	if ((h = alloc_span(name, kind)) == 0)
		return 0;
	s = &pool[h - 1];
	memcpy(s->trace_id, tid, 16);
	if (remote) {
		memcpy(s->parent_id, sid, 8);
		s->has_parent = 1;
		copy_state(s->tracestate, tracestate);
	}
	if (p != NULL) {
		if (remote && memcmp(p->trace_id, tid, 16) == 0) {
			/* same trace: the caller's span stays the parent */
		} else {
			memcpy(s->link_trace, p->trace_id, 16);
			memcpy(s->link_span, p->span_id, 8);
			s->has_link = 1;
		}
	}
	s->parent = cur;
	cur = h;
	return h;
}

int
tg_span_start(const char *name, enum tg_span_kind kind)
{
	struct span *p = get(cur), *s;
	int h;

	if (p == NULL || qfd < 0)
		return 0;
	if ((h = alloc_span(name, kind)) == 0)
		return 0;
	s = &pool[h - 1];
	memcpy(s->trace_id, p->trace_id, 16);
	memcpy(s->parent_id, p->span_id, 8);
	s->has_parent = 1;
	memcpy(s->tracestate, p->tracestate, sizeof(s->tracestate));
	s->parent = cur;
	cur = h;
	return h;
}

int
tg_trace_current(void)
{
	return get(cur) ? cur : 0;
}

int
tg_span_recording(int h)
{
	return get(h) != NULL;
}

void
tg_span_name(int h, const char *name)
{
	struct span *s = get(h);

	if (s != NULL && name != NULL)
		snprintf(s->name, sizeof(s->name), "%s", name);
}

/* JSON string body of v (at most max input bytes, cut to fit cap; bytes
 * above 0x7f become '?', so the payload is plain ASCII and never invalid
 * UTF-8) into dst; returns the length written. */
static int
esc(char *dst, size_t cap, const char *v, size_t max)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; v[i] && i < max; i++) {
		unsigned char c = (unsigned char)v[i];

		if (o + 7 >= cap)
			break; /* cut */
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(dst + o, "\\u00", 4);
			dst[o + 4] = hx[c >> 4];
			dst[o + 5] = hx[c & 15];
			o += 6;
		} else if (c >= 0x80) {
			dst[o++] = '?'; /* keep the payload plain ASCII */
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return (int)o;
}

/* Appends a formatted entry to buf (cap bytes, *len used): all of it, or
 * nothing and one more dropped. */
static void __attribute__((format(printf, 5, 6)))
append(char *buf, size_t cap, size_t *len, int *dropped, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len) {
		buf[*len] = '\0';
		(*dropped)++;
		return;
	}
	*len += (size_t)n;
}

/* Appends fmt to the span's attributes, or counts it as dropped. */
static void
add_attr(struct span *s, const char *key, const char *type, const char *val,
    int quote)
{
	char k[96], v[VAL_MAX * 6 + 1];

	if (esc(k, sizeof(k), key, 80) < 0 || esc(v, sizeof(v), val, VAL_MAX) < 0) {
		s->attrs_dropped++;
		return;
	}
	append(s->attrs, ATTR_CAP, &s->attrs_len, &s->attrs_dropped,
	    "%s{\"key\":\"%s\",\"value\":{\"%s\":%s%s%s}}", s->attrs_len ? "," : "",
	    k, type, quote ? "\"" : "", v, quote ? "\"" : "");
}

void
tg_span_str(int h, const char *key, const char *val)
{
	struct span *s = get(h);

	if (s != NULL && key != NULL && val != NULL)
		add_attr(s, key, "stringValue", val, 1);
}

void
tg_span_int(int h, const char *key, int64_t val)
{
	struct span *s = get(h);
	char v[24];

	if (s == NULL || key == NULL)
		return;
	snprintf(v, sizeof(v), "%lld", (long long)val);
	add_attr(s, key, "intValue", v, 1);
}

void
tg_span_bool(int h, const char *key, int val)
{
	struct span *s = get(h);

	if (s != NULL && key != NULL)
		add_attr(s, key, "boolValue", val ? "true" : "false", 0);
}

void
tg_span_event_at(int h, const char *name, int64_t unix_ns)
{
	struct span *s = get(h);
	char k[96];

	if (s == NULL || name == NULL)
		return;
	if (esc(k, sizeof(k), name, 80) < 0) {
		s->events_dropped++;
		return;
	}
	append(s->events, EV_CAP, &s->events_len, &s->events_dropped,
	    "%s{\"timeUnixNano\":\"%lld\",\"name\":\"%s\"}", s->events_len ? "," : "",
	    (long long)unix_ns, k);
}

void
tg_span_event(int h, const char *name)
{
	if (get(h) != NULL)
		tg_span_event_at(h, name, tg_trace_now_ns());
}

void
tg_span_error(int h, const char *msg)
{
	struct span *s = get(h);

	if (s == NULL)
		return;
	s->status = 2;
	if (esc(s->status_msg, sizeof(s->status_msg), msg ? msg : "", 150) < 0)
		s->status_msg[0] = '\0';
}

/* The finished span as OTLP/JSON, appended to the pending datagram. */
static void
emit(struct span *s, int64_t end_ns)
{
	char tid[33], sid[17], pid[17], lt[33], ls[17], name[96 * 6 + 1];
	char ts[TG_TRACESTATE_MAX * 6 + 1];
	char *buf;
	size_t cap;
	int n;

	if (pend_len + 512 + ATTR_CAP + EV_CAP > PEND_CAP)
		send_pending();
	tohex(s->trace_id, 16, tid);
	tohex(s->span_id, 8, sid);
	tohex(s->parent_id, 8, pid);
	tohex(s->link_trace, 16, lt);
	tohex(s->link_span, 8, ls);
	if (esc(name, sizeof(name), s->name, sizeof(s->name)) < 0)
		snprintf(name, sizeof(name), "span");
	if (esc(ts, sizeof(ts), s->tracestate, TG_TRACESTATE_MAX) < 0)
		ts[0] = '\0';
	buf = pend + pend_len;
	cap = PEND_CAP - pend_len;
	n = snprintf(buf, cap,
	    "%s{\"traceId\":\"%s\",\"spanId\":\"%s\"%s%s%s%s%s%s,\"name\":\"%s\","
	    "\"kind\":%d,\"startTimeUnixNano\":\"%lld\",\"endTimeUnixNano\":\"%lld\","
	    "\"attributes\":[%s],\"droppedAttributesCount\":%d,"
	    "\"events\":[%s],\"droppedEventsCount\":%d%s%s%s%s%s,"
	    "\"status\":{\"code\":%d%s%s%s}}",
	    pend_n ? "," : "", tid, sid,
	    s->has_parent ? ",\"parentSpanId\":\"" : "", s->has_parent ? pid : "",
	    s->has_parent ? "\"" : "",
	    ts[0] ? ",\"traceState\":\"" : "", ts, ts[0] ? "\"" : "",
	    name, s->kind, (long long)s->start_ns, (long long)end_ns,
	    s->attrs, s->attrs_dropped, s->events, s->events_dropped,
	    s->has_link ? ",\"links\":[{\"traceId\":\"" : "", s->has_link ? lt : "",
	    s->has_link ? "\",\"spanId\":\"" : "", s->has_link ? ls : "",
	    s->has_link ? "\"}]" : "",
	    s->status == 2 ? 2 : 0,
	    s->status == 2 ? ",\"message\":\"" : "", s->status == 2 ? s->status_msg : "",
	    s->status == 2 ? "\"" : "");
	if (n < 0 || (size_t)n >= cap) {
		tg_obs_spans(TG_OBS_SPANS_DROPPED_QUEUE, 1);
		return;
	}
	pend_len += (size_t)n;
	pend_n++;
}

int
tg_span_start_at(const char *name, enum tg_span_kind kind, int64_t unix_ns)
{
	int h = tg_span_start(name, kind);

	if (h != 0)
		pool[h - 1].start_ns = unix_ns;
	return h;
}

void
tg_span_end(int h)
{
	tg_span_end_at(h, 0);
}

void
tg_span_end_at(int h, int64_t unix_ns)
{
	struct span *s = get(h);
	int64_t end;

	if (s == NULL)
		return;
	/* spans opened inside this one and left open end with it */
	while (cur != 0 && cur != h) {
		struct span *in_s = get(cur);

		if (in_s == NULL)
			break;
		tg_span_end(cur);
	}
	end = unix_ns > 0 ? unix_ns : tg_trace_now_ns();
	if (end < s->start_ns)
		end = s->start_ns;
	emit(s, end);
	if (cur == h)
		cur = s->parent;
	s->used = 0;
}

static void
send_pending(void)
{
	ssize_t w;

	if (pend_n == 0)
		return;
	memcpy(pend, &pend_n, sizeof(pend_n));
	if (qfd >= 0) {
		w = send(qfd, pend, pend_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		tg_obs_spans(w == (ssize_t)pend_len ? TG_OBS_SPANS_QUEUED :
						      TG_OBS_SPANS_DROPPED_QUEUE,
		    pend_n);
	}
	pend_len = sizeof(uint32_t);
	pend_n = 0;
}

void
tg_trace_flush(void)
{
	int i;

	while (cur != 0 && get(cur) != NULL)
		tg_span_end(cur);
	cur = 0;
	for (i = 0; i < POOL; i++) /* not reachable from cur: ended */
		if (pool[i].used)
			tg_span_end(i + 1);
	send_pending();
	memset(&in, 0, sizeof(in));
}

int
tg_trace_traceparent(char *buf, size_t cap)
{
	struct span *s = get(cur);
	char tid[33], sid[17];
	int n;

	if (s != NULL) {
		tohex(s->trace_id, 16, tid);
		tohex(s->span_id, 8, sid);
		n = snprintf(buf, cap, "00-%s-%s-01", tid, sid);
	} else if (in.valid) {
		tohex(in.trace_id, 16, tid);
		tohex(in.span_id, 8, sid);
		n = snprintf(buf, cap, "00-%s-%s-%02x", tid, sid, in.flags & 1);
	} else {
		return -1;
	}
	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

const char *
tg_trace_tracestate(void)
{
	struct span *s = get(cur);

	return s != NULL ? s->tracestate : in.tracestate;
}

const char *
tg_trace_id_hex(void)
{
	static char hex[33];
	struct span *s = get(cur);

	if (s != NULL)
		tohex(s->trace_id, 16, hex);
	else if (in.valid)
		tohex(in.trace_id, 16, hex);
	else
		hex[0] = '\0';
	return hex;
}
