/*
 * test_access.c - the role -> permission matrix (docs/security.md) and the
 * access step's behaviour on routes without authentication.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/unit.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "fcgi/access.h"
#include "lib/status.h"

static const struct {
	unsigned perm;
	int viewer, developer, admin;
} matrix[] = {
	{TG_P_SELF, 1, 1, 1},
	{TG_P_READ, 1, 1, 1},
	{TG_P_MCP, 1, 1, 1},
	{TG_P_WRITE, 0, 1, 1},
	{TG_P_RUN, 0, 1, 1},
	{TG_P_APPROVE, 0, 0, 1},
	{TG_P_SECRETS, 0, 0, 1},
	{TG_P_USERS, 0, 0, 1},
	{TG_P_AUDIT, 0, 0, 1},
	{TG_P_SETTINGS, 0, 0, 1},
};

static void
t_matrix(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		assert_int_equal(tg_access_role_can(TG_ROLE_VIEWER, matrix[i].perm), matrix[i].viewer);
		assert_int_equal(tg_access_role_can(TG_ROLE_DEVELOPER, matrix[i].perm),
		    matrix[i].developer);
		assert_int_equal(tg_access_role_can(TG_ROLE_ADMIN, matrix[i].perm), matrix[i].admin);
		/* no role, or an unknown one, has nothing */
		assert_int_equal(tg_access_role_can(TG_ROLE_NONE, matrix[i].perm), 0);
		assert_int_equal(tg_access_role_can(99, matrix[i].perm), 0);
		assert_int_equal(tg_access_role_can(-1, matrix[i].perm), 0);
	}
}

static void
t_hierarchy(void **state)
{
	unsigned v = tg_access_role_perms(TG_ROLE_VIEWER);
	unsigned d = tg_access_role_perms(TG_ROLE_DEVELOPER);
	unsigned a = tg_access_role_perms(TG_ROLE_ADMIN);

	(void)state;
	assert_int_equal(v & d, v);	/* developer >= viewer */
	assert_int_equal(d & a, d);	/* admin >= developer */
	assert_true(d != a && v != d);
	/* perm 0 (any authenticated caller) needs a valid role */
	assert_int_equal(tg_access_role_can(TG_ROLE_VIEWER, 0), 1);
	assert_int_equal(tg_access_role_can(TG_ROLE_NONE, 0), 0);
	/* combined bits need all of them */
	assert_int_equal(tg_access_role_can(TG_ROLE_DEVELOPER, TG_P_WRITE | TG_P_APPROVE), 0);
	assert_int_equal(tg_access_role_can(TG_ROLE_ADMIN, TG_P_WRITE | TG_P_APPROVE), 1);
}

static void
t_can_needs_authentication(void **state)
{
	struct tg_req req;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.who.role = TG_ROLE_ADMIN;	/* role alone is not enough */
	assert_int_equal(tg_access_can(&req, TG_P_READ), 0);
	req.who.authenticated = 1;
	assert_int_equal(tg_access_can(&req, TG_P_USERS), 1);
	req.who.role = TG_ROLE_VIEWER;
	assert_int_equal(tg_access_can(&req, TG_P_USERS), 0);
}

static int
dummy(struct tg_req *req, struct tg_resp *resp)
{
	(void)req;
	(void)resp;
	return 0;
}

static void
t_open_route_passes_anonymous(void **state)
{
	static const struct tg_route open = {"GET", "/health", 0, 0, 0, dummy};
	struct tg_ctx ctx;
	struct tg_req req;
	struct tg_resp resp;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	memset(&req, 0, sizeof(req));
	req.ctx = &ctx;
	req.route = &open;
	req.who.authenticated = 1;	/* stale state must be cleared */
	tg_resp_init(&resp);
	assert_int_equal(tg_access_check(&req, &resp), TG_OK);
	assert_int_equal(req.who.authenticated, 0);
	tg_resp_clear(&resp);
}

TG_TEST_MAIN("access", NULL, NULL, t_matrix, t_hierarchy,
    t_can_needs_authentication, t_open_route_passes_anonymous)
