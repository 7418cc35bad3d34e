/*
 * limits.h - compile-time limits. Runtime-tunable limits (body size, tool
 * run time...) live in struct tg_config; these are the hard ceilings.
 */
#ifndef TG_LIMITS_H
#define TG_LIMITS_H

#define TG_MAX_BODY_DEFAULT (1024 * 1024) /* request body, bytes */
#define TG_MAX_BODY_CEILING (16 * 1024 * 1024)
#define TG_MAX_JSON_DEPTH 64
#define TG_MAX_PATH 2048		/* request path, bytes */
#define TG_MAX_QUERY 4096		/* query string, bytes */
#define TG_MAX_QUERY_PAIRS 32
#define TG_MAX_CAPTURES 4		/* :name captures per route */
#define TG_MAX_SEGMENTS 16		/* path segments per route */
#define TG_MAX_TOKEN 4096		/* Authorization header value */
#define TG_MAX_HEADERS 24		/* extra response headers */
#define TG_MAX_WORKERS 64
#define TG_MAX_ORIGINS 16
#define TG_ARENA_BLOCK (16 * 1024)

#endif
