/*
 * fake_io.h - an in-memory transport for unit tests: parameters from a
 * table, body from a string, output captured into a buffer.
 */
#ifndef TG_FAKE_IO_H
#define TG_FAKE_IO_H

#include <stdlib.h>
#include <string.h>

#include "fcgi/request.h"
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

#endif
