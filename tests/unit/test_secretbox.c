/*
 * test_secretbox.c - AES-256-GCM seal/open: round trip, fresh nonces,
 * wrong AAD (another server / key), wrong key, tampered bytes, unified diff.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unit.h"
#include "lib/secretbox.h"
#include "lib/status.h"
#include "lib/tools.h"

static const unsigned char K1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const unsigned char K2[32] = {9, 9, 9};

static void
seal(const char *aad, const char *pt, unsigned char nonce[12], unsigned char *ct)
{
	assert_int_equal(tg_secretbox_seal(K1, aad, (const unsigned char *)pt,
	    strlen(pt), nonce, ct), TG_OK);
}

static void
test_roundtrip(void **state)
{
	unsigned char nonce[12], n2[12], ct[64], ct2[64], pt[64];
	char aad[64];
	size_t len = 0;

	(void)state;
	assert_int_equal(tg_secretbox_aad(aad, sizeof(aad), 7, "API_KEY"), TG_OK);
	assert_string_equal(aad, "server_secret:7:API_KEY");
	seal(aad, "hunter2", nonce, ct);
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 7 + 16, pt, &len), TG_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(pt, "hunter2", 7);
	/* a fresh nonce every time */
	seal(aad, "hunter2", n2, ct2);
	assert_memory_not_equal(nonce, n2, 12);
	/* empty value */
	seal(aad, "", nonce, ct);
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 16, pt, &len), TG_OK);
	assert_int_equal(len, 0);
}

static void
test_failures(void **state)
{
	unsigned char nonce[12], ct[64], pt[64];
	char aad[64], other[64];
	size_t len = 0;

	(void)state;
	tg_secretbox_aad(aad, sizeof(aad), 7, "API_KEY");
	seal(aad, "hunter2", nonce, ct);
	/* moved to another server's row, or another key name */
	tg_secretbox_aad(other, sizeof(other), 8, "API_KEY");
	assert_int_equal(tg_secretbox_open(K1, other, nonce, ct, 23, pt, &len), -TG_E_UNAUTH);
	tg_secretbox_aad(other, sizeof(other), 7, "API_KEY2");
	assert_int_equal(tg_secretbox_open(K1, other, nonce, ct, 23, pt, &len), -TG_E_UNAUTH);
	/* wrong key */
	assert_int_equal(tg_secretbox_open(K2, aad, nonce, ct, 23, pt, &len), -TG_E_UNAUTH);
	/* tampered ciphertext, tag, nonce */
	ct[0] ^= 1;
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 23, pt, &len), -TG_E_UNAUTH);
	ct[0] ^= 1;
	ct[22] ^= 0x80;
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 23, pt, &len), -TG_E_UNAUTH);
	ct[22] ^= 0x80;
	nonce[3] ^= 1;
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 23, pt, &len), -TG_E_UNAUTH);
	nonce[3] ^= 1;
	/* truncated */
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 10, pt, &len), -TG_E_BADREQ);
	assert_int_equal(tg_secretbox_open(K1, aad, nonce, ct, 23, pt, &len), TG_OK);
}

static void
test_diff(void **state)
{
	char *d;

	(void)state;
	d = tg_tools_unified_diff("a\nb\nc\n", "a\nB\nc\n");
	assert_non_null(d);
	assert_non_null(strstr(d, " a\n-b\n+B\n c\n"));
	free(d);
	d = tg_tools_unified_diff("", "x\n");
	assert_non_null(strstr(d, "+x\n"));
	free(d);
}

TG_TEST_MAIN("tests", NULL, NULL, test_roundtrip, test_failures, test_diff)
