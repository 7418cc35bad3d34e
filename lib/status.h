/*
 * status.h - the one status enum used by every fallible function.
 *
 * Functions that can fail return int: TG_OK (0) on success, or the negated
 * enum value on failure (e.g. return -TG_E_NOMEM). tg_status_http() maps a
 * status to its HTTP code; tg_status_title() gives the RFC 9457 title.
 */
#ifndef TG_STATUS_H
#define TG_STATUS_H

enum tg_status {
	TG_OK = 0,
	TG_E_NOMEM,
	TG_E_BADREQ,
	TG_E_UNAUTH,
	TG_E_FORBIDDEN,
	TG_E_NOTFOUND,
	TG_E_METHOD,
	TG_E_CONFLICT,
	TG_E_TOOLARGE,
	TG_E_MEDIATYPE,
	TG_E_UNPROCESSABLE,
	TG_E_RATE,
	TG_E_DB,
	TG_E_UNAVAIL,
	TG_E_INTERNAL,
	TG_E_TIMEOUT,
	TG_E_BUSY,	/* every tool slot busy (lib/slots.h): 503 + Retry-After */
	TG_E__COUNT
};

/* HTTP status for a status value (positive or negated); 500 for unknown. */
int tg_status_http(int st);
/* Short human title ("Not Found"); never NULL. */
const char *tg_status_title(int st);
/* Stable machine name ("not_found"); never NULL. */
const char *tg_status_name(int st);

#endif
