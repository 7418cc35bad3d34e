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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
