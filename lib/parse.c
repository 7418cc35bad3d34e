/*
 * parse.c - strict number, hex and percent-decoding parsers (see parse.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"
#include "lib/status.h"

int
tg_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	const char *p;
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -TG_E_BADREQ;
	p = s;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -TG_E_BADREQ;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -TG_E_BADREQ;
	if (v < lo || v > hi)
		return -TG_E_BADREQ;
	*out = (int64_t)v;
	return TG_OK;
}

int
tg_parse_digit(const char *alphabet, int c)
{
	const char *p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

/* A hex digit of either case. */
static int
hexval(int c)
{
	return tg_parse_digit("0123456789abcdef", c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
}

int
tg_parse_hex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (s == NULL || strlen(s) != 2 * n)
		return -TG_E_BADREQ;
	for (i = 0; i < n; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -TG_E_BADREQ;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return TG_OK;
}

size_t
tg_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
tg_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = tg_utf8_seq((const unsigned char *)s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

void
tg_utf8_scrub(char *s)
{
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		if ((k = tg_utf8_seq((const unsigned char *)s + i, n - i)) == 0) {
			s[i++] = '?';
			continue;
		}
		i += k;
	}
}

int
tg_parse_pct(const char *src, size_t n, char *dst, size_t cap, int plus_space)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = src[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -TG_E_BADREQ;
			hi = hexval((unsigned char)src[i + 1]);
			lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -TG_E_BADREQ;
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				return -TG_E_BADREQ;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		} else if (c == '\0') {
			return -TG_E_BADREQ;
		}
		if (o + 1 >= cap)
			return -TG_E_TOOLARGE;
		dst[o++] = c;
	}
	if (o >= cap)
		return -TG_E_TOOLARGE;
	dst[o] = '\0';
	/* reliability: decoded text goes into SQL parameters, JSON and logs */
	if (!tg_utf8_valid(dst, o))
		return -TG_E_BADREQ;
	return (int)o;
}

int
tg_parse_ident(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > max || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
tg_str_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}
