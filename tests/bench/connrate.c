/*
 * TCP connections per second, for the packet-path figure of `make bench`.
 *
 *   connrate serve ADDR PORT              accept and close, until killed
 *   connrate load SECONDS DST PORT SRC... connect from the SRC addresses in
 *                                         turn, 64 at a time, for SECONDS;
 *                                         prints "CONNECTED FAILED SECONDS"
 *
 * A connection counts once its handshake completes; it is then closed with a
 * reset (SO_LINGER 0), so that neither side piles up TIME_WAIT sockets and
 * every connection is a SYN, a SYN-ACK, an ACK and a RST through the rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INFLIGHT 64

static int parse(const char *addr, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *b = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a->sin_addr) == 1) {
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &b->sin6_addr) == 1) {
		b->sin6_family = AF_INET6;
		b->sin6_port = htons((uint16_t)port);
		*len = sizeof(*b);
		return 0;
	}
	fprintf(stderr, "connrate: not an address: %s\n", addr);
	return -1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int serve(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;
	struct linger lg = { 1, 0 };

	if (parse(addr, port, &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 4096) < 0) {
		perror("connrate serve");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("connrate accept");
			return 1;
		}
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(c);
	}
}

struct slot {
	int fd;
};

static int start(int ep, const struct sockaddr_storage *src, socklen_t slen,
		 const struct sockaddr_storage *dst, socklen_t dlen)
{
	struct linger lg = { 1, 0 };
	struct epoll_event ev = { .events = EPOLLOUT };
	int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (bind(fd, (const struct sockaddr *)src, slen) < 0 ||
	    (connect(fd, (const struct sockaddr *)dst, dlen) < 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int load(double seconds, const char *dst_text, unsigned port, char **srcs, int nsrcs)
{
	struct sockaddr_storage dst, *src = calloc((size_t)nsrcs, sizeof(*src));
	socklen_t dlen, *slen = calloc((size_t)nsrcs, sizeof(*slen));
	struct epoll_event evs[INFLIGHT];
	unsigned long ok = 0, failed = 0;
	int ep = epoll_create1(0), inflight = 0, next = 0;
	double t0, t;

	if (!src || !slen || ep < 0 || parse(dst_text, port, &dst, &dlen) < 0)
		return 2;
	for (int i = 0; i < nsrcs; i++)
		if (parse(srcs[i], 0, &src[i], &slen[i]) < 0)
			return 2;
	t0 = now();
	while ((t = now()) - t0 < seconds || inflight > 0) {
		while (t - t0 < seconds && inflight < INFLIGHT) {
			if (start(ep, &src[next], slen[next], &dst, dlen) < 0)
				failed++;
			else
				inflight++;
			next = (next + 1) % nsrcs;
		}
		int n = epoll_wait(ep, evs, INFLIGHT, 1000);
		if (n == 0 && t - t0 >= seconds + 3)
			break; /* stuck handshakes (a drop): give up on them */
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, err = 0;
			socklen_t el = sizeof(err);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			/* A reset after the handshake is the server's close: connected. */
			if (err && err != ECONNRESET)
				failed++;
			else
				ok++;
			close(fd); /* also removes it from the epoll set */
			inflight--;
		}
	}
	printf("%lu %lu %.3f\n", ok, failed, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], (unsigned)atoi(argv[3]));
	if (argc >= 6 && strcmp(argv[1], "load") == 0)
		return load(atof(argv[2]), argv[3], (unsigned)atoi(argv[4]), argv + 5, argc - 5);
	fprintf(stderr, "usage: connrate serve ADDR PORT | connrate load SECONDS DST PORT SRC...\n");
	return 2;
}
