/*
 * pkg_tree.c - the content-addressed package trees of lib/packages.c:
 * written once from a recorded closure (the sandbox fetches and checks the
 * wheels, this writes the listed files into a temporary directory, makes it
 * read-only and renames it into place), never modified, and removed by
 * maintenance when no package set names them (tg_packages_gc).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "lib/audit.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/packages.h"
#include "lib/sandbox_cfg.h"
#include "lib/status.h"
#include "lib/pkg_int.h"

/* --------------------------------------------------------- trees */

static int
rm_chmod(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)f;
	if (fl == FTW_D && S_ISDIR(st->st_mode))
		(void)chmod(p, 0700);
	return 0;
}

static int
rm_one(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st;
	(void)f;
	return (fl == FTW_DP ? rmdir(p) : unlink(p)) != 0 && errno != ENOENT ?
	    -1 :
	    0;
}

static int
rm_tree(const char *path)
{
	(void)nftw(path, rm_chmod, 16, FTW_PHYS);
	return nftw(path, rm_one, 16, FTW_PHYS | FTW_DEPTH);
}

static int
ro_one(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)f;
	if (fl == FTW_F)
		return chmod(p, (st->st_mode & 0111) ? 0555 : 0444);
	return 0;
}

static int
ro_dir(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st;
	(void)f;
	return fl == FTW_DP ? chmod(p, 0555) : 0;
}

/* What the installer's proxy stored: directories and regular files only
 * (it creates nothing else; anything else is refused). */
static int
kinds_ok(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)p;
	(void)f;
	return (fl == FTW_D && S_ISDIR(st->st_mode)) ||
		(fl == FTW_F && S_ISREG(st->st_mode)) ?
	    0 :
	    -1;
}

/* Content address of a closure: sha256 over "name==version sha256\n"
 * lines in name order (the closure is kept sorted by name). */
int
tg_pkg_closure_hash(json_t *closure, char out[TG_SHA256_HEX_LEN + 1])
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	json_t *e;
	int rc;

	if (f == NULL)
		return -TG_E_NOMEM;
	json_array_foreach(closure, i, e)
		fprintf(f, "%s==%s %s\n",
		    json_string_value(json_object_get(e, "name")),
		    json_string_value(json_object_get(e, "version")),
		    json_string_value(json_object_get(e, "sha256")));
	if (fclose(f) != 0) {
		free(buf);
		return -TG_E_NOMEM;
	}
	rc = tg_crypto_sha256_hex(buf, len, out) == 0 ? TG_OK : -TG_E_INTERNAL;
	free(buf);
	return rc;
}

int
tg_pkg_tree_path(const struct tg_config *cfg, const char *hash, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", cfg->packages_dir, hash);

	return n < 0 || (size_t)n >= cap ? -TG_E_INTERNAL : TG_OK;
}

/*
 * Makes sure TOOLGATE_PACKAGES_DIR/<hash> holds closure: the sandbox
 * fetches and checks the wheels and its egress proxy stores the unpacked
 * files (paths checked there) into a temporary directory here; this checks
 * the hashes once more and that the directory holds only directories and
 * regular files, makes it read-only and renames it into place. An existing
 * tree is never modified.
 */
int
tg_pkg_ensure_tree(const struct tg_config *cfg, const char *hash, json_t *closure,
    struct tg_err *err)
{
	char dst[1024], tmp[1100];
	json_t *args = NULL, *res = NULL, *wheels, *f;
	struct stat st;
	size_t i;
	int rc, n;

	if (cfg == NULL || cfg->packages_dir[0] == '\0')
		return tg_err_set(err, TG_E_UNAVAIL, "no package directory is"
						     " configured (TOOLGATE_PACKAGES_DIR)");
	if ((rc = tg_pkg_tree_path(cfg, hash, dst, sizeof(dst))) != TG_OK)
		return tg_err_from(err, rc);
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode))
		return TG_OK;
	n = snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%ld", cfg->packages_dir, hash,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return tg_err_from(err, -TG_E_INTERNAL);
	(void)rm_tree(tmp);
	if (mkdir(tmp, 0755) != 0)
		return tg_err_set(err, TG_E_UNAVAIL, "cannot create %s: %s", tmp,
		    strerror(errno));
	args = json_pack("{s:s, s:O}", "op", "fetch", "closure", closure);
	if (args == NULL) {
		rc = tg_err_from(err, -TG_E_NOMEM);
		goto fail;
	}
	rc = tg_pkg_resolver_run(cfg, args, tmp, &res, err);
	json_decref(args);
	if (rc != TG_OK)
		goto fail;
	/* security: the hashes once more, on this side */
	wheels = json_object_get(res, "wheels");
	if (json_array_size(wheels) != json_array_size(closure)) {
		rc = tg_err_set(err, TG_E_UNAVAIL, "the package fetch returned %zu wheels"
						   " for %zu packages",
		    json_array_size(wheels), json_array_size(closure));
		goto fail;
	}
	json_array_foreach(closure, i, f) {
		const char *want = json_string_value(json_object_get(f, "sha256"));
		const char *got = json_string_value(json_object_get(
		    json_array_get(wheels, i), "sha256"));

		if (want == NULL || got == NULL || strcmp(want, got) != 0) {
			rc = tg_err_set(err, TG_E_UNPROCESSABLE, "sha256 of %s is not the"
								 " recorded one: refused",
			    json_string_value(
				json_object_get(f, "filename")));
			goto fail;
		}
	}
	if (nftw(tmp, kinds_ok, 16, FTW_PHYS) != 0) {
		rc = tg_err_set(err, TG_E_UNPROCESSABLE, "the package tree holds"
							 " something other than files and directories: refused");
		goto fail;
	}
	if (nftw(tmp, ro_one, 16, FTW_PHYS) != 0 ||
	    nftw(tmp, ro_dir, 16, FTW_PHYS | FTW_DEPTH) != 0) {
		rc = tg_err_set(err, TG_E_UNAVAIL, "cannot make the package tree"
						   " read-only: %s",
		    strerror(errno));
		goto fail;
	}
	if (rename(tmp, dst) != 0) {
		/* another worker or host built it meanwhile: same content */
		if (errno != EEXIST && errno != ENOTEMPTY) {
			rc = tg_err_set(err, TG_E_UNAVAIL, "cannot install the package"
							   " tree: %s",
			    strerror(errno));
			goto fail;
		}
		(void)rm_tree(tmp);
	}
	tg_log(TG_LOG_INFO, "packages.tree_built", "tree=%s files=%lld", hash,
	    (long long)json_integer_value(json_object_get(res, "files")));
	rc = TG_OK;
	goto out;
fail:
	(void)rm_tree(tmp);
out:
	json_decref(res);
	return rc;
}

int
tg_packages_gc(struct tg_db *db, const struct tg_config *cfg, int64_t grace_s)
{
	DIR *d;
	struct dirent *de;
	json_t *trees = NULL, *t;
	char path[1024];
	struct stat st;
	size_t i;
	int rc, n = 0;

	if (cfg == NULL || cfg->packages_dir[0] == '\0')
		return 0;
	if ((rc = tg_svc_query_array(db, "SELECT to_json(tree)::text FROM"
					 " package_sets",
		 0, NULL, &trees)) != TG_OK)
		return rc;
	if ((d = opendir(cfg->packages_dir)) == NULL) {
		json_decref(trees);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		int used = 0;

		if (strlen(de->d_name) != TG_SHA256_HEX_LEN &&
		    strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		json_array_foreach(trees, i, t)
			used |= strcmp(json_string_value(t), de->d_name) == 0;
		if (used || snprintf(path, sizeof(path), "%s/%s", cfg->packages_dir, de->d_name) >= (int)sizeof(path))
			continue;
		/* running calls keep their tree: only trees unused (not
		 * touched by a call) for grace_s go */
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_mtime > time(NULL) - grace_s)
			continue;
		if (rm_tree(path) == 0)
			n++;
	}
	closedir(d);
	json_decref(trees);
	if (n > 0)
		tg_log(TG_LOG_INFO, "packages.gc", "removed=%d", n);
	return n;
}
