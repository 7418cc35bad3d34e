/*
 * perms.c - the role -> permission table (perms.h; docs/security.md has it
 * as a matrix). The one place a role's rights are decided, for the router
 * (fcgi/access.c), the services (tg_call_can) and the MCP management tools.
 */
#include "lib/call.h"
#include "lib/perms.h"

#define P_VIEWER (TG_P_SELF | TG_P_READ | TG_P_MCP)
#define P_DEVELOPER (P_VIEWER | TG_P_WRITE | TG_P_RUN)
#define P_ADMIN (P_DEVELOPER | TG_P_APPROVE | TG_P_SECRETS | TG_P_USERS | \
    TG_P_AUDIT | TG_P_SETTINGS)

unsigned
tg_access_role_perms(int role)
{
	switch (role) {
	case TG_ROLE_ADMIN:
		return P_ADMIN;
	case TG_ROLE_DEVELOPER:
		return P_DEVELOPER;
	case TG_ROLE_VIEWER:
		return P_VIEWER;
	default:
		return 0;
	}
}

int
tg_access_role_can(int role, unsigned perm)
{
	unsigned have = tg_access_role_perms(role);

	if (have == 0)
		return 0;
	return (have & perm) == perm;
}

int
tg_call_can(const struct tg_call *c, unsigned perm)
{
	return c->who != NULL && c->who->authenticated &&
	    tg_access_role_can(c->who->role, perm);
}
