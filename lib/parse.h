/*
 * parse.h - strict number and token parsing. Never atoi.
 */
#ifndef TG_PARSE_H
#define TG_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal integer in [lo, hi]; the whole string must be digits (optional
 * leading '-'); no spaces, no '+'. Returns 0 or -TG_E_BADREQ. */
int tg_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
/* Hex string of exactly 2*n chars into out[n]. Returns 0 or -TG_E_BADREQ. */
int tg_parse_hex(const char *s, unsigned char *out, size_t n);

/* The value of digit c in a base whose digits are the characters of
 * alphabet, in order (hex: "0123456789abcdef"); -1 when c is not one. */
int tg_parse_digit(const char *alphabet, int c);
/* 1 if s is 1..max characters of [A-Za-z0-9_] not starting with a digit. */
int tg_parse_ident(const char *s, size_t max);
/* Percent-decode src[0..n) into a fresh arena-free buffer dst of capacity
 * cap (including NUL). plus_space turns '+' into ' ' (query strings).
 * Rejects malformed escapes and decoded NUL bytes. Returns the length or
 * -TG_E_BADREQ / -TG_E_TOOLARGE. */
int tg_parse_pct(const char *src, size_t n, char *dst, size_t cap, int plus_space);
/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1; RFC 3629: no
 * overlongs, no surrogates, at most U+10FFFF), or 0 when it is not one. */
size_t tg_utf8_seq(const unsigned char *s, size_t n);
/* 1 when s[0..n) is valid UTF-8 (RFC 3629). tg_parse_pct() refuses decoded
 * text that is not (-TG_E_BADREQ). */
int tg_utf8_valid(const char *s, size_t n);
/* Replaces every byte that does not start a valid UTF-8 sequence by '?'. */
void tg_utf8_scrub(char *s);
/* 1 when s is one of the strings of set (NULL-terminated), else 0. */
int tg_str_in(const char *s, const char *const *set);

#endif
