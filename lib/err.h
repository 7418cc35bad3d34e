/*
 * err.h - how a service reports a failure without knowing the transport:
 * a status, a one-line detail and optional field errors. REST renders it as
 * an RFC 9457 problem document (tg_err_respond in lib/svc.h), MCP as a tool
 * error, the CLI as a line on stderr. Also the page request shared by list
 * operations.
 */
#ifndef TG_ERR_H
#define TG_ERR_H

#include <stdint.h>

#include <jansson.h>

struct tg_err {
	int status;		/* positive enum tg_status, 0 when none */
	char detail[512];	/* room for a path and a reason (GET /ready) */
	json_t *fields;		/* owned; array of {"field","message"} or NULL */
};

struct tg_page {
	int64_t limit;		/* 1..200; 0 means the default (50) */
	const char *cursor;	/* NULL: from the start */
};

#define TG_PAGE_DEFAULT 50
#define TG_PAGE_MAX 200

void tg_err_init(struct tg_err *e);
/* Releases e->fields; safe on an initialised or cleared error. */
void tg_err_clear(struct tg_err *e);
/* Records st (positive or negative) with a detail; returns -st. */
int tg_err_set(struct tg_err *e, int st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a field error and makes the status TG_E_UNPROCESSABLE (unless a
 * status is already set); returns -that status. */
int tg_err_field(struct tg_err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills err with a generic detail for rc when the callee set none (DB
 * failures, OOM); returns rc. */
int tg_err_from(struct tg_err *e, int rc);

#endif
