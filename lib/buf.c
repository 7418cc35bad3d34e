/*
 * buf.c - bounded growable byte buffer (see buf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "lib/status.h"

static int
reserve(struct tg_buf *b, size_t extra)
{
	size_t need, ncap;
	char *np;

	if (extra > (size_t)-1 - b->len - 1)
		return -TG_E_TOOLARGE;
	need = b->len + extra + 1;
	if (b->max && need - 1 > b->max)
		return -TG_E_TOOLARGE;
	if (need <= b->cap)
		return TG_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return -TG_E_NOMEM;
	b->p = np;
	b->cap = ncap;
	return TG_OK;
}

int
tg_buf_append(struct tg_buf *b, const void *data, size_t n)
{
	int rc;

	if ((rc = reserve(b, n)) != TG_OK)
		return rc;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return TG_OK;
}

int
tg_buf_puts(struct tg_buf *b, const char *s)
{
	return tg_buf_append(b, s, strlen(s));
}

int
tg_buf_vprintf(struct tg_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -TG_E_INTERNAL;
	if ((rc = reserve(b, (size_t)n)) != TG_OK)
		return rc;
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	if (n < 0)
		return -TG_E_INTERNAL;
	b->len += (size_t)n;
	return TG_OK;
}

int
tg_buf_printf(struct tg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tg_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
tg_buf_reset(struct tg_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void
tg_buf_free(struct tg_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
tg_buf_wipe(struct tg_buf *b)
{
	if (b == NULL)
		return;
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	tg_buf_free(b);
}
