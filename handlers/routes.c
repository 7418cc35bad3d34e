/*
 * routes.c - THE route table: the only list of endpoints.
 * {method, pattern, flags, max_body, permission, handler}; patterns are
 * exact segments plus :captures. See fcgi/router.h for the flags.
 */
#include <stddef.h>

#include "fcgi/router.h"
#include "handlers/handlers.h"

#define KiB 1024

const struct tg_route tg_routes[] = {
	{"GET", "/health", 0, 0, 0, tg_h_health},
	{"GET", "/ready", 0, 0, 0, tg_h_ready},
	{"GET", "/api/v1/version", 0, 0, 0, tg_h_version},
	{"GET", "/metrics", 0, 0, 0, tg_h_metrics},
	{"POST", "/api/v1/_test/echo", TG_R_JSON | TG_R_TEST, 64 * KiB, 0, tg_h_test_echo},
	{"POST", "/mcp", TG_R_RAW | TG_R_AUTH_OPTIONAL | TG_R_STREAM, 1024 * KiB, 0, tg_h_mcp},
	{"GET", "/mcp", TG_R_AUTH_OPTIONAL, 0, 0, tg_h_mcp},
	{"DELETE", "/mcp", TG_R_AUTH_OPTIONAL, 0, 0, tg_h_mcp},
	{NULL, NULL, 0, 0, 0, NULL},
};
