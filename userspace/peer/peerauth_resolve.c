// SPDX-License-Identifier: GPL-2.0
/*
 * Name resolution of a peer's authenticate host without blocking the
 * caller's loop: glibc's getaddrinfo_a() runs the lookup in its own worker
 * thread and, through a SIGEV_THREAD notification, we write one byte into
 * a pipe the loop polls. A slow or dead DNS server then delays only that
 * peer's attempt, never the control socket, the kernel feed or CRL polls.
 *
 * Lifetime: the gaicb must stay valid until glibc is done with it. A lookup
 * given up (timeout, reconfiguration, peerauth_free) is cancelled when it is
 * still queued; one that is already running is "orphaned" and freed by its
 * own notification. The lock orders that hand-over and guarantees that a
 * notification never writes to a pipe the loop already closed (the loop
 * orphans every lookup before closing it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peerauth_int.h"

struct pa_resolve {
	struct gaicb cb;
	struct addrinfo hints;
	char service[8];
	char *host;
	int notify_fd;		/* write end of the peerauth's pipe */
	bool orphaned;		/* under resolve_lock */
	bool notified;		/* under resolve_lock */
};

static pthread_mutex_t resolve_lock = PTHREAD_MUTEX_INITIALIZER;

int pa_resolver_open(struct peerauth *pa)
{
	if (pipe2(pa->resolve_pipe, O_NONBLOCK | O_CLOEXEC)) {
		pa->resolve_pipe[0] = pa->resolve_pipe[1] = -1;
		return -errno;
	}
	return 0;
}

/* Every lookup must have been abandoned first (pa_resolve_abandon). */
void pa_resolver_close(struct peerauth *pa)
{
	for (int i = 0; i < 2; i++) {
		if (pa->resolve_pipe[i] >= 0)
			close(pa->resolve_pipe[i]);
		pa->resolve_pipe[i] = -1;
	}
}

void pa_resolver_drain(struct peerauth *pa)
{
	char buf[64];

	while (read(pa->resolve_pipe[0], buf, sizeof(buf)) > 0)
		;
}

static void job_free(struct pa_resolve *r)
{
	if (r->cb.ar_result)
		freeaddrinfo(r->cb.ar_result);
	free(r->host);
	free(r);
}

/* glibc's notification thread: wake the loop, or clean up an orphan. */
static void resolved(union sigval v)
{
	struct pa_resolve *r = v.sival_ptr;
	bool orphan;

	pthread_mutex_lock(&resolve_lock);
	orphan = r->orphaned;
	r->notified = true;
	/* EAGAIN (pipe full) is fine: it is readable already. */
	if (!orphan)
		(void)!write(r->notify_fd, "", 1);
	pthread_mutex_unlock(&resolve_lock);
	if (orphan)
		job_free(r);
}

int pa_resolve_start(struct peerauth *pa, const char *host, uint16_t port,
		     struct pa_resolve **out)
{
	struct pa_resolve *r = calloc(1, sizeof(*r));
	struct gaicb *list[1];
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD,
				.sigev_notify_function = resolved };
	int ret;

	if (!r || !(r->host = strdup(host))) {
		free(r);
		return -ENOMEM;
	}
	r->notify_fd = pa->resolve_pipe[1];
	snprintf(r->service, sizeof(r->service), "%u", port);
	r->hints = (struct addrinfo){ .ai_socktype = SOCK_STREAM,
				      .ai_flags = AI_NUMERICSERV };
	r->cb = (struct gaicb){ .ar_name = r->host, .ar_service = r->service,
				.ar_request = &r->hints };
	sev.sigev_value.sival_ptr = r;
	list[0] = &r->cb;
	ret = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (ret) {
		job_free(r);
		return ret == EAI_MEMORY ? -ENOMEM : -EAGAIN;
	}
	*out = r;
	return 0;
}

/* Copy the addresses of a finished lookup into PEER->resolved (IPv4-mapped
 * IPv6 as IPv4, duplicates once, at most SVRCERT_PEER_ADDRS_MAX). */
static void take_addresses(struct pa_peer *peer, const struct addrinfo *ai)
{
	peer->n_resolved = 0;
	for (; ai && peer->n_resolved < SVRCERT_PEER_ADDRS_MAX; ai = ai->ai_next) {
		struct svrcert_addr a;
		bool dup = false;

		if (pa_sockaddr_to_addr((const struct sockaddr_storage *)
					(const void *)ai->ai_addr, &a))
			continue;
		for (size_t i = 0; i < peer->n_resolved && !dup; i++)
			dup = pa_addr_equal(&peer->resolved[i], &a);
		if (!dup)
			peer->resolved[peer->n_resolved++] = a;
	}
}

int pa_resolve_result(struct pa_resolve *r, struct pa_peer *peer,
		      char *why, size_t whylen)
{
	bool done;
	int ret;

	/* Only after the notification: it orders glibc's writes of the
	 * result before our reads. */
	pthread_mutex_lock(&resolve_lock);
	done = r->notified;
	pthread_mutex_unlock(&resolve_lock);
	if (!done || (ret = gai_error(&r->cb)) == EAI_INPROGRESS)
		return 0;
	if (!ret) {
		take_addresses(peer, r->cb.ar_result);
		if (peer->n_resolved)
			return 1;
		snprintf(why, whylen, "cannot resolve %s: no IPv4 or IPv6 "
			 "address", r->host);
		return -1;
	}
	snprintf(why, whylen, "cannot resolve %s: %s", r->host,
		 ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
	return -1;
}

void pa_resolve_abandon(struct pa_resolve *r)
{
	bool free_now;

	if (!r)
		return;
	/* Still queued: glibc forgets it and will not notify. */
	if (gai_cancel(&r->cb) == EAI_CANCELED) {
		job_free(r);
		return;
	}
	pthread_mutex_lock(&resolve_lock);
	r->orphaned = true;
	free_now = r->notified;
	pthread_mutex_unlock(&resolve_lock);
	if (free_now)
		job_free(r);
}
