/*
 * buf.h - bounded growable byte buffer.
 *
 * struct tg_buf {p, len, cap, max}: appends fail with -TG_E_TOOLARGE past
 * max (0 = no limit) and -TG_E_NOMEM when realloc fails; on failure the
 * buffer is unchanged. p is always NUL-terminated when non-NULL.
 * tg_buf_free() accepts a zeroed buffer and wipes nothing; use
 * tg_buf_wipe() for buffers that held secrets.
 */
#ifndef TG_BUF_H
#define TG_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct tg_buf {
	char *p;
	size_t len, cap, max;
};

int tg_buf_append(struct tg_buf *b, const void *data, size_t n);
int tg_buf_puts(struct tg_buf *b, const char *s);
int tg_buf_printf(struct tg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int tg_buf_vprintf(struct tg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void tg_buf_reset(struct tg_buf *b);
void tg_buf_free(struct tg_buf *b);
void tg_buf_wipe(struct tg_buf *b);

#endif
