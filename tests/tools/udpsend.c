// SPDX-License-Identifier: GPL-2.0
/*
 * udpsend - exact UDP packet source for the guest tests and the data-path
 * benchmark.
 *
 *   udpsend -d DST [-N NDST] -p PORT [-s SRC | -S SRCBASE -n NSRC]
 *           [-c COUNT] [-r PPS] [-t SECONDS] [-l LEN] [-b BATCH] [-o FILE]
 *
 * Sends UDP datagrams to DST:PORT (IPv4 or IPv6) until COUNT have been
 * handed to the kernel, SECONDS have passed, or SIGTERM/SIGINT arrives,
 * whichever comes first. -S/-n walk NSRC consecutive source addresses
 * starting at SRCBASE, one per packet, round robin (IP_TRANSPARENT lets the
 * socket use addresses that are not configured locally); -N walks NDST
 * consecutive destinations starting at DST the same way, so one process
 * sends exactly COUNT/NDST packets to each of several peers. -r paces to PPS
 * packets per second against absolute deadlines, so the rate is exact over
 * the run instead of drifting with per-packet sleeps.
 *
 * On exit prints one line to stdout (and to FILE with -o):
 *   sent=N failed=F elapsed=S pps=P
 * "sent" counts datagrams the kernel accepted; "failed" counts send errors
 * (e.g. ENOBUFS, or EPERM from a netfilter drop on the way out), which
 * are not retried: each packet is counted once, as one or the other. Exit status: 0 if nothing failed
 * and (with -c) COUNT were sent, 1 otherwise, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX	256
#define PAYLOAD_MAX	9000

struct opts {
	const char *dst, *src, *srcbase, *outfile;
	unsigned int port, nsrc, ndst, len, batch;
	uint64_t count;		/* 0 = unlimited */
	double rate;		/* 0 = as fast as possible */
	double seconds;		/* 0 = unlimited */
};

struct addr {
	int family;
	struct in_addr v4;
	struct in6_addr v6;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: udpsend -d DST [-N NDST] -p PORT [-s SRC | -S SRCBASE -n NSRC]\n"
		"               [-c COUNT] [-r PPS] [-t SECONDS] [-l LEN]\n"
		"               [-b BATCH] [-o FILE]\n");
	exit(2);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double when)
{
	struct timespec ts;

	ts.tv_sec = (time_t)when;
	ts.tv_nsec = (long)((when - ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !stop_requested)
		;
}

static bool parse_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

/* The i-th address after BASE: IPv4 as a 32-bit number, IPv6 in its low
 * 32 bits. */
static struct addr addr_add(const struct addr *base, uint32_t i)
{
	struct addr a = *base;
	uint32_t low;

	if (a.family == AF_INET) {
		a.v4.s_addr = htonl(ntohl(a.v4.s_addr) + i);
	} else {
		memcpy(&low, &a.v6.s6_addr[12], 4);
		low = htonl(ntohl(low) + i);
		memcpy(&a.v6.s6_addr[12], &low, 4);
	}
	return a;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->len = 64;
	o->batch = 32;
	o->nsrc = 1;
	o->ndst = 1;
	while ((c = getopt(argc, argv, "d:N:p:s:S:n:c:r:t:l:b:o:h")) != -1) {
		switch (c) {
		case 'd': o->dst = optarg; break;
		case 'N': o->ndst = strtoul(optarg, NULL, 0); break;
		case 'p': o->port = strtoul(optarg, NULL, 0); break;
		case 's': o->src = optarg; break;
		case 'S': o->srcbase = optarg; break;
		case 'n': o->nsrc = strtoul(optarg, NULL, 0); break;
		case 'c': o->count = strtoull(optarg, NULL, 0); break;
		case 'r': o->rate = strtod(optarg, NULL); break;
		case 't': o->seconds = strtod(optarg, NULL); break;
		case 'l': o->len = strtoul(optarg, NULL, 0); break;
		case 'b': o->batch = strtoul(optarg, NULL, 0); break;
		case 'o': o->outfile = optarg; break;
		default: usage();
		}
	}
	if (!o->dst || !o->port || o->port > 65535 || optind != argc ||
	    (o->src && o->srcbase) || o->nsrc == 0 || o->ndst == 0 ||
	    o->len < 12 || o->len > PAYLOAD_MAX ||
	    o->batch == 0 || o->batch > BATCH_MAX || o->rate < 0 || o->seconds < 0)
		usage();
}

struct sender {
	int fd;
	struct addr dst, srcbase;
	bool multi_src;
	unsigned int nsrc, ndst, len, port;
	struct sockaddr_storage to[BATCH_MAX];	/* per slot: -N varies it */
	socklen_t tolen;
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	unsigned char payload[BATCH_MAX][PAYLOAD_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cmsg[BATCH_MAX];
};

static int set_transparent(int fd, int family)
{
	int one = 1;

	if (family == AF_INET)
		return setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
	return setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
}

static int bind_source(int fd, const struct addr *src)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	if (src->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = src->v4;
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = src->v6;
		len = sizeof(*sin6);
	}
	return bind(fd, (struct sockaddr *)&ss, len);
}

static int sender_open(struct sender *s, const struct opts *o)
{
	struct addr src;

	if (!parse_addr(o->dst, &s->dst)) {
		fprintf(stderr, "udpsend: bad destination address '%s'\n", o->dst);
		return -1;
	}
	s->fd = socket(s->dst.family, SOCK_DGRAM, 0);
	if (s->fd < 0) {
		perror("udpsend: socket");
		return -1;
	}
	if (o->src || o->srcbase) {
		const char *text = o->src ? o->src : o->srcbase;

		if (!parse_addr(text, &src) || src.family != s->dst.family) {
			fprintf(stderr, "udpsend: bad source address '%s'\n", text);
			return -1;
		}
		/* Needed for sources not configured on any interface. */
		if (set_transparent(s->fd, src.family) < 0 && o->srcbase) {
			perror("udpsend: IP_TRANSPARENT");
			return -1;
		}
		if (o->src && bind_source(s->fd, &src) < 0) {
			perror("udpsend: bind");
			return -1;
		}
		s->srcbase = src;
		s->multi_src = o->srcbase != NULL;
	}
	s->nsrc = o->nsrc;
	s->ndst = o->ndst;
	s->len = o->len;
	s->port = o->port;
	return 0;
}

/* The destination of packet SEQ into slot SLOT's sockaddr. */
static void set_destination(struct sender *s, unsigned int slot, uint64_t seq)
{
	struct addr a = addr_add(&s->dst, (uint32_t)(seq % s->ndst));
	struct sockaddr_storage *to = &s->to[slot];

	memset(to, 0, sizeof(*to));
	if (a.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)to;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(s->port);
		sin->sin_addr = a.v4;
		s->tolen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)to;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(s->port);
		sin6->sin6_addr = a.v6;
		s->tolen = sizeof(*sin6);
	}
}

/* Per-packet source address as an IP_PKTINFO / IPV6_PKTINFO cmsg. */
static void set_pktinfo(struct sender *s, unsigned int slot, uint64_t seq)
{
	struct msghdr *mh = &s->msgs[slot].msg_hdr;
	struct addr a = addr_add(&s->srcbase, (uint32_t)(seq % s->nsrc));
	struct cmsghdr *cm = (struct cmsghdr *)s->cmsg[slot].buf;

	memset(s->cmsg[slot].buf, 0, sizeof(s->cmsg[slot].buf));
	mh->msg_control = cm;
	if (a.family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = a.v4 };

		cm->cmsg_level = SOL_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = a.v6 };

		cm->cmsg_level = SOL_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

static void fill_batch(struct sender *s, unsigned int n, uint64_t seq)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct msghdr *mh = &s->msgs[i].msg_hdr;
		uint64_t q = seq + i;

		memcpy(s->payload[i], &q, sizeof(q));
		s->iov[i].iov_base = s->payload[i];
		s->iov[i].iov_len = s->len;
		memset(mh, 0, sizeof(*mh));
		set_destination(s, i, q);
		mh->msg_name = &s->to[i];
		mh->msg_namelen = s->tolen;
		mh->msg_iov = &s->iov[i];
		mh->msg_iovlen = 1;
		if (s->multi_src)
			set_pktinfo(s, i, q);
	}
}

struct result {
	uint64_t sent, failed;
	double elapsed;
};

/* How many packets may go now: the batch size, the remaining count and,
 * when paced, the packets whose deadline has passed. Sleeps until the
 * next deadline when none is due. */
static unsigned int packets_due(const struct opts *o, const struct result *r,
				double start)
{
	uint64_t done = r->sent + r->failed, want = o->batch;

	if (o->count && o->count - done < want)
		want = o->count - done;
	if (o->rate > 0) {
		double t = now_sec() - start;
		uint64_t due = (uint64_t)(t * o->rate) + 1;

		if (due <= done) {
			sleep_until(start + (double)done / o->rate);
			return 0;
		}
		if (due - done < want)
			want = due - done;
	}
	return (unsigned int)want;
}

static void run(struct sender *s, const struct opts *o, struct result *r)
{
	double start = now_sec(), t;

	memset(r, 0, sizeof(*r));
	while (!stop_requested) {
		unsigned int n;
		int k;

		t = now_sec();
		if (o->seconds > 0 && t - start >= o->seconds)
			break;
		if (o->count && r->sent + r->failed >= o->count)
			break;
		n = packets_due(o, r, start);
		if (!n)
			continue;
		fill_batch(s, n, r->sent + r->failed);
		k = sendmmsg(s->fd, s->msgs, n, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r->failed++;	/* the first of the batch failed */
			continue;
		}
		r->sent += (unsigned int)k;
		/* sendmmsg() on a blocking socket stops at the first message
		 * it cannot send and returns how many went before it, losing
		 * that message's error: it failed, and sending it again would
		 * make the kernel see (and count) it twice. */
		if ((unsigned int)k < n)
			r->failed++;
	}
	r->elapsed = now_sec() - start;
}

static void report(const struct opts *o, const struct result *r)
{
	char line[160];
	FILE *f;

	snprintf(line, sizeof(line), "sent=%llu failed=%llu elapsed=%.3f pps=%.0f\n",
		 (unsigned long long)r->sent, (unsigned long long)r->failed,
		 r->elapsed, r->elapsed > 0 ? r->sent / r->elapsed : 0.0);
	fputs(line, stdout);
	fflush(stdout);
	if (!o->outfile)
		return;
	f = fopen(o->outfile, "w");
	if (!f || fputs(line, f) == EOF || fclose(f) == EOF)
		perror("udpsend: writing result file");
}

static struct sender sender;

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct opts o;
	struct result r;

	parse_opts(argc, argv, &o);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (sender_open(&sender, &o) < 0)
		return 1;
	run(&sender, &o, &r);
	report(&o, &r);
	close(sender.fd);
	if (r.failed || (o.count && r.sent != o.count))
		return 1;
	return 0;
}
