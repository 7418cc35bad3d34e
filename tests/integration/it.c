/*
 * it.c - integration test helpers (see it.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/integration/it.h"

size_t
it_sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct it_sink *s = ud;
	size_t n = size * nmemb;
	char *np = realloc(s->p, s->len + n + 1);

	if (np == NULL)
		return 0;
	memcpy(np + s->len, ptr, n);
	s->len += n;
	np[s->len] = '\0';
	s->p = np;
	return n;
}

CURL *
it_curl(const char *path, struct curl_slist *h, const char *body,
    curl_write_callback write, void *ud)
{
	CURL *c = curl_easy_init();
	char url[4096];

	assert_non_null(c);
	snprintf(url, sizeof(url), "%s%s", it_base(), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ud);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}

const char *
it_base(void)
{
	const char *b = getenv("TG_BASE_URL");
	return b ? b : "http://127.0.0.1:18080";
}

const char *
it_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("environment variable %s is not set (run through tests/run.sh)", name);
	return v;
}

int
it_request(const char *method, const char *path, const char *const *headers,
    const char *body, size_t len, struct it_resp *out)
{
	CURL *c;
	struct curl_slist *hl = NULL;
	struct it_sink b = {0}, h = {0};
	char url[4096];
	CURLcode cc;
	int i;

	memset(out, 0, sizeof(*out));
	c = curl_easy_init();
	if (c == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s", it_base(), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	for (i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it_sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, it_sink_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		out->body = b.p ? b.p : strdup("");
		out->len = b.len;
		out->headers = h.p ? h.p : strdup("");
		if (out->len > 0)
			out->json = json_loadb(out->body, out->len, 0, NULL);
	} else {
		free(b.p);
		free(h.p);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return cc == CURLE_OK ? 0 : -1;
}

int
it_json(const char *method, const char *path, const char *token,
    const char *body, struct it_resp *out)
{
	char auth[4200];
	const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};

	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs[1] = auth;
	}
	return it_request(method, path, hdrs, body, body ? strlen(body) : 0, out);
}

int
it_get(const char *method, const char *path, const char *token, struct it_resp *out)
{
	char auth[4200];
	const char *hdrs[2] = {NULL, NULL};

	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs[0] = auth;
	}
	return it_request(method, path, hdrs, NULL, 0, out);
}

const char *
it_header(const struct it_resp *r, const char *name)
{
	static char val[4][1024];
	static int slot;
	const char *p, *eol;
	size_t nl = strlen(name);
	char *out;

	if (r->headers == NULL)
		return NULL;
	/* Only the last header block (after redirects / 100s). */
	for (p = r->headers; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t n;
			while (*v == ' ')
				v++;
			n = eol ? (size_t)(eol - v) : strlen(v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			out = val[slot];
			slot = (slot + 1) % 4;
			if (n >= sizeof(val[0]))
				n = sizeof(val[0]) - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
	}
	return NULL;
}

long
it_hstatus(const char *method, const char *path, const char *const *headers)
{
	struct it_resp r;
	long st = 0;

	if (it_request(method, path, headers, NULL, 0, &r) == 0) {
		st = r.status;
		if (st >= 500)
			fprintf(stderr, "%s %s -> %ld %s\n", method, path, st, r.body);
		it_resp_free(&r);
	}
	return st;
}

void
it_resp_free(struct it_resp *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

double
it_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
it_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == -1 ? -1 : (rc >> 8) & 0xff;
}

double
it_metric(const char *name)
{
	struct it_resp r;
	const char *p;
	double v = -1;
	size_t n = strlen(name);

	assert_int_equal(it_get("GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	for (p = r.body; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	it_resp_free(&r);
	return v;
}

int
it_wait_status(const char *path, long want, int timeout_ms)
{
	struct it_resp r;
	int waited = 0;

	while (waited <= timeout_ms) {
		if (it_get("GET", path, NULL, &r) == 0) {
			long st = r.status;
			it_resp_free(&r);
			if (st == want)
				return 0;
		}
		usleep(100 * 1000);
		waited += 100;
	}
	return -1;
}

int
it_login_full(const char *user, const char *pass, char *token_out, size_t cap,
    char *refresh_out, size_t rcap)
{
	struct it_resp r;
	json_t *body;
	char *txt;
	const char *a = NULL, *rt = NULL;
	int rc = -1;

	body = json_pack("{s:s, s:s}", "username", user, "password", pass);
	txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (txt == NULL)
		return -1;
	if (it_json("POST", "/api/v1/auth/login", NULL, txt, &r) == 0) {
		if (r.status == 200 && r.json &&
		    json_unpack(r.json, "{s:s, s:s}", "access_token", &a,
		    "refresh_token", &rt) == 0 && strlen(a) < cap &&
		    (refresh_out == NULL || strlen(rt) < rcap)) {
			snprintf(token_out, cap, "%s", a);
			if (refresh_out)
				snprintf(refresh_out, rcap, "%s", rt);
			rc = 0;
		} else {
			fprintf(stderr, "it_login(%s): HTTP %ld %s\n", user, r.status,
			    r.body ? r.body : "");
		}
		it_resp_free(&r);
	}
	free(txt);
	return rc;
}

int
it_login(const char *user, const char *pass, char *token_out, size_t cap)
{
	return it_login_full(user, pass, token_out, cap, NULL, 0);
}

int
it_login_admin(char *token_out, size_t cap)
{
	return it_login(it_env("TG_ADMIN_USER"), it_env("TG_ADMIN_PASSWORD"),
	    token_out, cap);
}

const char *
it_admin(void)
{
	static char token[4096];

	if (token[0] == '\0')
		assert_int_equal(it_login_admin(token, sizeof(token)), 0);
	return token;
}

const char *
it_bearer(const char *token)
{
	static char h[4][4200];
	static int slot;
	char *out = h[slot];

	slot = (slot + 1) % 4;
	snprintf(out, sizeof(h[0]), "Authorization: Bearer %s", token);
	return out;
}

long long
it_user_create(const char *admin_token, const char *username,
    const char *password, const char *role)
{
	struct it_resp r;
	json_t *body;
	char *txt;
	json_int_t id = -1;

	body = json_pack("{s:s, s:s, s:s}", "username", username, "password",
	    password, "role", role);
	txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (txt == NULL)
		return -1;
	if (it_json("POST", "/api/v1/users", admin_token, txt, &r) == 0) {
		if (r.status != 201 || r.json == NULL ||
		    json_unpack(r.json, "{s:I}", "id", &id) != 0) {
			fprintf(stderr, "it_user_create(%s): HTTP %ld %s\n", username,
			    r.status, r.body ? r.body : "");
			id = -1;
		}
		it_resp_free(&r);
	}
	free(txt);
	return (long long)id;
}

long long
it_user_token(const char *admin_token, const char *username,
    const char *password, const char *role, char *token, size_t cap)
{
	long long id = it_user_create(admin_token, username, password, role);

	if (id <= 0)
		fail_msg("could not create the %s %s", role, username);
	if (it_login(username, password, token, cap) != 0)
		fail_msg("%s could not sign in", username);
	return id;
}

int
it_capture(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (cap)
		out[0] = '\0';
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	if (cap > 1)
		n = fread(out, 1, cap - 1, f);
	while (fgetc(f) != EOF)
		;
	rc = pclose(f);
	if (cap) {
		out[n] = '\0';
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\r'))
			out[--n] = '\0';
	}
	return rc == -1 ? -1 : (rc >> 8) & 0xff;
}

/* The value a failed test could not put back (its assertion left the
 * test between set and restore): restored before the next set and at
 * exit, so a failure stays in its own test instead of limiting every
 * later one. */
static char rl_pending[1024];
static int rl_have_pending;

static void
rl_put_back(const char *saved)
{
	if (saved[0] != '\0' && strchr(saved, '\'') == NULL)
		it_sh("echo \"UPDATE settings SET value = :'v'::jsonb WHERE key = 'rate_limits';\""
		      " | psql -X -q -v v='%s' >/dev/null",
		    saved);
	else
		it_sh("psql -X -q -c \"DELETE FROM settings WHERE key = 'rate_limits'\" >/dev/null");
}

static void
rl_at_exit(void)
{
	if (rl_have_pending)
		rl_put_back(rl_pending);
	rl_have_pending = 0;
}

void
it_rate_limit_set(const char *role, int limit, char *saved, size_t cap)
{
	static int registered;

	if (!registered && atexit(rl_at_exit) == 0)
		registered = 1;
	rl_at_exit();
	saved[0] = '\0';
	(void)it_capture(saved, cap, "psql -X -A -t -c \"SELECT value::text FROM"
				     " settings WHERE key = 'rate_limits'\"");
	saved[strcspn(saved, "\n")] = '\0';
	snprintf(rl_pending, sizeof(rl_pending), "%s", saved);
	rl_have_pending = strlen(saved) < sizeof(rl_pending) - 1;
	assert_int_equal(it_sh("psql -X -q -v ON_ERROR_STOP=1 -c \"INSERT INTO settings (key, value)"
			       " VALUES ('rate_limits', jsonb_set(COALESCE((SELECT value FROM settings WHERE"
			       " key = 'rate_limits'), '{}'), '{%s}', '%d'))"
			       " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value\" >/dev/null",
			     role, limit),
	    0);
}

void
it_rate_limit_restore(char *saved)
{
	saved[strcspn(saved, "\n")] = '\0';
	rl_have_pending = 0;
	rl_put_back(saved);
}

static size_t
discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

void
it_burst(const char *method, const char *path, const char *token,
    const char *const *extra, const char *body, int n, long *status)
{
	char auth[4200], url[512];
	struct curl_slist *h = NULL;
	CURL *e[IT_BURST_MAX];
	CURLM *m;
	int i, running, msgs;

	assert_true(n > 0 && n <= IT_BURST_MAX);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	for (i = 0; extra && extra[i]; i++)
		h = curl_slist_append(h, extra[i]);
	snprintf(url, sizeof(url), "%s%s", it_base(), path);
	m = curl_multi_init();
	for (i = 0; i < n; i++) {
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e[i], CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL)
			curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
		/* One connection each, so the requests spread over workers. */
		curl_easy_setopt(e[i], CURLOPT_FORBID_REUSE, 1L);
		curl_multi_add_handle(m, e[i]);
	}
	do {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 200, NULL);
	} while (running);
	while (curl_multi_info_read(m, &msgs))
		;
	for (i = 0; i < n; i++) {
		status[i] = 0;
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &status[i]);
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
}

/* ------------------------------------------------------------ REST */

static const char *forbidden;

void
it_forbid(const char *needle)
{
	forbidden = needle;
}

/* Fails when the body of r holds the forbidden string. */
static void
check_forbidden(const struct it_resp *r)
{
	if (forbidden && r->body && strstr(r->body, forbidden))
		fail_msg("a response holds the forbidden string: %.600s", r->body);
}

/* method path with the token and, when body is not NULL, a JSON body. */
static void
send_req(const char *method, const char *path, const char *token,
    const char *body, struct it_resp *r)
{
	if (body)
		assert_int_equal(it_json(method, path, token, body, r), 0);
	else
		assert_int_equal(it_get(method, path, token, r), 0);
}

void
it_expect(const char *method, const char *path, const char *token,
    const char *body, long want, struct it_resp *out)
{
	send_req(method, path, token, body, out);
	if (out->status != want)
		fail_msg("%s %s: want %ld, got %ld: %.600s", method, path, want,
		    out->status, out->body ? out->body : "");
}

json_t *
it_call(const char *method, const char *path, const char *token,
    const char *body, long want)
{
	struct it_resp r;
	json_t *j;

	it_expect(method, path, token, body, want, &r);
	check_forbidden(&r);
	j = r.json ? json_incref(r.json) : json_object();
	it_resp_free(&r);
	return j;
}

void
it_callv(const char *method, const char *path, const char *token,
    const char *body, long want)
{
	json_decref(it_call(method, path, token, body, want));
}

static json_t *
vcall(const char *method, const char *token, const char *body, long want,
    const char *fmt, va_list ap)
{
	char path[2048];
	int n = vsnprintf(path, sizeof(path), fmt, ap);

	assert_true(n > 0 && (size_t)n < sizeof(path));
	return it_call(method, path, token, body, want);
}

json_t *
it_callf(const char *method, const char *token, const char *body, long want,
    const char *fmt, ...)
{
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = vcall(method, token, body, want, fmt, ap);
	va_end(ap);
	return j;
}

void
it_callvf(const char *method, const char *token, const char *body, long want,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_decref(vcall(method, token, body, want, fmt, ap));
	va_end(ap);
}

json_t *
it_call_json(const char *method, const char *path, const char *token,
    const json_t *body, long want)
{
	char *txt = json_dumps(body, JSON_COMPACT);
	json_t *j;

	assert_non_null(txt);
	j = it_call(method, path, token, txt, want);
	free(txt);
	return j;
}

long
it_status(const char *method, const char *path, const char *token,
    const char *body)
{
	struct it_resp r;
	long st;

	send_req(method, path, token, body, &r);
	st = r.status;
	if (st >= 500)
		fprintf(stderr, "%s %s -> %ld %s\n", method, path, st, r.body);
	it_resp_free(&r);
	return st;
}

const char *
it_jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

long long
it_jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* The first difference of got from want below path, or 0. */
static int
mismatch(const json_t *got, const json_t *want, char *path, size_t cap)
{
	const char *k;
	json_t *v;
	size_t i, n = strlen(path);

	if (json_is_object(want)) {
		if (!json_is_object(got))
			return 1;
		json_object_foreach((json_t *)want, k, v) {
			snprintf(path + n, cap - n, ".%s", k);
			if (json_object_get(got, k) == NULL ||
			    mismatch(json_object_get(got, k), v, path, cap))
				return 1;
		}
	} else if (json_is_array(want)) {
		if (!json_is_array(got) || json_array_size(got) != json_array_size(want))
			return 1;
		json_array_foreach(want, i, v) {
			snprintf(path + n, cap - n, "[%zu]", i);
			if (mismatch(json_array_get(got, i), v, path, cap))
				return 1;
		}
	} else if (!json_equal(got, want)) {
		return 1;
	}
	path[n] = '\0';
	return 0;
}

void
it_match(const json_t *got, const char *want)
{
	json_error_t je;
	json_t *w = json_loads(want, 0, &je);
	char path[512] = "", *g;

	if (w == NULL)
		fail_msg("it_match: bad JSON (%s): %s", je.text, want);
	if (mismatch(got, w, path, sizeof(path))) {
		g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		fail_msg("at %s: got %.800s, want %s", path[0] ? path : "(top)",
		    g ? g : "(nothing)", want);
	}
	json_decref(w);
}

/* Fails the test when needle is (lacks) or is not (!lacks) in the compact
 * JSON text of j, printing that text. */
static void
json_text(const json_t *j, const char *needle, int lacks)
{
	char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (t == NULL || (strstr(t, needle) != NULL) == lacks) {
		print_error("%s \"%s\" in %.4000s\n", lacks ? "unexpected" : "no", needle,
		    t ? t : "(nothing)");
		free(t);
		fail();
	}
	free(t);
}

void
it_json_has(const json_t *j, const char *needle)
{
	json_text(j, needle, 0);
}

void
it_json_lacks(const json_t *j, const char *needle)
{
	json_text(j, needle, 1);
}

int
it_has(const json_t *obj, const char *array, const char *key, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(obj, array), i, e)
		if (strcmp(it_jstr(e, key), value) == 0)
			return 1;
	return 0;
}

int
it_has_field(const json_t *problem, const char *field)
{
	return it_has(problem, "errors", "field", field);
}

void
it_fields(const json_t *problem, const char *const *fields)
{
	char *txt;

	for (; *fields; fields++) {
		if (it_has_field(problem, *fields))
			continue;
		txt = json_dumps(problem, JSON_COMPACT);
		fail_msg("no error names field %s: %.800s", *fields, txt ? txt : "?");
	}
}

/* ------------------------------------------------------------ SQL */

static void
vsql(char *out, size_t cap, const char *fmt, va_list ap)
{
	char q[3000];
	int n, rc;

	n = vsnprintf(q, sizeof(q), fmt, ap);
	assert_true(n > 0 && (size_t)n < sizeof(q));
	assert_null(strstr(q, "TG_SQL_END"));
	rc = it_capture(out, cap, "psql -qAtX -v ON_ERROR_STOP=1 <<'TG_SQL_END'\n%s\nTG_SQL_END", q);
	if (rc != 0)
		fail_msg("psql exited %d: %s -> %s", rc, q, out);
}

void
it_sql(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsql(out, cap, fmt, ap);
	va_end(ap);
}

void
it_sql_expect(const char *want, const char *fmt, ...)
{
	char out[1024];
	va_list ap;

	va_start(ap, fmt);
	vsql(out, sizeof(out), fmt, ap);
	va_end(ap);
	if (strcmp(out, want) != 0) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fail_msg("\nSQL above: got '%s', want '%s'", out, want);
	}
}

FILE *
it_lock_table(const char *table)
{
	char n[16];
	FILE *f = popen("psql -X -q -v ON_ERROR_STOP=1 >/dev/null 2>&1", "w");
	double t0 = it_now();

	assert_non_null(f);
	fprintf(f, "SET idle_in_transaction_session_timeout = '60s';"
		   " BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n",
	    table);
	fflush(f);
	for (;;) {
		it_sql(n, sizeof(n), "SELECT count(*) FROM pg_locks l JOIN pg_class c"
				     " ON c.oid = l.relation WHERE c.relname = '%s'"
				     " AND l.mode = 'AccessExclusiveLock' AND l.granted",
		    table);
		if (strcmp(n, "1") == 0)
			return f;
		if (it_now() - t0 > 60)
			fail_msg("psql never took the lock on %s", table);
		usleep(50 * 1000);
	}
}

void
it_unlock_table(FILE *f)
{
	fputs("COMMIT;\n", f);
	assert_int_equal(pclose(f), 0);
}

long
it_lock_waiter(const char *table)
{
	char pid[32];
	double t0 = it_now();

	for (;;) {
		it_sql(pid, sizeof(pid), "SELECT coalesce(min(l.pid), 0) FROM pg_locks l"
					 " JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '%s'"
					 " AND NOT l.granted",
		    table);
		if (strcmp(pid, "0") != 0)
			return atol(pid);
		if (it_now() - t0 > 60)
			fail_msg("nothing waited on %s", table);
		usleep(20 * 1000);
	}
}

void
it_logs_scrubbed(const char *where, const char *kind, const char *leak)
{
	it_sql_expect("2", "SELECT count(*) FROM execution_logs WHERE %s"
	    " AND kind = '%s'", where, kind);
	it_sql_expect("0", "SELECT count(*) FROM execution_logs WHERE %s"
	    " AND concat(result, stdout, stderr, error) LIKE '%%%s%%'", where, leak);
	it_sql_expect("1", "SELECT count(*) FROM execution_logs WHERE %s"
	    " AND status = 'ok' AND result LIKE '%%[REDACTED]%%'"
	    " AND stdout LIKE 'out:[REDACTED]%%'", where);
	it_sql_expect("1", "SELECT count(*) FROM execution_logs WHERE %s"
	    " AND status = 'error' AND error LIKE '%%err:[REDACTED]%%'", where);
}

/* --------------------------------------------------------- fixtures */

/* POST body (JSON text) to path: 201 with an id, which it returns. */
static long long
created(const char *token, const char *path, const char *body)
{
	json_t *j = it_call("POST", path, token, body, 201);
	long long id = it_jint(j, "id");

	json_decref(j);
	assert_true(id > 0);
	return id;
}

long long
it_server_create(const char *token, const char *name, const char *extra)
{
	json_t *n;
	char *nm, *body;
	size_t cap;
	long long id;

	n = json_string(name);
	assert_non_null(n);
	nm = json_dumps(n, JSON_ENCODE_ANY);
	json_decref(n);
	assert_non_null(nm);
	cap = strlen(nm) + (extra ? strlen(extra) : 0) + 16;
	body = malloc(cap);
	assert_non_null(body);
	snprintf(body, cap, "{\"name\":%s%s%s}", nm, extra ? "," : "", extra ? extra : "");
	free(nm);
	id = created(token, "/api/v1/servers", body);
	free(body);
	return id;
}

long long
it_server_own(const char *token, const char *prefix, char *name, size_t cap,
    char *ids, size_t idcap)
{
	long long id;

	snprintf(name, cap, "%s%ld", prefix, (long)getpid());
	id = it_server_create(token, name, NULL);
	snprintf(ids, idcap, "%lld", id);
	return id;
}

void
it_act(const char *token, const char *kind, long long id, const char *action,
    const char *body)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/v1/%s/%lld/%s", kind, id, action);
	it_callv("POST", path, token, body ? body : "{}", 200);
}

void
it_server_start(const char *token, long long server_id)
{
	it_act(token, "servers", server_id, "start", NULL);
}

long long
it_tool_create(const char *token, const char *server, const char *name,
    const char *code, const char *description)
{
	char path[256], *txt;
	json_t *b;
	long long id;

	b = description ?
	    json_pack("{s:s, s:s, s:s}", "name", name, "code", code, "description",
	    description) :
	    json_pack("{s:s, s:s}", "name", name, "code", code);
	assert_non_null(b);
	txt = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	assert_non_null(txt);
	snprintf(path, sizeof(path), "/api/v1/servers/%s/tools", server);
	id = created(token, path, txt);
	free(txt);
	return id;
}

void
it_tool_submit(const char *token, long long tool_id)
{
	it_act(token, "tools", tool_id, "submit", NULL);
}

void
it_approve_current(const char *admin_token, long long tool_id)
{
	char path[96], body[64];
	json_t *t;

	snprintf(path, sizeof(path), "/api/v1/tools/%lld", tool_id);
	t = it_call("GET", path, admin_token, NULL, 200);
	snprintf(body, sizeof(body), "{\"version\":%lld}", it_jint(t, "current_version"));
	json_decref(t);
	it_act(admin_token, "tools", tool_id, "approve", body);
}

long long
it_tool_approved(const char *admin_token, const char *server, const char *name,
    const char *code, const char *description)
{
	long long id = it_tool_create(admin_token, server, name, code, description);

	it_tool_submit(admin_token, id);
	it_approve_current(admin_token, id);
	return id;
}

/* -------------------------------------------------------------- MCP */

long
it_rpc_code(const struct it_resp *r)
{
	return (long)json_integer_value(json_object_get(json_object_get(r->json,
	    "error"), "code"));
}

const char *
it_first_text(const json_t *result)
{
	return it_jstr(json_array_get(json_object_get(result, "content"), 0), "text");
}

void
it_mcp_send(const struct it_mcp_req *q, const char *body, struct it_resp *out)
{
	const char *h[20];
	char auth[4200], ct[160], ah[256], sh[300], vh[128], mh[256], nh[1200];
	int n = 0, i;

	if (q->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", q->token);
		h[n++] = auth;
	}
	snprintf(ct, sizeof(ct), "Content-Type: %s", q->content_type ?
	    q->content_type : "application/json");
	h[n++] = ct;
	snprintf(ah, sizeof(ah), "Accept: %s", q->accept ? q->accept :
	    "application/json, text/event-stream");
	h[n++] = ah;
	if (q->sid && q->sid[0]) {
		snprintf(sh, sizeof(sh), "Mcp-Session-Id: %s", q->sid);
		h[n++] = sh;
	}
	if (q->version) {
		snprintf(vh, sizeof(vh), "MCP-Protocol-Version: %s", q->version);
		h[n++] = vh;
	}
	if (q->method) {
		snprintf(mh, sizeof(mh), "Mcp-Method: %s", q->method);
		h[n++] = mh;
	}
	if (q->name) {
		snprintf(nh, sizeof(nh), "Mcp-Name: %s", q->name);
		h[n++] = nh;
	}
	for (i = 0; q->extra && q->extra[i]; i++) {
		assert_true(n < 19);
		h[n++] = q->extra[i];
	}
	h[n] = NULL;
	assert_int_equal(it_request("POST", "/mcp", h, body, strlen(body), out), 0);
}

void
it_mcp_post(const char *token, const char *sid, const char *version,
    const char *body, struct it_resp *out)
{
	const struct it_mcp_req q = {.token = token, .sid = sid, .version = version};

	it_mcp_send(&q, body, out);
}

void
it_mcp_init(const char *token, const char *version, char *sid, size_t cap)
{
	struct it_resp r;
	char body[512];
	const char *s;

	sid[0] = '\0';
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":"
	    "{\"name\":\"toolgate-it\",\"version\":\"1\"}}}", version);
	it_mcp_post(token, NULL, NULL, body, &r);
	if (r.status != 200)
		fail_msg("initialize: HTTP %ld: %.400s", r.status, r.body ? r.body : "");
	s = it_header(&r, "Mcp-Session-Id");
	assert_non_null(s);
	assert_true(strlen(s) < cap);
	snprintf(sid, cap, "%s", s);
	assert_non_null(json_object_get(r.json, "result"));
	it_resp_free(&r);
	it_mcp_post(token, sid, version,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &r);
	assert_int_equal(r.status, 202);
	it_resp_free(&r);
}

json_t *
it_mcp_rpc(const char *token, const char *sid, const char *version,
    const char *body)
{
	struct it_resp r;
	json_t *j;

	it_mcp_post(token, sid, version, body, &r);
	if (r.status != 200)
		fail_msg("/mcp: HTTP %ld: %.400s", r.status, r.body ? r.body : "");
	j = r.json ? json_incref(r.json) : json_object();
	it_resp_free(&r);
	return j;
}

json_t *
it_mcp_tool(const char *token, const char *sid, const char *version,
    const char *name)
{
	json_t *j, *tools, *t, *found = NULL;
	size_t i;

	j = it_mcp_rpc(token, sid, version,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	tools = json_object_get(json_object_get(j, "result"), "tools");
	if (!json_is_array(tools)) {
		char *txt = json_dumps(j, JSON_COMPACT);

		fail_msg("tools/list without result.tools: %.600s", txt ? txt : "?");
	}
	json_array_foreach(tools, i, t)
		if (found == NULL && strcmp(it_jstr(t, "name"), name) == 0)
			found = json_incref(t);
	json_decref(j);
	return found;
}

json_t *
it_mcp_call(const char *token, const char *sid, const char *version,
    const char *name, const char *args, char **raw)
{
	struct it_resp r;
	json_t *res;
	char *body;
	size_t n = strlen(name) + strlen(args) + 128;

	body = malloc(n);
	assert_non_null(body);
	snprintf(body, n, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"%s\",\"arguments\":%s}}", name, args);
	it_mcp_post(token, sid, version, body, &r);
	free(body);
	if (r.status != 200)
		fail_msg("tools/call %s: HTTP %ld: %.400s", name, r.status,
		    r.body ? r.body : "");
	res = json_object_get(r.json, "result");
	if (res == NULL)
		res = json_object_get(r.json, "error");
	assert_non_null(res);
	json_incref(res);
	if (raw) {
		*raw = strdup(r.body ? r.body : "");
		assert_non_null(*raw);
	}
	it_resp_free(&r);
	return res;
}

void
it_tool_ok(const json_t *res)
{
	if (!json_is_array(json_object_get(res, "content")) ||
	    json_is_true(json_object_get(res, "isError"))) {
		char *txt = json_dumps(res, JSON_COMPACT);

		fail_msg("not a successful tool result: %.600s", txt ? txt : "(none)");
	}
}

void
it_mcp26_post(const char *token, const char *version, const char *method,
    const char *name, const char *body, const char *accept,
    const char *const *extra, struct it_resp *out)
{
	const struct it_mcp_req q = {.token = token, .version = version,
	    .method = method, .name = name, .accept = accept, .extra = extra};

	it_mcp_send(&q, body, out);
}
