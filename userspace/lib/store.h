/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The router's state directory (/var/lib/svrcert by default): key
 * reference, CSR, certificate, trusted CA bundles, alarms and counters.
 *
 * Every write is atomic: a temp file in the same directory is written,
 * fsync'd, renamed over the target and the directory fsync'd, so a crash
 * or a failed write leaves either the old file or the new one, never a
 * mix. Functions return 0 or -errno.
 */
#ifndef SVRCERT_STORE_H
#define SVRCERT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SVRCERT_STATE_DIR_DEFAULT	"/var/lib/svrcert"

/* File names inside the state directory. */
#define STORE_ROUTER_UUID	"router-uuid"
#define STORE_KEY		"key.pem"	/* TSS2 blob or (file mode) key */
#define STORE_PUBKEY		"key.pub.pem"	/* public half, for import */
#define STORE_CSR		"csr.pem"
#define STORE_CERT		"cert.pem"
#define STORE_ALARMS		"alarms.json"
/* svrcertd's per-peer alarms (peer-certificate, peer-key: peerauth_alarm.c) */
#define STORE_PEER_ALARMS	"peer-alarms.json"
#define STORE_COUNTERS		"counters.json"
#define STORE_AUDIT_LOG		"audit.log"
#define STORE_TRUSTED_CA_DIR	"trusted-ca"	/* NAME.pem + NAME.mode */

/* Modes: secrets and key references are owner-only; public data is 0644. */
#define STORE_MODE_SECRET	0600
#define STORE_MODE_PUBLIC	0644

#define STORE_UUID_LEN		36

struct svrcert_store {
	char dir[4096];
	int lock_fd;		/* -1 unless store_lock() holds the lock */
	char key_file[4096];	/* "": DIR/key.pem ([key] key-file) */
	char uuid_file[4096];	/* "": DIR/router-uuid ([router] uuid-file) */
};

/* Open (creating it 0700 if missing) the state directory DIR, or the
 * default one when DIR is NULL. */
int store_open(struct svrcert_store *st, const char *dir);
void store_close(struct svrcert_store *st);

/* Exclusive advisory lock on DIR/.lock, so svrcertctl and svrcertd never
 * interleave read-modify-write sequences. Released by store_close(). */
int store_lock(struct svrcert_store *st);
/* As store_lock() but never waits: -EWOULDBLOCK when someone holds it. */
int store_trylock(struct svrcert_store *st);
/* Release it early (svrcertd, which keeps the store open). */
void store_unlock(struct svrcert_store *st);

/* NAME may hold one directory level ("trusted-ca/x.pem"). */
int store_path(const struct svrcert_store *st, const char *name, char *out,
	       size_t outlen);
int store_write(const struct svrcert_store *st, const char *name,
		const void *data, size_t len, mode_t mode);
/* Where the private key (or its TPM blob) lives: key_file or DIR/key.pem. */
int store_key_path(const struct svrcert_store *st, char *out, size_t outlen);
/* store_read() for an absolute path. */
int store_read_path(const char *path, char **data, size_t *len);
/* Reads a whole file (at most 1 MiB), NUL-terminated; *data is malloc'd.
 * -ENOENT when missing, -EFBIG when larger. */
int store_read(const struct svrcert_store *st, const char *name, char **data,
	       size_t *len);
bool store_exists(const struct svrcert_store *st, const char *name);
int store_remove(const struct svrcert_store *st, const char *name);

/* Append one line (data + '\n') with O_APPEND and fsync. */
int store_append_line(const struct svrcert_store *st, const char *name,
		      const char *line, mode_t mode);

/* The router's UUID (uuid_file, else DIR/router-uuid): read it, or on
 * first use generate a random (v4) one
 * and store it. OUT receives STORE_UUID_LEN chars + NUL. */
int store_router_uuid(const struct svrcert_store *st,
		      char out[STORE_UUID_LEN + 1]);

/* Generic atomic write to an arbitrary path (same rules). */
int atomic_write_file(const char *path, const void *data, size_t len,
		      mode_t mode);

/*
 * Root writes into directories the daemon's user owns (svrcertctl run as
 * root on the daemon's state directory): every file and directory the
 * store creates is handed to the owner of the directory holding it, so
 * the daemon can still read and replace it; modes stay as asked. FD is
 * the open file, PATH its path. A no-op unless we are root and that
 * directory is not root's. 0 or -errno.
 */
int store_give_to_dir_owner(int fd, const char *path);

#endif
