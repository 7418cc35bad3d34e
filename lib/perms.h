/*
 * perms.h - the role -> permission table (lib/perms.c). Permission bits
 * (TG_P_*) and tg_call_can() are in lib/call.h.
 */
#ifndef TG_PERMS_H
#define TG_PERMS_H

/* The role -> permission table (docs/security.md has it as a matrix). */
unsigned tg_access_role_perms(int role);
/* 1 when role holds every bit of perm (perm 0: any valid role). */
int tg_access_role_can(int role, unsigned perm);

#endif
