/*
 * filter.c - the seccomp filter, loaded last before execve.
 *
 * A deny-list (as firejail, isolate and Docker do): default ALLOW, the x86-64
 * ABI only (i386 `int 0x80` and x32 entry points kill the process through
 * SCMP_FLTATR_ACT_BADARCH), and EPERM for the kernel attack surface that
 * namespaces do not cover: ptrace and cross-process memory, keyrings, bpf,
 * perf, userfaultfd, io_uring, the whole mount API, namespaces (setns,
 * unshare, clone with any CLONE_NEW* bit; clone3 returns ENOSYS so that libc
 * falls back to clone, whose flags we can inspect), modules, kexec, reboot,
 * swap, clocks, NUMA, memfd_create and memfd_secret (tmpfs memory outside
 * RLIMIT_AS, anonymous executables), vmsplice, TIOCSTI/TIOCLINUX, device
 * mknod, and every socket family except unix and
 * inet(6) (no packet, netlink, vsock ...). EPERM rather than a kill, so a
 * tool gets a Python exception that says what was refused.
 *
 * The degraded filter (no network namespace) additionally refuses socket()
 * for every family; socketpair(AF_UNIX) stays for multiprocessing.
 *
 * This file is not part of the helper: it is linked into the build-time
 * generator seccomp_gen.c, which exports both filters with libseccomp as raw
 * BPF (and PFC for review) into build/sandbox/seccomp_bpf.c. The helper
 * loads that static program with seccomp(2) (seccomp.c): building it with
 * libseccomp at every run cost ~1.9 ms, and the helper no longer links
 * libseccomp at all.
 * `toolgate-sandbox --dump-seccomp [--degraded]` prints the PFC text.
 */
#include "sandbox/sbx.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"pidfd_getfd", "keyctl", "add_key", "request_key", "bpf",
	"perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "mount", "umount2", "pivot_root", "chroot",
	"setns", "unshare", "fsopen", "fsconfig", "fsmount", "fspick",
	"move_mount", "open_tree", "mount_setattr", "open_tree_attr",
	"init_module", "finit_module", "delete_module", "kexec_load",
	"kexec_file_load", "reboot", "swapon", "swapoff", "syslog", "acct",
	"quotactl", "quotactl_fd", "open_by_handle_at", "name_to_handle_at",
	"iopl", "ioperm", "clock_settime", "clock_adjtime", "settimeofday",
	"adjtimex", "sethostname", "setdomainname", "mbind", "migrate_pages",
	"move_pages", "set_mempolicy", "set_mempolicy_home_node",
	"fanotify_init", "memfd_secret", "memfd_create", "vmsplice",
	"lookup_dcookie", "nfsservctl", "uselib", "_sysctl", "vhangup",
	"pciconfig_read", "pciconfig_write", "pciconfig_iobase", "modify_ldt",
	"remap_file_pages", "lsm_set_self_attr", "mseal",
};

static int
deny_name(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;	/* unknown to this libseccomp: nothing to deny */
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
}

static int
build(scmp_filter_ctx ctx, int degraded)
{
	static const scmp_datum_t newflags[] = {CLONE_NEWNS,
		CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
		CLONE_NEWPID, CLONE_NEWNET};
	static const scmp_datum_t ioctls[] = {TIOCSTI, TIOCLINUX};
	size_t i;
	int rc, dom;

	for (i = 0; i < sizeof denied / sizeof denied[0]; i++)
		if ((rc = deny_name(ctx, denied[i])) != 0)
			return rc;
	for (i = 0; i < sizeof newflags / sizeof newflags[0]; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, newflags[i],
		    newflags[i]))) != 0)
			return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) != 0)
		return rc;
	for (i = 0; i < sizeof ioctls / sizeof ioctls[0]; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, (scmp_datum_t)0xffffffffU,
		    ioctls[i]))) != 0)
			return rc;
	/* mknod of character or block devices */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknod),
	    1, SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknod),
	    1, SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(mknodat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT,
	    S_IFCHR))) != 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(mknodat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT,
	    S_IFBLK))) != 0)
		return rc;
	/* sockets: unix, inet, inet6 only; no raw or packet types */
	if (degraded) {
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(socket), 0)) != 0)
			return rc;
	} else {
		for (dom = 0; dom <= 64; dom++) {
			if (dom == AF_UNIX || dom == AF_INET || dom == AF_INET6)
				continue;
			if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
			    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ,
			    (scmp_datum_t)dom))) != 0)
				return rc;
		}
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
		    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)64))) != 0)
			return rc;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(socket), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, (scmp_datum_t)0xf,
		    (scmp_datum_t)SOCK_RAW))) != 0 ||
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(socket), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, (scmp_datum_t)0xf,
		    (scmp_datum_t)SOCK_PACKET))) != 0)
			return rc;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_NE,
	    (scmp_datum_t)AF_UNIX))) != 0)
		return rc;
	return 0;
}

static int
make(scmp_filter_ctx *out, int degraded)
{
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return -ENOMEM;
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (rc = build(ctx, degraded)) != 0) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* Write the filter as raw BPF on bpf_fd and as PFC on pfc_fd (either may be
 * -1); 0 or negative errno. */
int
sbx_seccomp_export(int degraded, int bpf_fd, int pfc_fd)
{
	scmp_filter_ctx ctx = NULL;
	int rc;

	if ((rc = make(&ctx, degraded)) != 0)
		return rc;
	rc = 0;
	if (bpf_fd >= 0)
		rc = seccomp_export_bpf(ctx, bpf_fd);
	if (rc == 0 && pfc_fd >= 0)
		rc = seccomp_export_pfc(ctx, pfc_fd);
	seccomp_release(ctx);
	return rc;
}
