/*
 * it.h - integration test helpers: real HTTP through the private nginx
 * (TG_BASE_URL, set by tests/run.sh) with libcurl, JSON bodies via jansson.
 */
#ifndef TG_IT_H
#define TG_IT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

struct it_resp {
	long status;
	char *body;
	size_t len;
	char *headers;		/* raw header block of the last response */
	json_t *json;		/* parsed body when it is JSON, else NULL */
};

/* Base URL, e.g. http://127.0.0.1:18080 (TG_BASE_URL). */
const char *it_base(void);
/* Environment value or fail the test. */
const char *it_env(const char *name);

/* Performs method path with optional extra headers (NULL-terminated array
 * of "Name: value") and body (len bytes; NULL for none). Returns 0 on a
 * completed HTTP exchange, -1 on transport failure. */
int it_request(const char *method, const char *path, const char *const *headers,
    const char *body, size_t len, struct it_resp *out);
/* JSON POST/PATCH/PUT shortcut with Content-Type: application/json and an
 * optional bearer token. */
int it_json(const char *method, const char *path, const char *token,
    const char *body, struct it_resp *out);
/* GET/DELETE with an optional bearer token. */
int it_get(const char *method, const char *path, const char *token,
    struct it_resp *out);
/* Header value (case-insensitive name), copied into a static buffer; NULL
 * when absent. */
const char *it_header(const struct it_resp *r, const char *name);
void it_resp_free(struct it_resp *r);

/* Runs a shell command (stack control); returns its exit status. */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Polls GET path until it returns want_status or timeout_ms passes. */
int it_wait_status(const char *path, long want_status, int timeout_ms);

/* Signs in through POST /api/v1/auth/login and copies the access token into
 * token_out (cap bytes; 4096 is plenty). Returns 0, or -1 (the HTTP status
 * is printed). it_login_full also returns the refresh token (may be NULL). */
int it_login(const char *user, const char *pass, char *token_out, size_t cap);
int it_login_full(const char *user, const char *pass, char *token_out,
    size_t cap, char *refresh_out, size_t rcap);
/* The admin of the test stack (TG_ADMIN_USER / TG_ADMIN_PASSWORD). */
int it_login_admin(char *token_out, size_t cap);
/* Creates a user through the API with an admin token (role admin,
 * developer or viewer); returns its id or -1. */
long long it_user_create(const char *admin_token, const char *username,
    const char *password, const char *role);
/* Runs a shell command and captures its stdout (trimmed) into out. Returns
 * the exit status. */
int it_capture(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* POST body (JSON) to path with token; fails the test unless 200/201 with an
 * "id", which it returns. */
long long it_create_id(const char *token, const char *path, const char *body);
/* POST body (NULL: {}) to path with token; fails the test on >= 300. */
void it_post_ok(const char *token, const char *path, const char *body);
/* n concurrent requests (one connection each, so several workers serve
 * them): method path, "Authorization: Bearer token" (NULL: none), extra
 * headers (NULL-terminated, may be NULL), body (NULL: none). status[i] gets
 * each HTTP status (0: no response). */
#define IT_BURST_MAX 64
void it_burst(const char *method, const char *path, const char *token,
    const char *const *extra, const char *body, int n, long *status);

#endif
