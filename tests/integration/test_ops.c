/*
 * test_ops.c - operations end to end: maintenance deletes exactly what has
 * expired (rows either side of the boundary) and never runs twice at once;
 * /metrics counters add up across workers; backup -> drop the database ->
 * restore -> the service answers with the same data.
 */
#include "tests/integration/it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

static PGconn *
db_connect(const char *dbname)
{
	const char *k[] = {"dbname", NULL};
	const char *v[] = {dbname, NULL};
	PGconn *c = PQconnectdbParams(k, v, 1);

	assert_non_null(c);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", dbname, PQerrorMessage(c));
	return c;
}

static void
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

static long long
count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long long n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static int
has_table(PGconn *c, const char *t)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tablename='%s'", t);
	return count(c, sql) == 1;
}

static void
t_maintenance_boundary(void **state)
{
	PGconn *c = db_connect(it_env("PGDATABASE"));

	(void)state;
	/* The migrations create both: a missing table is a failure, not a skip. */
	assert_true(has_table(c, "jwt_blacklist"));
	assert_true(has_table(c, "rate_limits"));
	exec_ok(c, "DELETE FROM jwt_blacklist WHERE reason = 'ops-test'");
	exec_ok(c, "INSERT INTO jwt_blacklist (jti, expires_at, reason) VALUES"
	    " ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', now() - interval '1 minute', 'ops-test'),"
	    " ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2', now() + interval '1 minute', 'ops-test'),"
	    " ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3', now() + interval '1 day', 'ops-test')");
	exec_ok(c, "INSERT INTO rate_limits (bucket, window_start, hits) VALUES"
	    " ('ops-test', extract(epoch FROM now())::bigint - 7300, 1),"
	    " ('ops-test', extract(epoch FROM now())::bigint - 60, 1)");
	assert_int_equal(it_sh("build/toolgate maintenance >/dev/null 2>&1"), 0);
	assert_int_equal(count(c, "SELECT count(*) FROM jwt_blacklist WHERE reason = 'ops-test'"), 2);
	assert_int_equal(count(c, "SELECT count(*) FROM jwt_blacklist WHERE jti = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1'"), 0);
	assert_int_equal(count(c, "SELECT count(*) FROM rate_limits WHERE bucket = 'ops-test'"), 1);
	exec_ok(c, "DELETE FROM jwt_blacklist WHERE reason = 'ops-test'");
	exec_ok(c, "DELETE FROM rate_limits WHERE bucket = 'ops-test'");
	PQfinish(c);
}

/* The first line `toolgate maintenance` prints; it must exit 0. */
static const char *
maintenance_line(void)
{
	static char out[512];

	assert_int_equal(it_capture(out, sizeof(out), "build/toolgate maintenance 2>/dev/null"), 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static void
t_maintenance_single_runner(void **state)
{
	PGconn *c = db_connect(it_env("PGDATABASE"));

	(void)state;
	/* Another "host" holds the maintenance lock: this run must skip. */
	exec_ok(c, "SELECT pg_advisory_lock(7415002)");
	assert_non_null(strstr(maintenance_line(), "skipped"));
	exec_ok(c, "SELECT pg_advisory_unlock(7415002)");
	assert_null(strstr(maintenance_line(), "skipped"));
	PQfinish(c);
}

static void check_exposition(const char *text);

static long long
metric(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	if (p == NULL)
		return -1;
	p += strlen(name);
	while (*p == ' ')
		p++;
	return atoll(p);
}

static void
t_metrics_add_up(void **state)
{
	struct it_resp r;
	long long before, after;
	const char *key = "toolgate_http_requests_total{route=\"/api/v1/version\",status=\"2xx\"}";
	int i;

	(void)state;
	assert_int_equal(it_get("GET", "/api/v1/version", NULL, &r), 0);
	it_resp_free(&r);
	assert_int_equal(it_get("GET", "/metrics", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(it_header(&r, "Content-Type"), "text/plain"));
	before = metric(r.body, key);
	assert_true(before >= 1);
	it_resp_free(&r);
	/* 40 requests spread over every worker by the kernel's accept. */
	for (i = 0; i < 40; i++) {
		assert_int_equal(it_status("GET", "/api/v1/version", NULL, NULL), 200);
	}
	assert_int_equal(it_get("GET", "/metrics", NULL, &r), 0);
	after = metric(r.body, key);
	assert_int_equal(after - before, 40);
	assert_non_null(strstr(r.body, "# TYPE toolgate_http_request_duration_seconds histogram"));
	assert_non_null(strstr(r.body, "# TYPE toolgate_sandbox_duration_seconds histogram"));
	assert_non_null(strstr(r.body, "toolgate_db_reconnects_total"));
	assert_non_null(strstr(r.body, "toolgate_worker_restarts_total"));
	check_exposition(r.body);
	it_resp_free(&r);
}

/*
 * A strict reader of the Prometheus text exposition format (0.0.4): every
 * line is a HELP or TYPE comment or a sample; metric and label names match
 * [a-zA-Z_:][a-zA-Z0-9_:]* / [a-zA-Z_][a-zA-Z0-9_]*; label values are
 * quoted with only \\, \" and \n escapes; values parse as floats; each
 * metric family has one TYPE line before its samples, and histogram
 * buckets are cumulative with a final le="+Inf" equal to _count.
 */
static int
name_ok(const char *p, size_t n, int metric)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = p[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		    (metric && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

static void
check_exposition(const char *text)
{
	char typed[128][96];
	int ntyped = 0, i, lines = 0;
	const char *line = text, *eol;
	double last_bucket = -1;
	char series[2048] = ""; /* the last bucket line up to le= */

	while (*line) {
		char buf[2048], *p, *end;
		size_t len, n;

		eol = strchr(line, '\n');
		assert_non_null(eol); /* every line ends with \n */
		len = (size_t)(eol - line);
		assert_true(len > 0 && len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = eol + 1;
		lines++;
		if (strncmp(buf, "# HELP ", 7) == 0) {
			p = buf + 7;
			n = strcspn(p, " ");
			assert_true(name_ok(p, n, 1));
			continue;
		}
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			p = buf + 7;
			n = strcspn(p, " ");
			assert_true(name_ok(p, n, 1));
			assert_true(strcmp(p + n, " counter") == 0 || strcmp(p + n, " gauge") == 0 ||
			    strcmp(p + n, " histogram") == 0 || strcmp(p + n, " summary") == 0 ||
			    strcmp(p + n, " untyped") == 0);
			for (i = 0; i < ntyped; i++)
				assert_false(strncmp(typed[i], p, n) == 0 && typed[i][n] == '\0');
			assert_true(ntyped < 128 && n < sizeof(typed[0]));
			memcpy(typed[ntyped], p, n);
			typed[ntyped++][n] = '\0';
			continue;
		}
		assert_true(buf[0] != '#');
		/* A sample: name{labels} value */
		p = buf;
		n = strcspn(p, "{ ");
		assert_true(name_ok(p, n, 1));
		{
			int found = 0;
			for (i = 0; i < ntyped; i++) {
				size_t tl = strlen(typed[i]);
				if (strncmp(p, typed[i], tl) == 0 && (n == tl ||
				    (n > tl && (strcmp(p + tl, "_bucket") == 0 || !strncmp(p + tl, "_bucket", 7) ||
				    !strncmp(p + tl, "_sum", 4) || !strncmp(p + tl, "_count", 6) ||
				    !strncmp(p + tl, "_total", 6)))))
					found = 1;
			}
			if (!found)
				fail_msg("sample before its TYPE line: %s", buf);
		}
		p += n;
		if (*p == '{') {
			p++;
			while (*p != '}') {
				n = strcspn(p, "=");
				assert_true(name_ok(p, n, 0));
				p += n;
				assert_int_equal(*p++, '=');
				assert_int_equal(*p++, '"');
				while (*p != '"') {
					assert_true(*p != '\0');
					if (*p == '\\') {
						p++;
						assert_true(*p == '\\' || *p == '"' || *p == 'n');
					}
					p++;
				}
				p++;
				if (*p == ',')
					p++;
				else
					assert_int_equal(*p, '}');
			}
			p++;
		}
		assert_int_equal(*p++, ' ');
		if (strcmp(p, "+Inf") != 0 && strcmp(p, "-Inf") != 0 && strcmp(p, "NaN") != 0) {
			double v = strtod(p, &end);
			assert_true(end != p && *end == '\0');
			/* cumulative buckets */
			if (strstr(buf, "_bucket{") && strstr(buf, "le=\"") != NULL) {
				/* cumulative within one series (name and the
				 * labels before le), from its first bucket on */
				size_t k = (size_t)(strstr(buf, "le=\"") - buf);

				if (strncmp(series, buf, k) != 0 || series[k] != '\0') {
					memcpy(series, buf, k);
					series[k] = '\0';
					last_bucket = -1;
				}
				assert_true(v >= last_bucket);
				last_bucket = v;
			}
		}
	}
	assert_true(lines > 10);
}

/* Credentials presented to /metrics are verified: admin yes, others 403,
 * garbage 401 (the test client is on loopback, where no token is needed). */
static void
t_metrics_access(void **state)
{
	char admin[4096], viewer[4096], name[64];

	(void)state;
	snprintf(name, sizeof(name), "metricsviewer%ld", (long)getpid());
	assert_int_equal(it_login_admin(admin, sizeof(admin)), 0);
	it_user_token(admin, name, "metrics-viewer-pw-1", "viewer", viewer, sizeof(viewer));
	assert_int_equal(it_status("GET", "/metrics", admin, NULL), 200);
	assert_int_equal(it_status("GET", "/metrics", viewer, NULL), 403);
	assert_int_equal(it_status("GET", "/metrics", "not-a-token", NULL), 401);
}

/* A fingerprint of the data: row counts of every public table. */
static char *
fingerprint(PGconn *c)
{
	PGresult *r = PQexec(c,
	    "SELECT string_agg(format('%s=%s', table_name, (xpath('/row/n/text()',"
	    " query_to_xml(format('SELECT count(*) AS n FROM %I', table_name), false, true, '')))[1]::text),"
	    " ',' ORDER BY table_name) FROM information_schema.tables"
	    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
	char *s;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("fingerprint: %s", PQerrorMessage(c));
	s = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return s;
}

static void
t_backup_drop_restore(void **state)
{
	const char *dbname = it_env("PGDATABASE");
	char dir[512], cmd[1024], file[1024] = "", *fp_before, *fp_after, sql[256];
	PGconn *c, *admin;
	FILE *p;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/backups-test", it_env("TG_VAR"));
	assert_int_equal(it_sh("rm -rf %s", dir), 0);
	c = db_connect(dbname);
	fp_before = fingerprint(c);
	PQfinish(c);
	assert_int_equal(it_sh("build/toolgate backup --dir %s --keep 3 >/dev/null", dir), 0);
	snprintf(cmd, sizeof(cmd), "ls %s/toolgate-*.dump", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(file, sizeof(file), p));
	pclose(p);
	file[strcspn(file, "\n")] = '\0';
	/* A tampered copy is refused. */
	assert_int_equal(it_sh("cp %s %s/tampered.dump && cp %s.sha256 %s/tampered.dump.sha256 && printf x >> %s/tampered.dump",
	    file, dir, file, dir, dir), 0);

	admin = db_connect("postgres");
	snprintf(sql, sizeof(sql), "DROP DATABASE \"%s\" WITH (FORCE)", dbname);
	exec_ok(admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", dbname);
	exec_ok(admin, sql);
	assert_int_not_equal(it_sh("build/toolgate restore %s/tampered.dump >/dev/null 2>&1", dir), 0);
	assert_int_equal(it_sh("build/toolgate restore %s >/dev/null 2>&1", file), 0);
	/* Into a database that is not empty: refused. */
	assert_int_not_equal(it_sh("build/toolgate restore %s >/dev/null 2>&1", file), 0);
	PQfinish(admin);

	c = db_connect(dbname);
	fp_after = fingerprint(c);
	PQfinish(c);
	assert_string_equal(fp_before, fp_after);
	free(fp_before);
	free(fp_after);
	/* The running service reconnects to the restored database. */
	assert_int_equal(it_wait_status("/ready", 200, 20000), 0);
}

TG_TEST_MAIN("ops", NULL, NULL, t_maintenance_boundary,
    t_maintenance_single_runner, t_metrics_add_up, t_metrics_access,
    t_backup_drop_restore)
