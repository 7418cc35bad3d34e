/*
 * stream_ticket.h - the hand-over of a long-lived stream from a worker to
 * the stream process (fcgi/stream.c, docs/architecture.md "Streams").
 *
 * A worker serves the opening request of a stream (GET /mcp of a 2025
 * session, or a 2026-07-28 subscriptions/listen) through the whole
 * pipeline, authentication included; when everything passes it answers
 * with X-Accel-Redirect to nginx's internal stream location, whose query
 * carries a ticket: what the stream process must know about the stream
 * (era, principal, session, filter), as base64url(JSON) "." hex HMAC.
 * The HMAC key is 32 random bytes the master draws before it forks, so
 * only the workers and the stream process of one master know it: a ticket
 * cannot be forged by a local user who reaches the stream socket, and it
 * is refused once older than TG_TICKET_TTL_MS (nginx redirects within
 * milliseconds).
 *
 * Without a master (CGI, a worker on fd 0) no key exists:
 * tg_ticket_available() is 0, GET /mcp stays 405 and initialize says
 * listChanged: false.
 */
#ifndef TG_STREAM_TICKET_H
#define TG_STREAM_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/call.h"

#define TG_TICKET_TTL_MS 30000
#define TG_TICKET_MAX 2048 /* the encoded ticket, at most */
#define TG_TICKET_PATH "/_toolgate/stream"

enum tg_ticket_era {
	TG_TICKET_2025 = 1, /* GET /mcp of a session */
	TG_TICKET_2026 = 2, /* subscriptions/listen */
};

/* What a stream is about (all of it signed). */
struct tg_ticket {
	int era; /* enum tg_ticket_era */
	enum tg_role role; /* TG_ROLE_NONE: anonymous */
	int64_t user_id; /* 0: anonymous */
	int64_t api_key_id; /* 0: not an API key */
	char jti[40]; /* JWT id, "" otherwise */
	int64_t iat, exp; /* JWT issued/expiry (s), 0 when none */
	char session[65]; /* 2025: the session's SHA-256 hex */
	char version[33]; /* protocol version */
	char listen_id[200]; /* 2026: the request id as JSON text */
	int tools; /* 2026: toolsListChanged asked for */
	char peer[64]; /* client address (anonymous limits) */
	int64_t issued_ms; /* CLOCK_REALTIME ms */
};

/* The master: draws the key (before forking). 0 or -TG_E_*. */
int tg_ticket_init(void);
/* Forgets the key (streams switched off). */
void tg_ticket_disable(void);
/* 1 when this process can hand streams over (a key exists). */
int tg_ticket_available(void);

/* Encodes and signs t into out (cap >= TG_TICKET_MAX). 0 or -TG_E_*. */
int tg_ticket_sign(const struct tg_ticket *t, char *out, size_t cap);
/* Verifies (HMAC, age) and decodes s; 0, or -TG_E_UNAUTH with *why. */
int tg_ticket_verify(const char *s, size_t n, int64_t now_ms,
    struct tg_ticket *t, const char **why);

#endif
