/*
 * fuzz_request.c - libFuzzer target for the front door: the whole router
 * pipeline (URI, query, Content-Type, Content-Length, body, JSON parse,
 * problem rendering) driven by one input. Run with `make fuzz`.
 *
 * Input layout: four fields separated by '\n': method, request URI,
 * content type, content length; the rest is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/router.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "tests/unit/fake_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tg_config cfg;
	static struct tg_ctx ctx = {&cfg, NULL, NULL};
	char *copy, *fields[4], *p;
	const char *params[11];
	struct fake f;
	struct tg_arena *a;
	struct tg_io io;
	struct tg_req req;
	int i;

	tg_log_set_level(-1);
	cfg.test_routes = 1;
	cfg.max_body = 1024 * 1024;
	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	for (i = 0; i < 4; i++) {
		fields[i] = p;
		p = strchr(p, '\n');
		if (p == NULL) {
			free(copy);
			return 0;
		}
		*p++ = '\0';
	}
	params[0] = "REQUEST_METHOD";
	params[1] = fields[0];
	params[2] = "REQUEST_URI";
	params[3] = fields[1];
	params[4] = "CONTENT_TYPE";
	params[5] = fields[2];
	params[6] = "CONTENT_LENGTH";
	params[7] = fields[3];
	params[8] = "HTTP_ORIGIN";
	params[9] = "https://x.example";
	params[10] = NULL;
	memset(&f, 0, sizeof(f));
	f.params = params;
	f.body = p;
	a = tg_arena_new();
	if (a != NULL) {
		fake_io(&io, &f);
		memset(&req, 0, sizeof(req));
		req.a = a;
		req.io = &io;
		req.ctx = &ctx;
		tg_router_serve(&req);
		tg_arena_free(a);
	}
	tg_buf_free(&f.out);
	free(copy);
	return 0;
}
