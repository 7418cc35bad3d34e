/*
 * fake_io.h - an in-memory transport for unit tests: parameters from a
 * table, body from a string, output captured into a buffer.
 */
#ifndef TG_FAKE_IO_H
#define TG_FAKE_IO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/request.h"
#include "lib/arena.h"
#include "lib/buf.h"

struct fake {
	const char *const *params; /* name, value, name, value, ..., NULL */
	const char *body;
	size_t body_off;
	struct tg_buf out;
};

static const char *
fake_param(void *ctx, const char *name)
{
	struct fake *f = ctx;
	int i;

	for (i = 0; f->params && f->params[i]; i += 2)
		if (strcmp(f->params[i], name) == 0)
			return f->params[i + 1];
	return NULL;
}

static int
fake_read(void *ctx, char *buf, int n)
{
	struct fake *f = ctx;
	size_t left = f->body ? strlen(f->body) - f->body_off : 0;
	size_t k = left < (size_t)n ? left : (size_t)n;

	if (k)
		memcpy(buf, f->body + f->body_off, k);
	f->body_off += k;
	return (int)k;
}

static int
fake_write(void *ctx, const char *buf, size_t n)
{
	struct fake *f = ctx;
	return tg_buf_append(&f->out, buf, n) == 0 ? 0 : -1;
}

static int
fake_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static inline void
fake_io(struct tg_io *io, struct fake *f)
{
	io->ctx = f;
	io->param = fake_param;
	io->read = fake_read;
	io->write = fake_write;
	io->flush = fake_flush;
	io->cancel_fd = NULL;
}

/* CGI parameters built up for a fake request (v is NULL-terminated). */
#define FAKE_MAX_PARAMS 24
struct fake_params {
	const char *v[2 * FAKE_MAX_PARAMS + 1];
	char clen[24];
	int n;
};

/* Adds name=value; nothing when value is NULL. */
static inline void
fake_params_add(struct fake_params *p, const char *name, const char *value)
{
	if (value == NULL)
		return;
	if (p->n + 2 >= (int)(sizeof(p->v) / sizeof(p->v[0])))
		abort();
	p->v[p->n++] = name;
	p->v[p->n++] = value;
	p->v[p->n] = NULL;
}

/* REQUEST_METHOD, REQUEST_URI, CONTENT_TYPE application/json and the
 * CONTENT_LENGTH of body (NULL: 0). */
static inline void
fake_params_init(struct fake_params *p, const char *method, const char *uri,
    const char *body)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->clen, sizeof(p->clen), "%zu", body ? strlen(body) : 0);
	fake_params_add(p, "REQUEST_METHOD", method);
	fake_params_add(p, "REQUEST_URI", uri);
	fake_params_add(p, "CONTENT_TYPE", "application/json");
	fake_params_add(p, "CONTENT_LENGTH", p->clen);
}

/* A request on the fake transport, as a worker holds it before
 * tg_router_serve (or tg_req_init): its arena, the transport, and req
 * pointing at both and at ctx. */
struct fake_req {
	struct fake f;
	struct tg_io io;
	struct tg_req req;
	struct tg_arena *a;
};

/* 0, or -1 when the arena could not be made (out of memory). */
static inline int
fake_req_open(struct fake_req *x, const char *const *params, const char *body,
    struct tg_ctx *ctx)
{
	memset(x, 0, sizeof(*x));
	x->f.params = params;
	x->f.body = body;
	fake_io(&x->io, &x->f);
	x->req.io = &x->io;
	x->req.ctx = ctx;
	if ((x->a = tg_arena_new()) == NULL)
		return -1;
	x->req.a = x->a;
	return 0;
}

/* Releases the request, its arena and what was written. */
static inline void
fake_req_close(struct fake_req *x)
{
	tg_req_clear(&x->req);
	tg_arena_free(x->a);
	x->a = NULL;
	tg_buf_free(&x->f.out);
}

#endif
