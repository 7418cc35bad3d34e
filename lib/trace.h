/*
 * trace.h - W3C Trace Context and OpenTelemetry spans in a worker.
 *
 * A worker records the spans of the request it serves in a small fixed
 * pool (no allocation, no pointers into callers' frames): a span is an int
 * handle, 0 meaning "not recording", and every function accepts 0 and then
 * does nothing, so instrumented code never tests whether tracing is on.
 * Finished spans are encoded as OTLP/JSON span objects into a per-process
 * buffer that tg_trace_flush() (end of every request) hands to the
 * exporter's queue in one datagram, with send(MSG_DONTWAIT): when the queue
 * is full the spans are dropped and counted (lib/dbstats.h), the request
 * never waits. The exporter process (lib/otlp_export.h) batches and sends
 * them to TOOLGATE_OTLP_ENDPOINT.
 *
 * Sampling is parent-based: a span whose parent context came from a
 * traceparent (HTTP header or MCP _meta) is recorded when the parent's
 * sampled flag is set; a root is recorded with probability
 * TOOLGATE_OTLP_SAMPLE_RATIO, decided from its trace id. Trace and span ids
 * come from the OpenSSL DRBG (a CSPRNG).
 *
 * The incoming context is kept even when nothing is recorded (export off,
 * not sampled), so tg_trace_traceparent() can still pass it on to external
 * sources unchanged. Not thread-safe (workers are single-threaded).
 */
#ifndef TG_TRACE_H
#define TG_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum tg_span_kind {
	TG_SPAN_INTERNAL = 1,
	TG_SPAN_SERVER = 2,
	TG_SPAN_CLIENT = 3,
};

/* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define TG_TRACEPARENT_LEN 55
#define TG_TRACESTATE_MAX 512

/* Process setup, in the master before fork: fd is the exporter queue's
 * sending end (-1: export off), sample_ppm the root sampling ratio in
 * parts per million, service the service.name for the request span. */
void tg_trace_setup(int fd, int64_t sample_ppm);
/* 1 when spans are exported at all. */
int tg_trace_enabled(void);

/* Parses a traceparent (version 00, or a later version's first four
 * fields); 0 and fills the ids and flags, or -1 when malformed (all-zero
 * ids included). */
int tg_trace_parse(const char *tp, uint8_t trace_id[16], uint8_t span_id[8],
    uint8_t *flags);

/*
 * Starts the request's SERVER span (or any span from a remote parent):
 * traceparent/tracestate from the caller (may be NULL or malformed: a new
 * root then). When a span is already open and the remote context belongs
 * to another trace, the new span starts in the remote trace and links to
 * the open one (MCP _meta.traceparent inside an HTTP request). Returns a
 * handle, 0 when not recording.
 */
int tg_span_start_remote(const char *name, enum tg_span_kind kind,
    const char *traceparent, const char *tracestate);
/* A child of the innermost open span; 0 when that is not recording. */
int tg_span_start(const char *name, enum tg_span_kind kind);
/* The innermost open recording span, or 0. */
int tg_trace_current(void);
/* 1 when h is a recording span. */
int tg_span_recording(int h);

void tg_span_name(int h, const char *name);
/* Attributes (string values are cut at 256 bytes; later keys beyond the
 * span's attribute space are dropped and counted in the span). */
void tg_span_str(int h, const char *key, const char *val);
void tg_span_int(int h, const char *key, int64_t val);
void tg_span_bool(int h, const char *key, int val);
/* An event now / at a given wall time (Unix ns). */
void tg_span_event(int h, const char *name);
void tg_span_event_at(int h, const char *name, int64_t unix_ns);
/* Status ERROR with a message (not secret: it is exported). */
void tg_span_error(int h, const char *msg);
/* Ends h (and any span opened inside it and left open). */
void tg_span_end(int h);
/* A span that happened elsewhere (the egress proxy): started and ended at
 * the given wall times (Unix ns; 0 = now). */
int tg_span_start_at(const char *name, enum tg_span_kind kind, int64_t unix_ns);
void tg_span_end_at(int h, int64_t unix_ns);

/* Ends every open span (request end) and queues what was recorded. */
void tg_trace_flush(void);

/* The traceparent to send with an outgoing request: the innermost
 * recording span's context, else the incoming one unchanged; 0 and buf
 * (cap > TG_TRACEPARENT_LEN) filled, or -1 when there is none. */
int tg_trace_traceparent(char *buf, size_t cap);
/* The incoming tracestate ("" when none); valid until the next request. */
const char *tg_trace_tracestate(void);
/* The current trace id as 32 hex characters ("" when none). */
const char *tg_trace_id_hex(void);

/* Wall clock, Unix ns. */
int64_t tg_trace_now_ns(void);

/* Parses "0", "1", "0.25", "1e-3" into parts per million; -1 when bad. */
int64_t tg_trace_ratio_ppm(const char *s);

#endif
