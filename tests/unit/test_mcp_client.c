/*
 * test_mcp_client.c - the pure parts of lib/mcp_client.c: URL validation,
 * address classification (IPv4, IPv6, v4-mapped, NAT64, 6to4, metadata),
 * the internal-source policy, and the SSE parser (line endings split across
 * chunks, multi-line data, comments, event names, caps). The network
 * behaviour is covered by tests/integration/test_sources.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "lib/mcp_client.h"
#include "lib/status.h"

static void
url_ok(const char *u, int https, const char *host, long port, int is_ip)
{
	struct tg_mcp_url out;
	char why[128] = "";

	if (tg_mcp_url_check(u, &out, why, sizeof(why)) != 0)
		fail_msg("%s rejected: %s", u, why);
	assert_int_equal(out.https, https);
	assert_string_equal(out.host, host);
	assert_int_equal(out.port, port);
	assert_int_equal(out.host_is_ip, is_ip);
}

static void
url_bad(const char *u)
{
	char why[128] = "";

	if (tg_mcp_url_check(u, NULL, why, sizeof(why)) != -TG_E_UNPROCESSABLE)
		fail_msg("%s accepted", u ? u : "(null)");
	assert_true(why[0] != '\0');
}

static void
t_urls(void **st)
{
	(void)st;
	url_ok("https://mcp.example.com/mcp", 1, "mcp.example.com", 443, 0);
	url_ok("http://example.com:8080/a/b?x=1", 0, "example.com", 8080, 0);
	url_ok("HTTPS://Example.COM/", 1, "Example.COM", 443, 0);
	url_ok("http://127.0.0.1:3001/mcp", 0, "127.0.0.1", 3001, 1);
	url_ok("http://[::1]:3001/mcp", 0, "::1", 3001, 1);
	url_ok("https://[2606:4700::1111]/", 1, "2606:4700::1111", 443, 1);
	url_bad(NULL);
	url_bad("");
	url_bad("ftp://example.com/");
	url_bad("file:///etc/passwd");
	url_bad("gopher://example.com/");
	url_bad("example.com/mcp");
	url_bad("//example.com/mcp");
	url_bad("http://user:pw@example.com/");
	url_bad("http://user@example.com/");
	url_bad("http://example.com/#frag");
	url_bad("http://exa mple.com/");
	url_bad("http://example.com/\r\nX-Injected: 1");
	url_bad("http://example.com:99999/");
	url_bad("http:///nohost");
	url_bad("http://[fe80::1%25eth0]/");
}

static void
t_url_too_long(void **st)
{
	char u[TG_MCP_URL_MAX + 64];

	(void)st;
	memset(u, 'a', sizeof(u));
	memcpy(u, "https://x.example/", 18);
	u[sizeof(u) - 1] = '\0';
	url_bad(u);
}

static void
cls(const char *a, int want)
{
	int got = tg_mcp_addr_classify_str(a);

	if (got != want)
		fail_msg("%s: got %d (%s), want %d (%s)", a, got,
		    got >= 0 ? tg_mcp_addr_class_name((enum tg_addr_class)got) : "-",
		    want, tg_mcp_addr_class_name((enum tg_addr_class)want));
}

static void
t_classify_v4(void **st)
{
	(void)st;
	cls("8.8.8.8", TG_ADDR_PUBLIC);
	cls("1.1.1.1", TG_ADDR_PUBLIC);
	cls("127.0.0.1", TG_ADDR_LOOPBACK);
	cls("127.255.255.254", TG_ADDR_LOOPBACK);
	cls("10.0.0.1", TG_ADDR_PRIVATE);
	cls("172.16.0.1", TG_ADDR_PRIVATE);
	cls("172.31.255.255", TG_ADDR_PRIVATE);
	cls("172.32.0.1", TG_ADDR_PUBLIC);
	cls("172.15.255.255", TG_ADDR_PUBLIC);
	cls("192.168.1.1", TG_ADDR_PRIVATE);
	cls("100.64.0.1", TG_ADDR_PRIVATE);
	cls("100.128.0.1", TG_ADDR_PUBLIC);
	cls("169.254.1.1", TG_ADDR_LINKLOCAL);
	cls("169.254.169.254", TG_ADDR_METADATA);
	cls("100.100.100.200", TG_ADDR_METADATA);
	cls("0.0.0.0", TG_ADDR_RESERVED);
	cls("0.1.2.3", TG_ADDR_RESERVED);
	cls("192.0.2.10", TG_ADDR_RESERVED);
	cls("198.18.0.1", TG_ADDR_RESERVED);
	cls("203.0.113.5", TG_ADDR_RESERVED);
	cls("224.0.0.1", TG_ADDR_MULTICAST);
	cls("255.255.255.255", TG_ADDR_MULTICAST);
	cls("240.0.0.1", TG_ADDR_RESERVED);
	cls("not-an-ip", -1);
	cls("localhost", -1);
	cls("2130706433", -1);	/* decimal 127.0.0.1 is a host name to us */
}

static void
t_classify_v6(void **st)
{
	(void)st;
	cls("2606:4700:4700::1111", TG_ADDR_PUBLIC);
	cls("::1", TG_ADDR_LOOPBACK);
	cls("::", TG_ADDR_RESERVED);
	cls("fe80::1", TG_ADDR_LINKLOCAL);
	cls("febf::1", TG_ADDR_LINKLOCAL);
	cls("fec0::1", TG_ADDR_PRIVATE);
	cls("fc00::1", TG_ADDR_PRIVATE);
	cls("fd12:3456::1", TG_ADDR_PRIVATE);
	cls("fd00:ec2::254", TG_ADDR_METADATA);
	cls("ff02::1", TG_ADDR_MULTICAST);
	cls("2001:db8::1", TG_ADDR_RESERVED);
	cls("2001:0:4136:e378::1", TG_ADDR_RESERVED);	/* Teredo */
	/* IPv4 inside IPv6 is judged by the IPv4 address */
	cls("::ffff:127.0.0.1", TG_ADDR_LOOPBACK);
	cls("::ffff:7f00:1", TG_ADDR_LOOPBACK);
	cls("::ffff:10.1.2.3", TG_ADDR_PRIVATE);
	cls("::ffff:169.254.169.254", TG_ADDR_METADATA);
	cls("::ffff:8.8.8.8", TG_ADDR_PUBLIC);
	cls("64:ff9b::a9fe:a9fe", TG_ADDR_METADATA);
	cls("64:ff9b::7f00:1", TG_ADDR_LOOPBACK);
	cls("64:ff9b::808:808", TG_ADDR_PUBLIC);
	cls("2002:7f00:1::", TG_ADDR_LOOPBACK);		/* 6to4 of 127.0.0.1 */
	cls("2002:c0a8:101::1", TG_ADDR_PRIVATE);	/* 6to4 of 192.168.1.1 */
	cls("::127.0.0.1", TG_ADDR_RESERVED);		/* v4-compatible */
}

static void
t_classify_sockaddr(void **st)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	struct sockaddr un;

	(void)st;
	memset(&in4, 0, sizeof(in4));
	in4.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "10.9.8.7", &in4.sin_addr), 1);
	assert_int_equal(tg_mcp_addr_classify((struct sockaddr *)&in4), TG_ADDR_PRIVATE);
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.168.0.1", &in6.sin6_addr), 1);
	assert_int_equal(tg_mcp_addr_classify((struct sockaddr *)&in6), TG_ADDR_PRIVATE);
	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNIX;
	assert_int_equal(tg_mcp_addr_classify(&un), TG_ADDR_RESERVED);
	assert_int_equal(tg_mcp_addr_classify(NULL), TG_ADDR_RESERVED);
}

static void
t_policy(void **st)
{
	(void)st;
	assert_true(tg_mcp_addr_allowed(TG_ADDR_PUBLIC, 0));
	assert_true(tg_mcp_addr_allowed(TG_ADDR_PUBLIC, 1));
	assert_false(tg_mcp_addr_allowed(TG_ADDR_LOOPBACK, 0));
	assert_true(tg_mcp_addr_allowed(TG_ADDR_LOOPBACK, 1));
	assert_false(tg_mcp_addr_allowed(TG_ADDR_PRIVATE, 0));
	assert_true(tg_mcp_addr_allowed(TG_ADDR_PRIVATE, 1));
	assert_false(tg_mcp_addr_allowed(TG_ADDR_LINKLOCAL, 0));
	assert_true(tg_mcp_addr_allowed(TG_ADDR_LINKLOCAL, 1));
	/* never, even for internal sources */
	assert_false(tg_mcp_addr_allowed(TG_ADDR_METADATA, 1));
	assert_false(tg_mcp_addr_allowed(TG_ADDR_RESERVED, 1));
	assert_false(tg_mcp_addr_allowed(TG_ADDR_MULTICAST, 1));
}

/* --- SSE --- */

struct ev {
	int n;
	char event[8][32];
	char data[8][256];
	int stop_after;
};

static int
collect(void *ctx, const char *event, const char *data, size_t len)
{
	struct ev *e = ctx;

	assert_true(e->n < 8);
	assert_int_equal(strlen(data), len);
	snprintf(e->event[e->n], sizeof(e->event[0]), "%s", event);
	snprintf(e->data[e->n], sizeof(e->data[0]), "%s", data);
	e->n++;
	return e->stop_after && e->n >= e->stop_after ? 1 : 0;
}

static void
feed_chunks(const char *s, size_t chunk, struct ev *e, size_t max, int want_rc)
{
	struct tg_sse p;
	size_t n = strlen(s), i;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	tg_sse_init(&p, max);
	for (i = 0; i < n && rc == 0; i += chunk)
		rc = tg_sse_feed(&p, s + i, n - i < chunk ? n - i : chunk, collect, e);
	assert_int_equal(rc, want_rc);
	tg_sse_free(&p);
}

static void
t_sse_basic(void **st)
{
	static const char *const streams[] = {
		"event: message\ndata: {\"a\":1}\n\n: comment\ndata: x\ndata: y\n\n",
		"event: message\r\ndata: {\"a\":1}\r\n\r\n: comment\r\ndata: x\r\ndata: y\r\n\r\n",
		"event: message\rdata: {\"a\":1}\r\r: comment\rdata: x\rdata: y\r\r",
	};
	struct ev e;
	size_t s, chunk;

	(void)st;
	for (s = 0; s < 3; s++)
		for (chunk = 1; chunk <= strlen(streams[s]); chunk++) {
			feed_chunks(streams[s], chunk, &e, 0, 0);
			assert_int_equal(e.n, 2);
			assert_string_equal(e.event[0], "message");
			assert_string_equal(e.data[0], "{\"a\":1}");
			assert_string_equal(e.event[1], "");
			assert_string_equal(e.data[1], "x\ny");
		}
}

static void
t_sse_fields(void **st)
{
	struct ev e;

	(void)st;
	/* no space after the colon, id/retry ignored, event without data is
	 * not dispatched, an unterminated last event is not dispatched */
	feed_chunks("id: 7\nretry: 100\nevent: ping\n\ndata:raw\n\ndata: tail", 3, &e, 0, 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.data[0], "raw");
	assert_string_equal(e.event[0], "");
	/* "data" with no colon is an empty data line */
	feed_chunks("data\n\n", 1, &e, 0, 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.data[0], "");
}

static void
t_sse_stop_and_cap(void **st)
{
	struct ev e;
	char big[600];

	(void)st;
	memset(&e, 0, sizeof(e));
	e.stop_after = 1;
	{
		struct tg_sse p;

		tg_sse_init(&p, 0);
		assert_int_equal(tg_sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18, collect, &e), 1);
		assert_int_equal(e.n, 1);
		tg_sse_free(&p);
	}
	/* one huge line without a newline hits the cap */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "data: ", 6);
	feed_chunks(big, 64, &e, 256, -TG_E_TOOLARGE);
}

TG_TEST_MAIN("mcp_client", NULL, NULL, t_urls, t_url_too_long, t_classify_v4,
    t_classify_v6, t_classify_sockaddr, t_policy, t_sse_basic, t_sse_fields,
    t_sse_stop_and_cap)
