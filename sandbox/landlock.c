/*
 * landlock.c - the landlock layer, through raw syscalls.
 *
 * Debian 12's <linux/landlock.h> stops at ABI 2, the kernels we run on go
 * further, so the newer rights are defined here. We handle every filesystem
 * right the running ABI knows (up to IOCTL_DEV, ABI 5), every TCP right
 * (ABI 4: no rule, so no TCP bind/connect at all), and with scope the
 * signal and abstract-unix-socket scoping of ABI 6 (a tool cannot signal or
 * reach processes outside its own domain, which matters in degraded mode).
 * Rules whose path does not exist are skipped.
 */
#include "sandbox/sbx.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)

#define LL_FS_ABI1 ((1ULL << 13) - 1)
#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

struct ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int
sbx_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t
rights_for(int set, uint64_t handled)
{
	uint64_t r = 0;

	switch (set) {
	case SBX_LL_DIR:
		r = LANDLOCK_ACCESS_FS_READ_DIR;
		break;
	case SBX_LL_RO:
		r = LL_READ;
		break;
	case SBX_LL_RX:
		r = LL_READ | LANDLOCK_ACCESS_FS_EXECUTE;
		break;
	case SBX_LL_DEV:
		r = LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE | LL_FS_TRUNCATE |
		    LL_FS_IOCTL_DEV;
		break;
	case SBX_LL_RW:
		r = LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_REMOVE_DIR |
		    LANDLOCK_ACCESS_FS_REMOVE_FILE |
		    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		    LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER |
		    LL_FS_TRUNCATE;
		break;
	default:
		break;
	}
	return r & handled;
}

int
sbx_landlock_apply(const struct sbx_ll_rule *rules, size_t n, int scope)
{
	struct ll_attr attr;
	size_t attr_size, i;
	int abi, rs = -1, rc = 0;

	abi = sbx_landlock_abi();
	if (abi < 1)
		return -ENOSYS;
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	attr_size = sizeof attr.handled_access_fs;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_attr, scoped);
	}
	if (abi >= 6 && scope) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = sizeof attr;
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0U);
	if (rs < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		struct landlock_path_beneath_attr pb;
		struct stat st;
		int fd;

		fd = open(rules[i].path, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			rc = -errno;
			goto out;
		}
		memset(&pb, 0, sizeof pb);
		pb.parent_fd = fd;
		pb.allowed_access = rights_for((int)rules[i].access,
		    attr.handled_access_fs);
		if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
			pb.allowed_access &= LL_FILE_RIGHTS;
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
		    &pb, 0U) != 0) {
			rc = -errno;
			close(fd);
			goto out;
		}
		close(fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = -errno;
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0U) != 0) {
		rc = -errno;
		goto out;
	}
	rc = abi;
out:
	if (rs >= 0)
		close(rs);
	return rc;
}
