// SPDX-License-Identifier: GPL-2.0
/*
 * udprecv - UDP packet counter for the guest tests and the benchmark.
 *
 *   udprecv -p PORT [-l ADDR] [-t SECONDS] [-o FILE]
 *
 * Binds ADDR:PORT (default: every IPv4 and IPv6 address) and counts the
 * datagrams received until SIGTERM/SIGINT or SECONDS have passed. With -o,
 * FILE is created holding "received=0" as soon as the socket is bound (so a
 * test can wait for it before sending), rewritten with the current count on
 * SIGUSR1 and with the final count on exit, each time atomically (temporary
 * file + rename). The final line also goes to stdout:
 *   received=N first=T1 last=T2
 * T1/T2: wall-clock time (CLOCK_REALTIME, seconds with microseconds) at
 * which the first and the last datagram were read, 0 if none; the expiry
 * test compares them with a certificate's notAfter.
 * Exit status 0, or 1 on a socket error, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define BUF_LEN	2048

static volatile sig_atomic_t stop_requested, dump_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_dump(int sig)
{
	(void)sig;
	dump_requested = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: udprecv -p PORT [-l ADDR] [-t SECONDS] [-o FILE]\n");
	exit(2);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct tally {
	uint64_t count;
	double first, last;	/* CLOCK_REALTIME */
};

static double wall_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_count(const char *path, const struct tally *t)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "received=%llu first=%.6f last=%.6f\n",
			  (unsigned long long)t->count, t->first, t->last) < 0 ||
	    fclose(f) == EOF || rename(tmp, path) < 0)
		perror("udprecv: writing count file");
}

static int open_socket(const char *addr, unsigned int port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(port),
				     .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	int buf = 32 << 20, zero = 0, fd;

	if (addr && inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			goto fail;
	} else {
		if (addr && inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1) {
			fprintf(stderr, "udprecv: bad address '%s'\n", addr);
			return -1;
		}
		fd = socket(AF_INET6, SOCK_DGRAM, 0);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
			goto fail;
	}
	if (fd < 0) {
		perror("udprecv: socket");
		return -1;
	}
	/* A deep buffer so a test's count is the module's doing, not ours. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/* Wake up regularly to honour the deadline. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
fail:
	perror("udprecv: bind");
	close(fd);
	return -1;
}

int main(int argc, char **argv)
{
	struct sigaction stop = { .sa_handler = on_stop }, dump = { .sa_handler = on_dump };
	static char bufs[BATCH][BUF_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	const char *addr = NULL, *outfile = NULL;
	unsigned int port = 0, i;
	double seconds = 0, start;
	struct tally t = { 0 };
	int c, fd, n;

	while ((c = getopt(argc, argv, "p:l:t:o:h")) != -1) {
		switch (c) {
		case 'p': port = strtoul(optarg, NULL, 0); break;
		case 'l': addr = optarg; break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'o': outfile = optarg; break;
		default: usage();
		}
	}
	if (!port || port > 65535 || optind != argc)
		usage();
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGUSR1, &dump, NULL);
	fd = open_socket(addr, port);
	if (fd < 0)
		return 1;
	write_count(outfile, &t);
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BUF_LEN;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_sec();
	while (!stop_requested) {
		if (seconds > 0 && now_sec() - start >= seconds)
			break;
		if (dump_requested) {
			dump_requested = 0;
			write_count(outfile, &t);
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n > 0) {
			t.last = wall_sec();
			if (!t.count)
				t.first = t.last;
			t.count += (unsigned int)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			   errno != EINTR) {
			perror("udprecv: recvmmsg");
			return 1;
		}
	}
	/* Whatever already sits in the socket was received before the stop. */
	while ((n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0) {
		t.last = wall_sec();
		if (!t.count)
			t.first = t.last;
		t.count += (unsigned int)n;
	}
	write_count(outfile, &t);
	printf("received=%llu first=%.6f last=%.6f\n", (unsigned long long)t.count,
	       t.first, t.last);
	close(fd);
	return 0;
}
