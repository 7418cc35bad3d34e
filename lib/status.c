/*
 * status.c - mapping of enum tg_status to HTTP codes and problem titles.
 * One table, so every part of the program renders the same status alike.
 */
#include "lib/status.h"

static const struct {
	int http;
	const char *title;
	const char *name;
} table[TG_E__COUNT] = {
	[TG_OK] = {200, "OK", "ok"},
	[TG_E_NOMEM] = {503, "Service Unavailable", "out_of_memory"},
	[TG_E_BADREQ] = {400, "Bad Request", "bad_request"},
	[TG_E_UNAUTH] = {401, "Unauthorized", "unauthorized"},
	[TG_E_FORBIDDEN] = {403, "Forbidden", "forbidden"},
	[TG_E_NOTFOUND] = {404, "Not Found", "not_found"},
	[TG_E_METHOD] = {405, "Method Not Allowed", "method_not_allowed"},
	[TG_E_CONFLICT] = {409, "Conflict", "conflict"},
	[TG_E_TOOLARGE] = {413, "Content Too Large", "too_large"},
	[TG_E_MEDIATYPE] = {415, "Unsupported Media Type", "unsupported_media_type"},
	[TG_E_UNPROCESSABLE] = {422, "Unprocessable Content", "validation_failed"},
	[TG_E_RATE] = {429, "Too Many Requests", "rate_limited"},
	[TG_E_DB] = {503, "Service Unavailable", "database_unavailable"},
	[TG_E_UNAVAIL] = {503, "Service Unavailable", "unavailable"},
	[TG_E_INTERNAL] = {500, "Internal Server Error", "internal"},
	[TG_E_TIMEOUT] = {504, "Gateway Timeout", "timeout"},
	[TG_E_BUSY] = {503, "Service Unavailable", "busy"},
};

static int
idx(int st)
{
	if (st < 0)
		st = -st;
	if (st >= TG_E__COUNT)
		return TG_E_INTERNAL;
	return st;
}

int
tg_status_http(int st)
{
	return table[idx(st)].http;
}

const char *
tg_status_title(int st)
{
	return table[idx(st)].title;
}

const char *
tg_status_name(int st)
{
	return table[idx(st)].name;
}
