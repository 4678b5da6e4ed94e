/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket of svrcertd (default /run/svrcert/control.sock, mode
 * 0660, owner root, group [daemon] control-group): a UNIX stream socket,
 * one request and one response per connection, each a single line of JSON.
 *
 *   request:  {"command": "status" | "check" | "reload" | "alarms"}
 *   response: {"ok": true, ...} or {"ok": false, "error": "why"}
 *
 * Only root or members of the control group may talk to it: the daemon
 * checks SO_PEERCRED on every connection, whatever the file mode says.
 */
#ifndef SVRCERT_CTLSOCK_H
#define SVRCERT_CTLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define CTLSOCK_LINE_MAX	65536
#define CTLSOCK_TIMEOUT_MS	5000
/* A request that makes svrcertd act (fetch, rekey, reload) is answered
 * when the loop gets to it: behind a 1 M-entry CRL's walk or a busy
 * router's handshakes that is more than seconds. */
#define CTLSOCK_ACTION_TIMEOUT_MS	30000

/* Bind and listen on PATH (its directory is created 0755), chmod 0660 and
 * chgrp GROUP (when HAVE_GROUP). A stale socket at PATH is replaced; one
 * that someone listens on is left alone (-EADDRINUSE). Returns the
 * listening fd (non-blocking) or -errno. */
int ctlsock_listen(const char *path, bool have_group, gid_t group);
/* Does someone listen on PATH (a connection is accepted or queued)? */
bool ctlsock_in_use(const char *path);

/* Group name -> gid; -ENOENT when unknown. */
int ctlsock_group_gid(const char *name, gid_t *gid);

/* May the peer on FD talk to us? Root, or a member (primary or
 * supplementary) of GROUP when HAVE_GROUP. UID receives the peer's uid. */
bool ctlsock_peer_allowed(int fd, bool have_group, gid_t group, uid_t *uid);

/* Read one '\n'-terminated line (without it) within TIMEOUT_MS into a
 * malloc'd string. -ETIMEDOUT, -EMSGSIZE, -ECONNRESET, -errno. */
int ctlsock_read_line(int fd, int timeout_ms, char **line);
/* Write OBJ as one compact JSON line. */
int ctlsock_write_json(int fd, json_t *obj);

/* Client: send REQ, receive *RESP. -ENOENT / -ECONNREFUSED when no daemon
 * listens, -EACCES when refused; the reply within CTLSOCK_TIMEOUT_MS. */
int ctlsock_request(const char *path, json_t *req, json_t **resp);
/* The same, waiting up to TIMEOUT_MS for the reply (-ETIMEDOUT). */
int ctlsock_request_wait(const char *path, json_t *req, json_t **resp,
			 int timeout_ms);

#endif
