/*
 * log.h - one logfmt line per event on stderr.
 *
 *   ts=2026-11-23T09:00:00.123Z lvl=info pid=123 req=<id> ev=http.access k=v...
 *
 * tg_log(level, event, fmt, ...) where fmt renders the k=v tail. Values
 * that may hold spaces or quotes must go through tg_log_q(), which returns a
 * quoted, escaped copy in a small rotating static buffer. Never pass tokens,
 * passwords, secret values or request bodies.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

enum tg_log_level { TG_LOG_ERR = 0, TG_LOG_WARN, TG_LOG_INFO, TG_LOG_DEBUG };

void tg_log_set_level(int level);
int tg_log_level_parse(const char *s, int *out);
/* The request id included in every line until cleared (NULL clears). */
void tg_log_set_request(const char *request_id);
void tg_log(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Quote a value for logfmt (escapes ", \, control bytes; caps length). */
const char *tg_log_q(const char *s);

#endif
