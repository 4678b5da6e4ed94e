/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-request deadline of the REST API ([rest] request-timeout).
 * libmicrohttpd's connection timeout counts inactivity only, so a client
 * that sends one byte a second keeps its connection (and a slot of the
 * connection limit) forever. Here every connection carries a deadline:
 *
 *   accepted (TLS handshake, headers, body)   now + timeout
 *   request complete, being answered          none (our time, not theirs)
 *   answer queued (sending it, next request)  now + timeout again
 *
 * A watchdog thread shuts down (shutdown(2), not close: libmicrohttpd
 * still owns the descriptor) the socket of each connection past its
 * deadline; libmicrohttpd then sees the end of the stream and closes the
 * connection as usual. Entries are added and removed by libmicrohttpd's
 * connection notifications under one mutex, so a descriptor is never shut
 * down after it was closed (and perhaps reused).
 */
#ifndef SVRCERT_REST_DEADLINE_H
#define SVRCERT_REST_DEADLINE_H

#include <microhttpd.h>

struct rest_deadline;

/* The watchdog for TIMEOUT_S seconds per request; NULL on failure. */
struct rest_deadline *rest_deadline_new(unsigned int timeout_s);
/* Stops the watchdog; call after MHD_stop_daemon (no connection left). */
void rest_deadline_free(struct rest_deadline *d);

/* MHD_OPTION_NOTIFY_CONNECTION callback; CLS is the rest_deadline. */
void rest_deadline_notify(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe);
/* The request on CONN has arrived whole: no deadline while answering. */
void rest_deadline_pause(struct rest_deadline *d, struct MHD_Connection *conn);
/* The answer is queued: the next deadline starts now. */
void rest_deadline_rearm(struct rest_deadline *d, struct MHD_Connection *conn);

#endif
