/*
 * stream.c - the stream process (see stream.h and docs/architecture.md
 * "Streams").
 *
 * One thread, one epoll set: the listening socket (nginx connects here
 * after a worker's X-Accel-Redirect), a signalfd (SIGTERM/SIGINT: close
 * every stream and exit), the socket of the LISTEN connection to
 * PostgreSQL (lib/stream_db.h), and the streams. nginx speaks HTTP/1.0 to
 * us: one request line with the ticket (lib/stream_ticket.h), headers
 * (Last-Event-ID is the only one read), no body; we answer with a
 * close-delimited text/event-stream and never read again except to notice
 * the close.
 *
 * Events:
 *   - "catalog" notifications (or any epoch move of lib/inval.h) schedule
 *     one recomputation TOOLGATE_STREAM_COALESCE_MS later: the digest of
 *     what tools/list shows each role (lib/mcp_catalog.c); every stream
 *     whose last known digest differs gets one
 *     notifications/tools/list_changed. A burst inside the window is one
 *     recomputation, hence one notification; a change no role can see
 *     (a draft edited, a server renamed) is none.
 *   - "auth" and "session" notifications (and every 30 s) re-check the
 *     credentials and sessions of the open streams in one statement each;
 *     a stream whose credential would no longer be admitted with the same
 *     role, whose JWT expired, or whose session is gone is closed.
 *   - every TOOLGATE_STREAM_HEARTBEAT_S an SSE comment on every stream.
 *
 * Memory per stream: one struct sconn (under 600 bytes) and, only while a
 * write is partial, its pending bytes (a stream whose pending output
 * passes TG_STREAM_OUT_MAX is closed: the client does not read).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/response.h" /* TG_CORS_EXPOSE_HEADERS */
#include "fcgi/stream.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/inval.h"
#include "lib/log.h"
#include "lib/obs.h"
#include "lib/status.h"
#include "lib/stream_db.h"
#include "lib/stream_ticket.h"

#define TG_STREAM_IN_MAX 8192 /* the request head from nginx */
#define TG_STREAM_OUT_MAX 16384 /* pending output of one stream */
#define TG_STREAM_HANDSHAKE_MS 5000
#define TG_STREAM_RECHECK_MS 30000 /* sessions and credentials, at least */
#define TG_STREAM_RETRY_MS 1000 /* after a failed statement */
#define TG_STREAM_RETRY_FIELD 3000 /* the SSE retry: we send */
#define KNOWN_LEN 16 /* digest bytes in an event id */
#define TG_STREAM_HEADS_MAX 256 /* connections still sending their head */
#define TG_STREAM_FD_SPARE 32 /* descriptors kept for everything else */
#define TG_STREAM_DB_BACKOFF_MAX 30000 /* between reconnect attempts */
#define TG_STREAM_CORS_MAX 512 /* the CORS header lines */

enum { S_HEAD,
	S_LIVE };

struct sconn {
	int fd;
	int state;
	int era; /* enum tg_ticket_era */
	enum tg_role role;
	int tools; /* 2026: toolsListChanged honoured */
	int have_known;
	unsigned char known[KNOWN_LEN]; /* digest the client last heard of */
	int64_t user_id, api_key_id, iat, exp;
	char jti[40];
	char session[65];
	uint64_t pkey; /* principal, for the limit */
	uint64_t sid;
	uint32_t seq;
	int64_t deadline_ms; /* S_HEAD: the request must be in */
	char *in; /* S_HEAD: the request head */
	size_t in_len;
	char *out; /* pending output (NULL: none) */
	size_t out_len, out_off;
	char *listen_id; /* 2026: the request id, JSON text */
	struct sconn *prev, *next;
};

static struct {
	const struct tg_config *cfg;
	int ep, lfd, sigfd, dbfd;
	struct tg_db *db;
	struct sconn *head; /* every connection */
	size_t live, heads;
	uint64_t next_sid;
	uint64_t epoch[TG_INV_N];
	int have_digest;
	unsigned char digest[TG_STREAM_ROLES][TG_STREAM_DIGEST_LEN];
	int64_t recompute_at; /* 0: none due */
	int64_t recheck_creds_at, recheck_sessions_at;
	int64_t next_heartbeat, next_periodic, next_scan;
	int64_t notice_ms; /* when the change of the due recompute arrived */
	int64_t max_streams; /* TOOLGATE_STREAMS_MAX, within the fd limit */
	int spare_fd; /* reserved: accept and refuse when out of fds */
	int64_t accept_paused_until; /* out of fds without a spare */
	int64_t refuse_logged_ms; /* refuse_fd's last log line */
	uint64_t refused_quiet; /* refusals since, not logged */
	int db_up; /* the LISTEN connection is up */
	int db_reported; /* tg_obs_stream_db told since the start */
	int64_t db_retry_at, db_backoff_ms;
	int stopping;
} S;

/* The security headers of fcgi/response.c; Cache-Control: no-store comes
 * from the worker's X-Accel-Redirect response (nginx keeps it). */
static const char sec_headers[] =
    "X-Accel-Buffering: no\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Connection: close\r\n";

/* --- master side ------------------------------------------------------- */

int
tg_stream_listen(const struct tg_config *cfg)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, n;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg->stream_socket);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	/* a name left by a master that is gone (the pid-file lock and the
	 * FastCGI socket check already refused a live one) */
	(void)unlink(cfg->stream_socket);
	old = umask(0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		umask(old);
		tg_log(TG_LOG_WARN, "stream.listen", "path=%s errno=%d",
		    tg_log_q(cfg->stream_socket), errno);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(cfg->stream_socket, 0666) != 0)
		tg_log(TG_LOG_WARN, "stream.socket_mode", "errno=%d", errno);
	return fd;
}

static int stream_run(const struct tg_config *cfg, int lfd);

pid_t
tg_stream_spawn(const struct tg_config *cfg, int lfd)
{
	char name[17] = "";
	pid_t pid;

	/* named from birth (the child inherits it): nothing that looks at
	 * the master's children ever takes it for a worker */
	(void)prctl(PR_GET_NAME, name);
	(void)prctl(PR_SET_NAME, "toolgate-strm");
	pid = fork();
	if (pid == 0)
		_exit(stream_run(cfg, lfd));
	(void)prctl(PR_SET_NAME, name);
	if (pid < 0)
		tg_log(TG_LOG_ERR, "stream.fork", "errno=%d", errno);
	return pid;
}

/* --- connections ------------------------------------------------------- */

static void
conn_free(struct sconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		S.head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->state == S_LIVE) {
		S.live--;
		tg_obs_stream_live(S.live);
	} else
		S.heads--;
	(void)epoll_ctl(S.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c->listen_id);
	free(c);
}

static void
conn_close(struct sconn *c, enum tg_obs_stream_end why)
{
	if (c->state == S_LIVE) {
		tg_log(TG_LOG_DEBUG, "stream.close", "sid=%llu reason=%s",
		    (unsigned long long)c->sid, tg_obs_stream_end_name(why));
		tg_obs_stream_closed(why);
	}
	conn_free(c);
}

/* Closes c after a failed emit (rc -2: the client does not read). */
static void
conn_lost(struct sconn *c, int rc)
{
	conn_close(c, rc == -2 ? TG_OBS_STREAM_SLOW_CLIENT : TG_OBS_STREAM_WRITE_FAILED);
}

static void
want_out(struct sconn *c, int on)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	(void)epoll_ctl(S.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is pending; -1 when the connection is gone. */
static int
flush_out(struct sconn *c)
{
	ssize_t w;

	while (c->out != NULL && c->out_off < c->out_len) {
		w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want_out(c, 1);
			return 0;
		}
		if (w <= 0)
			return -1;
		c->out_off += (size_t)w;
	}
	if (c->out != NULL) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		want_out(c, 0);
	}
	return 0;
}

/* Queues n bytes (written at once when the socket takes them); -1 when
 * the stream must be closed because it is gone, -2 because it is too far
 * behind (TG_STREAM_OUT_MAX pending: a client that does not read). */
static int
emit(struct sconn *c, const char *data, size_t n)
{
	ssize_t w = 0;
	char *p;

	if (c->out == NULL) {
		do
			w = send(c->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (w < 0)
			w = 0;
		if ((size_t)w == n)
			return 0;
		data += w;
		n -= (size_t)w;
	}
	if (c->out_len - c->out_off + n > TG_STREAM_OUT_MAX)
		return -2;
	if ((p = realloc(c->out, c->out_len + n)) == NULL)
		return -1;
	memcpy(p + c->out_len, data, n);
	c->out = p;
	c->out_len += n;
	want_out(c, 1);
	return 0;
}

/* A problem document on fd, best effort (the connection closes after it):
 * the one writer of both refusals below. */
static void
send_problem(int fd, int status, const char *reason, const char *type,
    int retry_after, const char *detail, const char *cors)
{
	char body[512], head[1536], ra[32] = "";
	int bn, hn;

	bn = snprintf(body, sizeof(body),
	    "{\"type\":\"urn:toolgate:problem:%s\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}\n",
	    type, reason, status, detail);
	if (bn < 0 || (size_t)bn >= sizeof(body))
		bn = 0;
	if (retry_after > 0)
		snprintf(ra, sizeof(ra), "Retry-After: %d\r\n", retry_after);
	hn = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\n%s%s%sContent-Length: %d\r\n\r\n",
	    status, reason, sec_headers, cors ? cors : "", ra, bn);
	if (hn > 0 && (size_t)hn < sizeof(head))
		(void)send(fd, head, (size_t)hn, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (bn > 0)
		(void)send(fd, body, (size_t)bn, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A refusal with a problem document; the connection closes after it. */
static void
refuse(struct sconn *c, int status, const char *reason, const char *type,
    int retry_after, const char *detail, enum tg_obs_stream_refusal why,
    const char *cors)
{
	tg_obs_stream_refused(why);
	tg_log(TG_LOG_INFO, "stream.refused", "status=%d reason=%s", status, tg_log_q(detail));
	send_problem(c->fd, status, reason, type, retry_after, detail, cors);
	conn_free(c);
}

/* The 32 hex digits of a digest prefix into out (33 bytes). */
static void
known_hex(const unsigned char *k, char *out)
{
	(void)tg_crypto_hex(k, KNOWN_LEN, out, 2 * KNOWN_LEN + 1);
}

/* notifications/tools/list_changed on c, with an id that names the
 * digest now known (Last-Event-ID resumes from it). */
static int
send_changed(struct sconn *c, const unsigned char *digest)
{
	char buf[600], hex[2 * KNOWN_LEN + 1];
	int n;

	memcpy(c->known, digest, KNOWN_LEN);
	c->have_known = 1;
	known_hex(c->known, hex);
	if (c->era == TG_TICKET_2026)
		n = snprintf(buf, sizeof(buf),
		    "event: message\nid: %s-%llx-%x\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":%s}}}\n\n",
		    hex, (unsigned long long)c->sid, ++c->seq, c->listen_id);
	else
		n = snprintf(buf, sizeof(buf),
		    "event: message\nid: %s-%llx-%x\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n",
		    hex, (unsigned long long)c->sid, ++c->seq);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return emit(c, buf, (size_t)n);
}

/* A principal, for the per-principal limit: the API key, else the
 * user, else the client's address. */
static uint64_t
principal_key(const struct tg_ticket *t)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	if (t->api_key_id > 0)
		return ((uint64_t)1 << 62) | (uint64_t)t->api_key_id;
	if (t->user_id > 0)
		return ((uint64_t)2 << 62) | (uint64_t)t->user_id;
	for (p = t->peer; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return ((uint64_t)3 << 62) | (h >> 2);
}

/* The value of header name in the request head (NUL-terminated), or
 * NULL; copied into out (cap). */
static const char *
header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), n;
	const char *p = strstr(head, "\r\n"), *e;

	while (p != NULL && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			if ((e = strstr(p, "\r\n")) == NULL)
				return NULL;
			n = (size_t)(e - p);
			if (n >= cap)
				return NULL;
			memcpy(out, p, n);
			out[n] = '\0';
			return out;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/* Last-Event-ID of one of our events: the digest prefix it names. */
static int
parse_known(const char *id, unsigned char *out)
{
	unsigned v;
	int i;

	for (i = 0; i < KNOWN_LEN; i++) {
		if (sscanf(id + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdef", id[2 * i]) ||
		    !strchr("0123456789abcdef", id[2 * i + 1]))
			return -1;
		out[i] = (unsigned char)v;
	}
	return id[2 * KNOWN_LEN] == '-' ? 0 : -1;
}

/*
 * The CORS lines for the request's Origin, as fcgi/response.c writes them
 * for POST /mcp: Access-Control-Allow-Origin and -Expose-Headers when
 * TOOLGATE_ALLOWED_ORIGINS admits it (the worker refused any other Origin
 * with 403 before the hand-over; nginx drops the worker's own headers at
 * the X-Accel-Redirect), and Vary: Origin whenever there is one.
 */
static void
cors_lines(const char *head, char *out, size_t cap)
{
	char origin[TG_STREAM_CORS_MAX - 160];
	const char *o = header(head, "Origin", origin, sizeof(origin));
	size_t i;
	int n, ok;

	out[0] = '\0';
	if (o == NULL && strcasestr(head, "\r\norigin:") == NULL)
		return;
	ok = o != NULL && tg_config_origin_allowed(S.cfg, o);
	for (i = 0; ok && o[i]; i++)
		if ((unsigned char)o[i] < 0x20 || o[i] == 0x7f)
			ok = 0;
	if (ok)
		n = snprintf(out, cap, "Access-Control-Allow-Origin: %s\r\n"
				       "Access-Control-Expose-Headers: " TG_CORS_EXPOSE_HEADERS "\r\n"
				       "Vary: Origin\r\n",
		    o);
	else
		n = snprintf(out, cap, "Vary: Origin\r\n");
	if (n < 0 || (size_t)n >= cap)
		out[0] = '\0';
}

/* The request head is in: verify, admit, answer. */
static void
admit(struct sconn *c)
{
	char *line_end, *q, *sp, lei[128], buf[900 + TG_STREAM_CORS_MAX];
	char cors[TG_STREAM_CORS_MAX];
	struct tg_ticket t;
	const char *why = NULL;
	struct timespec ts;
	struct sconn *o;
	size_t same = 0;
	int n, rc;

	cors_lines(c->in, cors, sizeof(cors));
	line_end = strstr(c->in, "\r\n");
	q = strstr(c->in, TG_TICKET_PATH "?t=");
	if (line_end == NULL || q == NULL || q > line_end) {
		refuse(c, 400, "Bad Request", "bad_request", 0, "not a stream request",
		    TG_OBS_REFUSED_BAD_REQUEST, cors);
		return;
	}
	q += strlen(TG_TICKET_PATH "?t=");
	for (sp = q; sp < line_end && *sp != ' ' && *sp != '&'; sp++)
		;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (tg_ticket_verify(q, (size_t)(sp - q),
		(int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &t, &why) != TG_OK) {
		refuse(c, 403, "Forbidden", "forbidden", 0, why ? why : "bad ticket",
		    TG_OBS_REFUSED_BAD_TICKET, cors);
		return;
	}
	if (S.stopping) {
		refuse(c, 503, "Service Unavailable", "unavailable", 2,
		    "the stream process is shutting down; reconnect",
		    TG_OBS_REFUSED_UNAVAILABLE, cors);
		return;
	}
	if ((int64_t)S.live >= S.max_streams) {
		refuse(c, 503, "Service Unavailable", "too_many_streams", 5,
		    S.max_streams < S.cfg->streams_max ?
			"this host holds as many streams as its descriptor limit allows; retry later" :
			"this host holds TOOLGATE_STREAMS_MAX streams already; retry later",
		    TG_OBS_REFUSED_TOTAL, cors);
		return;
	}
	c->pkey = principal_key(&t);
	for (o = S.head; o != NULL; o = o->next)
		if (o->state == S_LIVE && o->pkey == c->pkey)
			same++;
	if ((int64_t)same >= S.cfg->streams_per_principal) {
		refuse(c, 429, "Too Many Requests", "too_many_streams", 5,
		    "this caller has TOOLGATE_STREAMS_PER_PRINCIPAL streams open on this host already; close one first",
		    TG_OBS_REFUSED_PER_PRINCIPAL, cors);
		return;
	}
	c->era = t.era;
	c->role = t.role;
	c->tools = t.era == TG_TICKET_2025 || t.tools;
	c->user_id = t.user_id;
	c->api_key_id = t.api_key_id;
	c->iat = t.iat;
	c->exp = t.exp;
	memcpy(c->jti, t.jti, sizeof(c->jti));
	memcpy(c->session, t.session, sizeof(c->session));
	if (t.era == TG_TICKET_2026 && (c->listen_id = strdup(t.listen_id)) == NULL) {
		refuse(c, 503, "Service Unavailable", "unavailable", 1, "out of memory",
		    TG_OBS_REFUSED_UNAVAILABLE, cors);
		return;
	}
	/* Resumption: a client that last heard of another list than the
	 * current one missed a change; it hears of it at once. */
	if (header(c->in, "Last-Event-ID", lei, sizeof(lei)) != NULL &&
	    parse_known(lei, c->known) == 0)
		c->have_known = 1;
	else if (S.have_digest) {
		memcpy(c->known, S.digest[c->role], KNOWN_LEN);
		c->have_known = 1;
	}
	free(c->in);
	c->in = NULL;
	c->state = S_LIVE;
	S.heads--;
	S.live++;
	c->sid = ++S.next_sid;
	tg_obs_stream_opened();
	tg_obs_stream_live(S.live);
	n = snprintf(buf, sizeof(buf),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%s%s\r\nretry: %d\n\n",
	    sec_headers, cors, TG_STREAM_RETRY_FIELD);
	if (n < 0 || (size_t)n >= sizeof(buf) || emit(c, buf, (size_t)n) != 0) {
		conn_close(c, TG_OBS_STREAM_WRITE_FAILED);
		return;
	}
	if (c->era == TG_TICKET_2026) {
		n = snprintf(buf, sizeof(buf),
		    "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/subscriptions/acknowledged\",\"params\":{\"notifications\":{%s},\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":%s}}}\n\n",
		    c->tools ? "\"toolsListChanged\":true" : "", c->listen_id);
		if (n < 0 || (size_t)n >= sizeof(buf) || emit(c, buf, (size_t)n) != 0) {
			conn_close(c, TG_OBS_STREAM_WRITE_FAILED);
			return;
		}
	}
	tg_log(TG_LOG_DEBUG, "stream.open", "sid=%llu era=%d role=%d streams=%zu",
	    (unsigned long long)c->sid, c->era, (int)c->role, S.live);
	if (c->tools && S.have_digest && c->have_known &&
	    memcmp(c->known, S.digest[c->role], KNOWN_LEN) != 0 &&
	    (rc = send_changed(c, S.digest[c->role])) != 0)
		conn_lost(c, rc);
}

/* A 503 on a connection that has no struct sconn (yet); closes fd. */
static void
refuse_fd(int fd, const char *detail)
{
	send_problem(fd, 503, "Service Unavailable", "too_many_streams", 5,
	    detail, NULL);
	close(fd);
	tg_obs_stream_refused(TG_OBS_REFUSED_TOTAL);
	/* at most one line a second: this happens in floods */
	if (tg_now_ms() - S.refuse_logged_ms >= 1000) {
		tg_log(TG_LOG_WARN, "stream.refused",
		    "status=503 reason=%s streams=%zu heads=%zu since_last_line=%llu",
		    tg_log_q(detail), S.live, S.heads, (unsigned long long)S.refused_quiet + 1);
		S.refuse_logged_ms = tg_now_ms();
		S.refused_quiet = 0;
	} else
		S.refused_quiet++;
}

/*
 * Out of descriptors: the spare one makes room to accept the waiting
 * connection and refuse it (503) instead of leaving it in the backlog,
 * where it would wake the loop again and again. Without a spare, the
 * listening socket leaves the epoll set for a second.
 */
static void
out_of_fds(int64_t now)
{
	int fd;

	if (S.spare_fd >= 0) {
		close(S.spare_fd);
		S.spare_fd = -1;
		if ((fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
			refuse_fd(fd, "no descriptor left on this host; retry later");
		S.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (S.spare_fd >= 0)
			return;
	}
	if (S.accept_paused_until == 0) {
		(void)epoll_ctl(S.ep, EPOLL_CTL_DEL, S.lfd, NULL);
		tg_log(TG_LOG_WARN, "stream.accept_paused", "errno=%d streams=%zu", errno, S.live);
	}
	S.accept_paused_until = now + 1000;
}

static void
on_accept(void)
{
	struct epoll_event ev;
	struct sconn *c;
	int fd;

	for (;;) {
		fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				out_of_fds(tg_now_ms());
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				tg_log(TG_LOG_WARN, "stream.accept", "errno=%d", errno);
			return;
		}
		/* only nginx connects, and sends its head at once: this many
		 * silent connections are someone else's (the socket is 0666) */
		if (S.heads >= TG_STREAM_HEADS_MAX) {
			refuse_fd(fd, "too many connections are opening; retry later");
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			refuse_fd(fd, "out of memory on this host; retry later");
			continue;
		}
		c->fd = fd;
		c->state = S_HEAD;
		c->deadline_ms = tg_now_ms() + TG_STREAM_HANDSHAKE_MS;
		c->next = S.head;
		if (S.head)
			S.head->prev = c;
		S.head = c;
		S.heads++;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			conn_free(c);
	}
}

static void
on_conn(struct sconn *c, uint32_t events)
{
	char sink[512];
	ssize_t r;

	if (c->state == S_HEAD && (events & EPOLLIN)) {
		if (c->in == NULL && (c->in = malloc(TG_STREAM_IN_MAX)) == NULL) {
			conn_free(c);
			return;
		}
		r = recv(c->fd, c->in + c->in_len, TG_STREAM_IN_MAX - 1 - c->in_len, 0);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			conn_free(c);
			return;
		}
		c->in_len += (size_t)r;
		c->in[c->in_len] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL)
			admit(c);
		else if (c->in_len >= TG_STREAM_IN_MAX - 1)
			refuse(c, 431, "Request Header Fields Too Large", "bad_request", 0,
			    "request head too large", TG_OBS_REFUSED_BAD_REQUEST, NULL);
		return;
	}
	if (c->state == S_LIVE && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		/* nginx sends nothing after the head: data or EOF means the
		 * client went away (or nginx timed out). */
		r = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
		    (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
			conn_close(c, TG_OBS_STREAM_CLIENT_GONE);
			return;
		}
	}
	if (c->state == S_LIVE && (events & EPOLLOUT) && flush_out(c) != 0)
		conn_close(c, TG_OBS_STREAM_WRITE_FAILED);
}

/* --- events -------------------------------------------------------------- */

/* Recomputes the digests; notifies the streams of every role whose list
 * changed. */
static void
recompute(int64_t now)
{
	unsigned char d[TG_STREAM_ROLES][TG_STREAM_DIGEST_LEN];
	int64_t notice;
	struct sconn *c, *next;
	size_t sent = 0;
	int rc;

	S.recompute_at = 0;
	if ((rc = tg_stream_db_digests(S.db, S.cfg, d)) != TG_OK) {
		tg_log(TG_LOG_WARN, "stream.digest", "status=%s", tg_status_name(rc));
		S.recompute_at = now + TG_STREAM_RETRY_MS;
		return;
	}
	notice = S.notice_ms ? S.notice_ms : now;
	S.notice_ms = 0;
	memcpy(S.digest, d, sizeof(d));
	S.have_digest = 1;
	for (c = S.head; c != NULL; c = next) {
		next = c->next;
		if (c->state != S_LIVE || !c->tools)
			continue;
		if (!c->have_known) { /* opened while no digest was known */
			memcpy(c->known, d[c->role], KNOWN_LEN);
			c->have_known = 1;
			continue;
		}
		if (memcmp(c->known, d[c->role], KNOWN_LEN) == 0)
			continue;
		if ((rc = send_changed(c, d[c->role])) != 0)
			conn_lost(c, rc);
		else
			sent++;
	}
	if (sent > 0) {
		tg_obs_stream_fanout(sent, (tg_now_ms() - notice) * 1000);
		tg_log(TG_LOG_INFO, "stream.list_changed", "streams=%zu dur_us=%lld since_notify_us=%lld",
		    sent, (long long)(tg_now_ms() - now) * 1000,
		    (long long)(tg_now_ms() - notice) * 1000);
	}
}

static void
recheck_creds(int64_t now)
{
	struct tg_stream_cred *v;
	struct sconn *c, **who;
	size_t i = 0, n = 0;
	int rc;

	S.recheck_creds_at = 0;
	for (c = S.head; c != NULL; c = c->next)
		n += c->state == S_LIVE && c->user_id > 0;
	if (n == 0)
		return;
	v = calloc(n, sizeof(*v));
	who = calloc(n, sizeof(*who));
	if (v == NULL || who == NULL)
		goto retry;
	for (c = S.head; c != NULL; c = c->next) {
		if (c->state != S_LIVE || c->user_id <= 0)
			continue;
		v[i].user_id = c->user_id;
		v[i].api_key_id = c->api_key_id;
		v[i].jti = c->jti;
		v[i].iat = c->iat;
		v[i].role = c->role;
		who[i++] = c;
	}
	if ((rc = tg_stream_db_creds_check(S.db, v, n)) != TG_OK) {
		tg_log(TG_LOG_WARN, "stream.recheck", "what=credentials status=%s",
		    tg_status_name(rc));
		goto retry;
	}
	for (i = 0; i < n; i++) {
		if (v[i].ok)
			continue;
		tg_log(TG_LOG_INFO, "stream.revoked", "sid=%llu user=%lld key=%lld",
		    (unsigned long long)who[i]->sid, (long long)who[i]->user_id,
		    (long long)who[i]->api_key_id);
		conn_close(who[i], TG_OBS_STREAM_REVOKED);
	}
	tg_obs_stream_rechecked();
	free(v);
	free(who);
	return;
retry:
	free(v);
	free(who);
	S.recheck_creds_at = now + TG_STREAM_RETRY_MS;
}

static void
recheck_sessions(int64_t now)
{
	const char **h;
	struct sconn *c, **who;
	size_t i = 0, n = 0;
	int *ok = NULL, rc;

	S.recheck_sessions_at = 0;
	for (c = S.head; c != NULL; c = c->next)
		n += c->state == S_LIVE && c->era == TG_TICKET_2025;
	if (n == 0)
		return;
	h = calloc(n, sizeof(*h));
	who = calloc(n, sizeof(*who));
	ok = calloc(n, sizeof(*ok));
	if (h == NULL || who == NULL || ok == NULL)
		goto retry;
	for (c = S.head; c != NULL; c = c->next)
		if (c->state == S_LIVE && c->era == TG_TICKET_2025) {
			h[i] = c->session;
			who[i++] = c;
		}
	if ((rc = tg_stream_db_sessions_check(S.db, h, n, ok)) != TG_OK) {
		tg_log(TG_LOG_WARN, "stream.recheck", "what=sessions status=%s",
		    tg_status_name(rc));
		goto retry;
	}
	for (i = 0; i < n; i++)
		if (!ok[i])
			conn_close(who[i], TG_OBS_STREAM_SESSION_ENDED);
	free(h);
	free(who);
	free(ok);
	return;
retry:
	free(h);
	free(who);
	free(ok);
	S.recheck_sessions_at = now + TG_STREAM_RETRY_MS;
}

/* Heartbeats, expired tokens, stale request heads. */
static void
tick(int64_t now)
{
	static const char hb[] = ": keep-alive\n\n";
	struct sconn *c, *next;
	time_t wall = time(NULL);
	int beat = now >= S.next_heartbeat, rc;

	if (beat)
		S.next_heartbeat = now + S.cfg->stream_heartbeat_s * 1000;
	for (c = S.head; c != NULL; c = next) {
		next = c->next;
		if (c->state == S_HEAD) {
			if (now > c->deadline_ms)
				conn_free(c);
			continue;
		}
		if (c->exp > 0 && (int64_t)wall >= c->exp) {
			conn_close(c, TG_OBS_STREAM_TOKEN_EXPIRED);
			continue;
		}
		if (beat && c->out == NULL && (rc = emit(c, hb, sizeof(hb) - 1)) != 0)
			conn_lost(c, rc);
	}
}

/* Which epochs moved since we last looked; schedules the work. */
static void
look_at_epochs(int64_t now)
{
	uint64_t e[TG_INV_N];
	int i, moved[TG_INV_N];

	for (i = 0; i < TG_INV_N; i++) {
		e[i] = tg_inval_epoch((enum tg_inval_domain)i);
		moved[i] = e[i] != S.epoch[i];
		S.epoch[i] = e[i];
	}
	if (moved[TG_INV_CATALOG] && S.notice_ms == 0)
		S.notice_ms = now;
	if (moved[TG_INV_CATALOG] && S.recompute_at == 0)
		S.recompute_at = now + S.cfg->stream_coalesce_ms;
	if (moved[TG_INV_AUTH] && S.recheck_creds_at == 0)
		S.recheck_creds_at = now + S.cfg->stream_coalesce_ms;
	if (moved[TG_INV_SESSION] && S.recheck_sessions_at == 0)
		S.recheck_sessions_at = now + S.cfg->stream_coalesce_ms;
}

static int
same_file(int a, int b)
{
	struct stat x, y;

	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
	    x.st_ino == y.st_ino;
}

/*
 * Keeps the database socket in the epoll set. libpq owns its socket and
 * closes it on a reset, so the set holds a duplicate of ours: a closed
 * or replaced connection can never take a stream's registration with
 * it. A broken connection's duplicate goes at once (no busy loop).
 *
 * Reconnects back off (1 s doubling to TG_STREAM_DB_BACKOFF_MAX): a
 * connect blocks the loop up to connect_timeout when PostgreSQL's host
 * does not answer, and the streams must keep their heartbeats. A
 * reconnect moves every lib/inval.h epoch (lib/db.c), so the digests are
 * recomputed and every stream whose list changed meanwhile - while no
 * NOTIFY could reach us - gets its list_changed; credentials and sessions
 * are re-checked.
 */
static void
watch_db(int64_t now)
{
	struct epoll_event ev;
	int fd = tg_stream_db_fd(S.db);

	if (fd < 0 && now >= S.db_retry_at) {
		if (tg_stream_db_connect(S.db) == 0)
			fd = tg_stream_db_fd(S.db);
		else {
			S.db_backoff_ms = S.db_backoff_ms == 0 ? TG_STREAM_RETRY_MS :
			    S.db_backoff_ms * 2 > TG_STREAM_DB_BACKOFF_MAX ?
								 TG_STREAM_DB_BACKOFF_MAX :
								 S.db_backoff_ms * 2;
			S.db_retry_at = now + S.db_backoff_ms;
		}
	}
	if ((fd >= 0) != S.db_up || !S.db_reported) {
		S.db_reported = 1; /* down from the start is reported too */
		S.db_up = fd >= 0;
		tg_obs_stream_db(S.db_up);
		if (S.db_up) {
			S.db_backoff_ms = 0;
			tg_log(TG_LOG_INFO, "stream.db_up", "streams=%zu", S.live);
		} else
			tg_log(TG_LOG_WARN, "stream.db_down",
			    "streams=%zu msg=\"streams stay open; reconnecting with backoff\"", S.live);
	}

	if (fd >= 0 && S.dbfd >= 0 && same_file(S.dbfd, fd))
		return;
	if (S.dbfd >= 0)
		close(S.dbfd);
	S.dbfd = -1;
	if (fd < 0 || (S.dbfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &S.dbfd;
	if (epoll_ctl(S.ep, EPOLL_CTL_ADD, S.dbfd, &ev) != 0) {
		close(S.dbfd);
		S.dbfd = -1;
	}
}

/* Graceful close: a 2026 listen stream gets its result (the
 * subscription ended), then every connection closes. */
static void
close_all(void)
{
	char buf[400];
	struct sconn *c;
	int n;

	while ((c = S.head) != NULL) {
		if (c->state == S_LIVE && c->era == TG_TICKET_2026) {
			n = snprintf(buf, sizeof(buf),
			    "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"resultType\":\"complete\",\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":%s}}}\n\n",
			    c->listen_id, c->listen_id);
			(void)flush_out(c);
			if (n > 0 && (size_t)n < sizeof(buf) && c->out == NULL)
				(void)send(c->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		(void)shutdown(c->fd, SHUT_WR);
		conn_close(c, TG_OBS_STREAM_SHUTDOWN);
	}
}

static int64_t
min_due(int64_t a, int64_t b)
{
	return a == 0 ? b : b == 0 ? a :
	    a < b                  ? a :
				     b;
}

static int
stream_run(const struct tg_config *cfg, int lfd)
{
	struct epoll_event evs[256], ev;
	struct signalfd_siginfo si;
	struct rlimit rl;
	sigset_t set;
	int64_t now, due;
	int i, n, timeout;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&S, 0, sizeof(S));
	S.cfg = cfg;
	S.lfd = lfd;
	S.dbfd = -1;
	S.spare_fd = -1;
	tg_obs_stream_live(0); /* a predecessor's streams are gone */
	tg_log(TG_LOG_INFO, "stream.start", "socket=%s max=%lld per_principal=%lld",
	    tg_log_q(cfg->stream_socket), (long long)cfg->streams_max,
	    (long long)cfg->streams_per_principal);
	/* one descriptor per stream: as many as we are allowed, and
	 * TOOLGATE_STREAMS_MAX within them (a clear 503 rather than EMFILE) */
	S.max_streams = cfg->streams_max;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY &&
		    (int64_t)rl.rlim_cur - TG_STREAM_FD_SPARE < S.max_streams) {
			S.max_streams = (int64_t)rl.rlim_cur > 2 * TG_STREAM_FD_SPARE ?
			    (int64_t)rl.rlim_cur - TG_STREAM_FD_SPARE :
			    TG_STREAM_FD_SPARE;
			tg_log(TG_LOG_WARN, "stream.fd_limit",
			    "nofile=%llu streams_max=%lld effective=%lld msg=\"raise the descriptor limit (LimitNOFILE=) to hold TOOLGATE_STREAMS_MAX streams\"",
			    (unsigned long long)rl.rlim_cur, (long long)cfg->streams_max,
			    (long long)S.max_streams);
		}
	}
	S.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((S.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (S.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return 1;
	(void)fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &S.lfd;
	if (epoll_ctl(S.ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
		return 1;
	ev.data.ptr = &S.sigfd;
	if (epoll_ctl(S.ep, EPOLL_CTL_ADD, S.sigfd, &ev) != 0)
		return 1;
	if ((S.db = tg_stream_db_open()) == NULL)
		return 1;
	now = tg_now_ms();
	S.next_heartbeat = now + cfg->stream_heartbeat_s * 1000;
	S.next_periodic = now + TG_STREAM_RECHECK_MS;
	S.recompute_at = now; /* the first digests */
	watch_db(now);
	for (i = 0; i < TG_INV_N; i++)
		S.epoch[i] = tg_inval_epoch((enum tg_inval_domain)i);

	while (!S.stopping) {
		now = tg_now_ms();
		/* database work waits for the connection (watch_db) */
		due = S.db_up ? min_due(S.recompute_at, S.recheck_creds_at) : 0;
		due = S.db_up ? min_due(due, S.recheck_sessions_at) : due;
		due = min_due(due, S.next_heartbeat);
		due = min_due(due, now + 1000); /* epochs, heads, DB reconnect */
		timeout = due > now ? (int)(due - now) : 0;
		n = epoll_wait(S.ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout);
		if (n < 0 && errno != EINTR) {
			tg_log(TG_LOG_ERR, "stream.epoll", "errno=%d", errno);
			break;
		}
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &S.lfd)
				on_accept();
			else if (p == &S.sigfd) {
				while (read(S.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
						S.stopping = 1;
			} else if (p == &S.dbfd) {
				tg_stream_db_poll(S.db);
				watch_db(tg_now_ms());
			} else
				on_conn(p, evs[i].events);
		}
		now = tg_now_ms();
		look_at_epochs(now);
		if (now >= S.next_periodic) {
			S.next_periodic = now + TG_STREAM_RECHECK_MS;
			S.recheck_sessions_at = min_due(S.recheck_sessions_at, now);
			S.recheck_creds_at = min_due(S.recheck_creds_at, now);
		}
		if (S.db_up && S.recompute_at != 0 && now >= S.recompute_at)
			recompute(now);
		if (S.db_up && S.recheck_creds_at != 0 && now >= S.recheck_creds_at)
			recheck_creds(now);
		if (S.db_up && S.recheck_sessions_at != 0 && now >= S.recheck_sessions_at)
			recheck_sessions(now);
		if (S.accept_paused_until != 0 && now >= S.accept_paused_until) {
			S.accept_paused_until = 0;
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			ev.data.ptr = &S.lfd;
			(void)epoll_ctl(S.ep, EPOLL_CTL_ADD, S.lfd, &ev);
		}
		/* every stream is looked at once a second (heartbeats, token
		 * expiry, request heads), not on every wake-up */
		if (now >= S.next_scan || now >= S.next_heartbeat) {
			S.next_scan = now + 1000;
			tick(now);
		}
		watch_db(now);
	}
	close(S.lfd);
	tg_log(TG_LOG_INFO, "stream.stop", "streams=%zu", S.live);
	close_all();
	if (S.spare_fd >= 0)
		close(S.spare_fd);
	tg_db_close(S.db);
	return 0;
}
