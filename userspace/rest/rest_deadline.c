// SPDX-License-Identifier: GPL-2.0
/* The per-request deadline's watchdog (rest_deadline.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "rest_deadline.h"

struct clock_entry {
	struct clock_entry *prev, *next;
	int fd;
	int64_t deadline;		/* CLOCK_MONOTONIC ms; 0: none */
	char source[INET6_ADDRSTRLEN];
};

struct rest_deadline {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* stop */
	pthread_t thread;
	bool stop;
	unsigned int timeout_s;
	struct clock_entry head;	/* circular list */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shuts down the connections past their deadline; returns the earliest
 * deadline still ahead (0: none). Called with the lock held. */
static int64_t cut_late(struct rest_deadline *d, int64_t now)
{
	struct clock_entry *e;
	int64_t next = 0;

	for (e = d->head.next; e != &d->head; e = e->next) {
		if (!e->deadline)
			continue;
		if (e->deadline <= now) {
			syslog(LOG_NOTICE, "REST: %s: request not complete "
			       "within %u s, connection closed", e->source,
			       d->timeout_s);
			shutdown(e->fd, SHUT_RDWR);
			e->deadline = 0;	/* once */
		} else if (!next || e->deadline < next) {
			next = e->deadline;
		}
	}
	return next;
}

static void *watchdog(void *arg)
{
	struct rest_deadline *d = arg;
	struct timespec until;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		int64_t now = mono_ms(), next = cut_late(d, now);

		/* a deadline set from now on is never earlier than NEXT (all
		 * are now + the same timeout), so waking at NEXT, or in a
		 * second when there is none, is soon enough */
		if (!next)
			next = now + 1000;
		until.tv_sec = (time_t)(next / 1000);
		until.tv_nsec = (long)(next % 1000) * 1000000;
		pthread_cond_timedwait(&d->wake, &d->lock, &until);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct rest_deadline *rest_deadline_new(unsigned int timeout_s)
{
	struct rest_deadline *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	if (!d)
		return NULL;
	d->timeout_s = timeout_s;
	d->head.next = d->head.prev = &d->head;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->thread, NULL, watchdog, d)) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void rest_deadline_free(struct rest_deadline *d)
{
	struct clock_entry *e, *n;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	for (e = d->head.next; e != &d->head; e = n) {
		n = e->next;
		free(e);
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void client_text(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
			  out, (socklen_t)len);
}

static struct clock_entry *entry_new(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_CONNECTION_FD);
	struct clock_entry *e = ci ? calloc(1, sizeof(*e)) : NULL;

	if (!e)
		return NULL;
	e->fd = ci->connect_fd;
	client_text(conn, e->source, sizeof(e->source));
	return e;
}

void rest_deadline_notify(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct rest_deadline *d = cls;
	struct clock_entry *e = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* without an entry the connection only lacks the deadline */
		e = entry_new(conn);
		*socket_context = e;
		if (!e)
			return;
		pthread_mutex_lock(&d->lock);
		e->deadline = mono_ms() + 1000 * (int64_t)d->timeout_s;
		e->next = &d->head;
		e->prev = d->head.prev;
		d->head.prev->next = e;
		d->head.prev = e;
		pthread_mutex_unlock(&d->lock);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && e) {
		pthread_mutex_lock(&d->lock);
		e->prev->next = e->next;
		e->next->prev = e->prev;
		pthread_mutex_unlock(&d->lock);
		free(e);
		*socket_context = NULL;
	}
}

static void set_deadline(struct rest_deadline *d, struct MHD_Connection *conn,
			 bool arm)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct clock_entry *e = ci ? ci->socket_context : NULL;

	if (!d || !e)
		return;
	pthread_mutex_lock(&d->lock);
	e->deadline = arm ? mono_ms() + 1000 * (int64_t)d->timeout_s : 0;
	pthread_mutex_unlock(&d->lock);
}

void rest_deadline_pause(struct rest_deadline *d, struct MHD_Connection *conn)
{
	set_deadline(d, conn, false);
}

void rest_deadline_rearm(struct rest_deadline *d, struct MHD_Connection *conn)
{
	set_deadline(d, conn, true);
}
