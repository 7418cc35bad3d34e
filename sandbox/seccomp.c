/*
 * seccomp.c - load the precompiled seccomp filter (see filter.c).
 *
 * The programs are generated at build time (seccomp_gen.c ->
 * build/sandbox/seccomp_bpf.c) and installed here with a raw
 * seccomp(SECCOMP_SET_MODE_FILTER, 0) - exactly what libseccomp's
 * seccomp_load() does with our attributes (no TSYNC, no LOG, NNP set
 * before), minus building the program at every run.
 */
#include "sandbox/sbx.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int
sbx_seccomp_load(int degraded)
{
	struct sock_fprog prog;

	prog.len = degraded ? tg_sbx_bpf_degraded_len : tg_sbx_bpf_full_len;
	prog.filter = (struct sock_filter *)(degraded ? tg_sbx_bpf_degraded :
	    tg_sbx_bpf_full);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &prog) != 0)
		return -errno;
	return 0;
}

int
sbx_seccomp_dump(int degraded, int fd)
{
	const char *p = degraded ? tg_sbx_pfc_degraded : tg_sbx_pfc_full;

	return sbx_write_all(fd, p, strlen(p));
}

int
sbx_seccomp_available(void)
{
	unsigned int act = SECCOMP_RET_KILL_PROCESS;

	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
	    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0U, &act) == 0;
}
