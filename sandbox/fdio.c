/*
 * fdio.c - descriptor plumbing shared by the helper (helper.c), the
 * sandboxed child (child.c), the warm-sandbox zygote (zygote.c), the
 * package installer (packages.c) and the egress proxy (proxy.c): a write
 * loop, and one message with descriptors attached (SCM_RIGHTS) over
 * a unix socket in each direction.
 */
#include "sandbox/sbx.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The one write loop: send(2) without SIGPIPE on a socket, else write(2). */
static int
put_all(int fd, const void *p, size_t n, int sock)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = sock ? send(fd, q, n, MSG_NOSIGNAL) : write(fd, q, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

int
sbx_write_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, 0);
}

int
sbx_send_all(int sock, const void *p, size_t n)
{
	return put_all(sock, p, n, 1);
}

/* a control buffer for SBX_MAX_FDS descriptors, aligned for its header */
union cmsg_fds {
	struct cmsghdr h;
	char buf[CMSG_SPACE(SBX_MAX_FDS * sizeof(int))];
};

/* mh carries the one buffer p[0..len) through iov */
static void
msg_init(struct msghdr *mh, struct iovec *iov, const void *p, size_t len)
{
	memset(mh, 0, sizeof *mh);
	iov->iov_base = (void *)p;
	iov->iov_len = len;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
}

int
sbx_send_fds(int sock, const void *p, size_t len, const int *fds, int nfd)
{
	struct msghdr mh;
	struct iovec iov;
	union cmsg_fds u;
	struct cmsghdr *cm;
	ssize_t n;

	if (nfd < 0 || nfd > SBX_MAX_FDS)
		return -EINVAL;
	msg_init(&mh, &iov, p, len);
	memset(&u, 0, sizeof u);
	if (nfd > 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)nfd * sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int
sbx_recv_fds(int sock, void *p, size_t len, int flags, int *fds, int maxfd,
    int *nfd)
{
	struct msghdr mh;
	struct iovec iov;
	union cmsg_fds u;
	struct cmsghdr *cm;
	ssize_t n;
	size_t i, k;
	int fd;

	*nfd = 0;
	msg_init(&mh, &iov, p, len);
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	do {
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* keep up to maxfd descriptors; never leak the others */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			if (*nfd < maxfd)
				fds[(*nfd)++] = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n == len)
		return 0;
	/* end of file or a short message: the peer broke the protocol */
	while (*nfd > 0)
		close(fds[--(*nfd)]);
	return -EPROTO;
}
