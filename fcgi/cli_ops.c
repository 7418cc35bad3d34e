/*
 * cli_ops.c - operations subcommands: maintenance (for cron; the master
 * also runs it every TOOLGATE_MAINTENANCE_INTERVAL seconds), backup and
 * restore. The database work is in lib/ (lib/maintenance.c,
 * lib/restore.c); this file handles arguments, files and pg_dump/pg_restore.
 */
#include <stdio.h>
#include <string.h>

#include "fcgi/cli_base.h"
#include "fcgi/cli_ops.h"
#include "lib/config.h"
#include "lib/db.h"
#include "lib/maintenance.h"
#include "lib/packages.h"
#include "lib/status.h"

int
tg_cmd_maintenance(int argc, char **argv)
{
	struct tg_config cfg;
	struct tg_maint_report rep;
	struct tg_db *db;
	int rc, i, gc;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: toolgate maintenance\n");
		return 2;
	}
	if ((db = tg_cli_connect(&cfg, TG_CFG_NONE, "toolgate-maintenance", NULL)) == NULL)
		return 1;
	rc = tg_maintenance_run(db, &rep);
	/* packages: this host's unused trees */
	gc = rc == TG_OK ? tg_packages_gc(db, &cfg, TG_PACKAGES_GC_GRACE_S) : 0;
	tg_db_close(db);
	tg_config_wipe(&cfg);
	if (rc != TG_OK) {
		fprintf(stderr, "toolgate: maintenance failed (see the log line above)\n");
		return 1;
	}
	if (rep.skipped) {
		printf("maintenance: skipped (another process holds the maintenance lock)\n");
		return 0;
	}
	for (i = 0; i < rep.nsteps; i++)
		printf("maintenance: %s: %lld deleted\n", rep.steps[i].name,
		    (long long)rep.steps[i].deleted);
	if (gc >= 0)
		printf("maintenance: package trees: %d removed\n", gc);
	return 0;
}

/*
 * backup / restore: pg_dump custom format into a directory, with a
 * sha256sum-style checksum file per dump and a retention count; restore
 * only into an empty database, after verifying the checksum.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/call.h"
#include "lib/err.h"
#include "lib/parse.h"
#include "lib/restore.h"

extern char **environ;

/* The pg_dump/pg_restore of the newest installed PostgreSQL, else PATH. */
static void
pg_tool(const char *name, char *out, size_t cap)
{
	static const char *const vers[] = {"17", "16", "15", NULL};
	const char *dir = getenv("TOOLGATE_PG_BINDIR");
	int i;

	if (dir && *dir) {
		snprintf(out, cap, "%s/%s", dir, name);
		return;
	}
	for (i = 0; vers[i]; i++) {
		snprintf(out, cap, "/usr/lib/postgresql/%s/bin/%s", vers[i], name);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, cap, "%s", name);
}

static int
run_tool(char *const argv[])
{
	pid_t pid;
	int st, rc;

	rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0) {
		fprintf(stderr, "toolgate: cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "toolgate: %s failed (exit %d)\n", argv[0],
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return 0;
}

static int
sha256_file(const char *path, char hex[65])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *c = NULL;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	c = EVP_MD_CTX_new();
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(c, buf, (size_t)n) != 1)
			goto out;
	if (n < 0 || EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(c);
	close(fd);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Deletes the oldest toolgate-*.dump (and .sha256) beyond keep. */
static void
prune(const char *dir, int64_t keep)
{
	char *names[4096], path[4096];
	struct dirent *e;
	DIR *d;
	size_t n = 0, i, len;

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < 4096) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, "toolgate-", 9) == 0 && len > 5 &&
		    strcmp(e->d_name + len - 5, ".dump") == 0)
			if ((names[n] = strdup(e->d_name)) != NULL)
				n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		if ((int64_t)(n - i) > keep) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (unlink(path) == 0)
				printf("backup: removed old %s\n", path);
			snprintf(path, sizeof(path), "%s/%s.sha256", dir, names[i]);
			(void)unlink(path);
		}
		free(names[i]);
	}
}

int
tg_cmd_backup(int argc, char **argv)
{
	const char *dir = getenv("TOOLGATE_BACKUP_DIR");
	char tool[512], file[4096], part[4200], sumf[4200], hex[65], stamp[32];
	char *args[8];
	int64_t keep = 7;
	struct tm tm;
	struct timespec ts;
	time_t now;
	size_t len;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
			if (tg_parse_i64(argv[++i], 1, 10000, &keep) != 0) {
				fprintf(stderr, "toolgate: --keep must be 1..10000\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: toolgate backup [--dir DIR] [--keep N]\n");
			return 2;
		}
	}
	if (dir == NULL || *dir == '\0')
		dir = "backups";
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "toolgate: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	len = strlen(stamp);
	snprintf(stamp + len, sizeof(stamp) - len, ".%03ldZ", ts.tv_nsec / 1000000);
	snprintf(file, sizeof(file), "%s/toolgate-%s.dump", dir, stamp);
	for (i = 1; access(file, F_OK) == 0 && i < 100; i++)
		snprintf(file, sizeof(file), "%s/toolgate-%s-%02d.dump", dir, stamp, i);
	snprintf(part, sizeof(part), "%s.partial", file);
	snprintf(sumf, sizeof(sumf), "%s.sha256", file);
	pg_tool("pg_dump", tool, sizeof(tool));
	args[0] = tool;
	args[1] = "--format=custom";
	args[2] = "--no-owner";
	args[3] = "--file";
	args[4] = part;
	args[5] = NULL;
	if (run_tool(args) != 0) {
		(void)unlink(part);
		return 1;
	}
	if (sha256_file(part, hex) != 0 || rename(part, file) != 0) {
		fprintf(stderr, "toolgate: cannot finish %s\n", file);
		(void)unlink(part);
		return 1;
	}
	f = fopen(sumf, "w");
	if (f == NULL || fprintf(f, "%s  %s\n", hex, strrchr(file, '/') + 1) < 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "toolgate: cannot write %s\n", sumf);
		return 1;
	}
	printf("backup: %s (sha256 %s)\n", file, hex);
	prune(dir, keep);
	return 0;
}

int
tg_cmd_restore(int argc, char **argv)
{
	struct tg_config cfg;
	struct tg_db *db = NULL;
	char tool[512], sumf[4200], hex[65], want[65], *args[10];
	const char *file, *role = getenv("TOOLGATE_DB_ROLE");
	int64_t ntables = -1, nmig = -1;
	struct tg_principal who;
	struct tg_call c;
	struct tg_err err;
	FILE *f;
	int code = 1;

	memset(&c, 0, sizeof(c));
	tg_err_init(&err);
	if (argc != 2) {
		fprintf(stderr, "usage: toolgate restore FILE.dump   (into the empty database named by PG*)\n");
		return 2;
	}
	file = argv[1];
	if (tg_cli_load_config(&cfg, TG_CFG_NONE) != 0)
		return 1;
	snprintf(sumf, sizeof(sumf), "%s.sha256", file);
	f = fopen(sumf, "r");
	if (f == NULL || fscanf(f, "%64s", want) != 1) {
		fprintf(stderr, "toolgate: missing or unreadable checksum file %s\n", sumf);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	if (sha256_file(file, hex) != 0 || strcmp(hex, want) != 0) {
		fprintf(stderr, "toolgate: %s does not match its checksum; refusing to restore\n", file);
		return 1;
	}
	if ((db = tg_cli_open_db("toolgate-restore", NULL)) == NULL)
		goto out;
	tg_cli_call(&c, &who, NULL, db);
	/* The application role is cluster-wide: make sure it exists so the
	 * dump's GRANTs apply. */
	if (role == NULL || *role == '\0')
		role = "toolgate_app";
	if (tg_restore_prepare(&c, role, &err) != TG_OK) {
		fprintf(stderr, "toolgate: %s\n", err.detail);
		goto out;
	}
	pg_tool("pg_restore", tool, sizeof(tool));
	args[0] = tool;
	args[1] = "--no-owner";
	args[2] = "--exit-on-error";
	args[3] = "--single-transaction";
	args[4] = "--dbname";
	args[5] = getenv("PGDATABASE") ? getenv("PGDATABASE") : "toolgate";
	args[6] = (char *)file;
	args[7] = NULL;
	if (run_tool(args) != 0)
		goto out;
	if (tg_restore_verify(&c, &ntables, &nmig, &err) != TG_OK) {
		fprintf(stderr, "toolgate: %s\n", err.detail);
		goto out;
	}
	printf("restore: %s restored and verified (%lld tables, %lld migrations); run `toolgate migrate` to apply newer ones\n",
	    file, (long long)ntables, (long long)nmig);
	code = 0;
out:
	tg_err_clear(&err);
	tg_db_close(db);
	return code;
}
