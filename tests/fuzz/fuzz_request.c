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
	struct fake_params fp;
	struct fake_req x;
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
	memset(&fp, 0, sizeof(fp));
	fake_params_add(&fp, "REQUEST_METHOD", fields[0]);
	fake_params_add(&fp, "REQUEST_URI", fields[1]);
	fake_params_add(&fp, "CONTENT_TYPE", fields[2]);
	fake_params_add(&fp, "CONTENT_LENGTH", fields[3]);
	fake_params_add(&fp, "HTTP_ORIGIN", "https://x.example");
	if (fake_req_open(&x, fp.v, p, &ctx) == 0)
		tg_router_serve(&x.req);
	fake_req_close(&x);
	free(copy);
	return 0;
}
