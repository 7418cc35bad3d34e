/*
 * packages.c - the request's "packages" member: the directory of the
 * server's package set (a read-only, content-addressed tree the worker
 * built under TOOLGATE_PACKAGES_DIR, docs/packages.md). The child binds it
 * read-only at SBX_PKG_DIR (child.c) and the runner appends that to
 * sys.path after the standard library, so a package can never shadow a
 * standard module. Warm children never get it: the helper runs such a call
 * cold (helper.c), and the client does not send it warm in the first place.
 */
#include "sandbox/sbx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int
sbx_packages_check(const char *path, char *msg, size_t msglen)
{
	const char *s;
	struct stat st;
	size_t n;

	/* the child mounts the new root on /tmp (child.c NEWROOT) before it
	 * binds the package set: a tree under /tmp would be hidden */
	if (strncmp(path, "/tmp/", 5) == 0 || strcmp(path, "/tmp") == 0) {
		snprintf(msg, msglen, "packages must not be under /tmp");
		return -1;
	}
	if (path[0] != '/' || strlen(path) > 500) {
		snprintf(msg, msglen, "packages must be an absolute path of at most"
				      " 500 bytes");
		return -1;
	}
	for (s = path + 1;; s += n + 1) {
		n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.')) {
			snprintf(msg, msglen, "packages must be a normalised path");
			return -1;
		}
		if (s[n] == '\0')
			break;
	}
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(msg, msglen, "packages: %s is not a directory (%s)", path,
		    strerror(errno ? errno : ENOTDIR));
		return -1;
	}
	return 0;
}

/* ---- warm package sets ---------------------------------------------------- */

const char *sbx_packages_root;
char sbx_warm_tree[65];

static int
hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int
sbx_pkg_tree_of(const char *packages, char tree[65])
{
	size_t n;

	tree[0] = '\0';
	if (packages == NULL || sbx_packages_root == NULL)
		return packages == NULL ? 0 : -1;
	n = strlen(sbx_packages_root);
	if (strncmp(packages, sbx_packages_root, n) != 0 || packages[n] != '/' ||
	    !hex64(packages + n + 1))
		return -1;
	memcpy(tree, packages + n + 1, 65);
	return 0;
}

/*
 * The package trees of a warm child (before anything of its call, while
 * it still holds its namespace's capabilities): the tree it was prepared
 * for bound read-only at SBX_PKG_DIR, then every other tree unmounted in
 * its own mount namespace. A child of a zygote without --packages-root has
 * neither.
 */
void
sbx_warm_packages_bind(int errp, int (*bind)(const char *, const char *))
{
	char src[sizeof SBX_TREES_DIR + 70];
	struct stat st;
	int rc;

	if (stat(SBX_TREES_DIR, &st) != 0) {
		if (sbx_warm_tree[0] != '\0')
			sbx_child_fail(errp, "package set", ENOENT);
		return;
	}
	if (sbx_warm_tree[0] != '\0') {
		if (!hex64(sbx_warm_tree))
			sbx_child_fail(errp, "package set", EINVAL);
		snprintf(src, sizeof src, "%s/%s", SBX_TREES_DIR, sbx_warm_tree);
		if ((rc = bind(src, SBX_PKG_DIR)) != 0)
			sbx_child_fail(errp, "bind packages", -rc);
	}
	if (umount2(SBX_TREES_DIR, MNT_DETACH) != 0)
		sbx_child_fail(errp, "hide the package trees", errno);
}

/*
 * The request's "package_egress" member: set by the worker for the
 * package resolver's own runs only (lib/packages.c), never for a tool run.
 *
 *   {"hosts": ["pypi.example:443", ...],   index and extra hosts: download
 *                                           mode, with its own cap
 *    "private_hosts": [...],                configured hosts that may resolve
 *                                           to private or loopback addresses
 *    "max_download": bytes,                 the cap of one download
 *    "out_dir": "/abs/dir", "max_tree": bytes}  optional: where the
 *                                           installer's files go (stores)
 *
 * The proxy (proxy.c) consults it through the functions below.
 */
static const json_t *g_pe;
static long long g_tree_bytes, g_tree_files;

#define SBX_PKG_MAX_FILES 50000

static int
strings(const json_t *a)
{
	size_t i;
	json_t *x;

	if (!json_is_array(a) || json_array_size(a) > 64)
		return 0;
	json_array_foreach(a, i, x)
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > 300)
			return 0;
	return 1;
}

int
sbx_pkg_egress_check(const json_t *pe, char *msg, size_t msglen)
{
	json_error_t je;
	json_t *hosts = NULL, *priv = NULL;
	json_int_t maxdl = 0, maxtree = 0;
	const char *out = NULL;
	struct stat st;

	if (json_unpack_ex((json_t *)pe, &je, JSON_STRICT,
		"{s:o, s:o, s:I, s?s, s?I}", "hosts", &hosts, "private_hosts", &priv,
		"max_download", &maxdl, "out_dir", &out, "max_tree", &maxtree) != 0 ||
	    !strings(hosts) || !strings(priv) || maxdl < 1 ||
	    maxdl > (json_int_t)4 << 30 || maxtree < 0 ||
	    maxtree > (json_int_t)64 << 30) {
		snprintf(msg, msglen, "package_egress must be {hosts, "
				      "private_hosts, max_download, out_dir?, max_tree?}");
		return -1;
	}
	if (out != NULL && (out[0] != '/' || strlen(out) > 500 || lstat(out, &st) != 0 || !S_ISDIR(st.st_mode))) {
		snprintf(msg, msglen, "package_egress.out_dir must be an existing "
				      "absolute directory");
		return -1;
	}
	return 0;
}

void
sbx_proxy_packages(const json_t *pe)
{
	g_pe = pe;
}

long long
sbx_pkg_download_cap(const char *host, const char *scheme, long port,
    int (*match)(const json_t *, const char *, const char *, long))
{
	if (g_pe == NULL ||
	    !match(json_object_get(g_pe, "hosts"), host, scheme, port))
		return 0;
	return json_integer_value(json_object_get(g_pe, "max_download"));
}

int
sbx_pkg_private_ok(const char *host, const char *scheme, long port,
    int (*match)(const json_t *, const char *, const char *, long))
{
	return g_pe != NULL && host != NULL &&
	    match(json_object_get(g_pe, "private_hosts"), host, scheme, port);
}

int
sbx_pkg_installer(void)
{
	return g_pe != NULL;
}

/* A relative path of regular components: no "", ".", "..", '\\'. */
static int
safe_rel(const char *p)
{
	const char *s = p;
	size_t n;

	if (*p == '\0' || *p == '/' || strlen(p) > 1000 || strchr(p, '\\'))
		return 0;
	for (;;) {
		n = strcspn(s, "/");
		if (n == 0 || n > 255 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

/* Opens (creating) the parent directories of rel under dfd, never
 * following a link; returns the directory fd and sets *base. */
static int
open_parent(int dfd, char *rel, const char **base)
{
	char *s = rel, *slash;
	int fd = dup(dfd), nfd;

	while (fd >= 0 && (slash = strchr(s, '/')) != NULL) {
		*slash = '\0';
		if (mkdirat(fd, s, 0755) != 0 && errno != EEXIST) {
			close(fd);
			return -1;
		}
		nfd = openat(fd, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		close(fd);
		fd = nfd;
		s = slash + 1;
	}
	*base = s;
	return fd;
}

/*
 * {"store": [[path, data_b64, append], ...]}: the installer's unpacked
 * files, written under out_dir (created O_EXCL|O_NOFOLLOW, or appended
 * to when append is true). Paths are checked here: relative, no "." or
 * "..", no links followed. The tree's size and file count are capped.
 */
json_t *
sbx_pkg_store(const json_t *files, int (*b64dec)(const char *, char **, size_t *))
{
	const char *dir = json_string_value(json_object_get(g_pe, "out_dir"));
	long long max = json_integer_value(json_object_get(g_pe, "max_tree"));
	char msg[300] = "", rel[1024];
	size_t i;
	json_t *f;
	int dfd = -1;

	if (dir == NULL || !json_is_array(files)) {
		snprintf(msg, sizeof msg, "store is for the package installer only");
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(msg, sizeof msg, "cannot open the package tree: %s",
		    strerror(errno));
		goto out;
	}
	json_array_foreach(files, i, f) {
		const char *p = json_string_value(json_array_get(f, 0));
		const char *d = json_string_value(json_array_get(f, 1));
		int app = json_is_true(json_array_get(f, 2)), pfd, fd;
		const char *base;
		char *data = NULL;
		size_t len = 0;

		if (p == NULL || d == NULL || !safe_rel(p) ||
		    strlen(p) >= sizeof rel) {
			snprintf(msg, sizeof msg, "unsafe path in a wheel: %.200s",
			    p ? p : "?");
			goto out;
		}
		if (b64dec(d, &data, &len) != 0) {
			snprintf(msg, sizeof msg, "bad file data");
			goto out;
		}
		g_tree_bytes += (long long)len;
		g_tree_files += !app;
		if ((max > 0 && g_tree_bytes > max) ||
		    g_tree_files > SBX_PKG_MAX_FILES) {
			free(data);
			snprintf(msg, sizeof msg, "the package set is larger than "
						  "%lld MiB or %d files: refused",
			    max >> 20,
			    SBX_PKG_MAX_FILES);
			goto out;
		}
		memcpy(rel, p, strlen(p) + 1);
		pfd = open_parent(dfd, rel, &base);
		fd = pfd < 0 ? -1 : openat(pfd, base, app ? O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || sbx_write_all(fd, data, len) != 0) {
			int e = errno;

			snprintf(msg, sizeof msg, "cannot write %.200s: %s", p,
			    e == EEXIST ? "two wheels provide it" : strerror(e));
		}
		if (fd >= 0 && close(fd) != 0 && msg[0] == '\0')
			snprintf(msg, sizeof msg, "cannot write %.200s", p);
		if (pfd >= 0)
			close(pfd);
		free(data);
		if (msg[0])
			goto out;
	}
out:
	if (dfd >= 0)
		close(dfd);
	if (msg[0])
		return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	return json_pack("{s:b, s:I}", "ok", 1, "stored",
	    (json_int_t)json_array_size(files));
}
