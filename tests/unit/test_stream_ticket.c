/*
 * test_stream_ticket.c - the tickets a worker hands a stream over with
 * (lib/stream_ticket.c): what is signed comes back, anything else is
 * refused (another key, a changed byte, a stale or future ticket,
 * garbage), and without a key (CGI, fd 0) nothing is signed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/status.h"
#include "lib/stream_ticket.h"

#define NOW 1800000000000LL

static void
sample(struct tg_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->era = TG_TICKET_2026;
	t->role = TG_ROLE_DEVELOPER;
	t->user_id = 7;
	t->api_key_id = 12;
	t->iat = 1799999000;
	t->exp = 1800000900;
	snprintf(t->jti, sizeof(t->jti), "%s", "0123456789abcdef0123456789abcdef");
	snprintf(t->version, sizeof(t->version), "%s", "2026-07-28");
	snprintf(t->listen_id, sizeof(t->listen_id), "%s", "\"L-1\"");
	snprintf(t->peer, sizeof(t->peer), "%s", "127.0.0.1");
	t->tools = 1;
	t->issued_ms = NOW;
}

static void
t_no_key(void **state)
{
	struct tg_ticket t, u;
	char buf[TG_TICKET_MAX];
	const char *why = NULL;

	(void)state;
	tg_ticket_disable();
	assert_false(tg_ticket_available());
	sample(&t);
	assert_int_equal(tg_ticket_sign(&t, buf, sizeof(buf)), -TG_E_UNAVAIL);
	assert_int_equal(tg_ticket_verify("a.b", 3, NOW, &u, &why), -TG_E_UNAUTH);
}

static void
t_round_trip_and_tamper(void **state)
{
	struct tg_ticket t, u;
	char buf[TG_TICKET_MAX], copy[TG_TICKET_MAX];
	const char *why = NULL;
	size_t n;

	(void)state;
	assert_int_equal(tg_ticket_init(), TG_OK);
	assert_true(tg_ticket_available());
	sample(&t);
	assert_int_equal(tg_ticket_sign(&t, buf, sizeof(buf)), TG_OK);
	n = strlen(buf);
	assert_int_equal(tg_ticket_verify(buf, n, NOW + 10, &u, &why), TG_OK);
	assert_int_equal(u.era, t.era);
	assert_int_equal(u.role, t.role);
	assert_int_equal(u.user_id, 7);
	assert_int_equal(u.api_key_id, 12);
	assert_int_equal(u.iat, t.iat);
	assert_int_equal(u.exp, t.exp);
	assert_string_equal(u.jti, t.jti);
	assert_string_equal(u.listen_id, "\"L-1\"");
	assert_string_equal(u.peer, "127.0.0.1");
	assert_int_equal(u.tools, 1);
	/* every single changed byte is refused */
	for (size_t i = 0; i < n; i++) {
		memcpy(copy, buf, n + 1);
		copy[i] = copy[i] == 'A' ? 'B' : 'A';
		assert_int_equal(tg_ticket_verify(copy, n, NOW, &u, &why), -TG_E_UNAUTH);
		assert_non_null(why);
	}
	/* stale, from the future, truncated, empty */
	assert_int_equal(tg_ticket_verify(buf, n, NOW + TG_TICKET_TTL_MS + 1, &u, &why),
	    -TG_E_UNAUTH);
	assert_string_equal(why, "ticket expired");
	assert_int_equal(tg_ticket_verify(buf, n, NOW - 60000, &u, &why), -TG_E_UNAUTH);
	assert_int_equal(tg_ticket_verify(buf, n - 1, NOW, &u, &why), -TG_E_UNAUTH);
	assert_int_equal(tg_ticket_verify(buf, 0, NOW, &u, &why), -TG_E_UNAUTH);
	/* another master's key */
	assert_int_equal(tg_ticket_init(), TG_OK);
	assert_int_equal(tg_ticket_verify(buf, n, NOW, &u, &why), -TG_E_UNAUTH);
	assert_string_equal(why, "bad ticket signature");
	tg_ticket_disable();
}

static void
t_too_long(void **state)
{
	struct tg_ticket t;
	char small[64];

	(void)state;
	assert_int_equal(tg_ticket_init(), TG_OK);
	sample(&t);
	assert_int_equal(tg_ticket_sign(&t, small, sizeof(small)), -TG_E_TOOLARGE);
	tg_ticket_disable();
}

TG_TEST_MAIN("tests", NULL, NULL, t_no_key, t_round_trip_and_tamper,
    t_too_long)
