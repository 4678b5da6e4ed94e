/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Failed-login throttle of the REST API, kept separately per source
 * address and per user name: after THROTTLE_FREE failures within
 * THROTTLE_WINDOW_S, every further attempt for that key (right password or
 * not) is refused with 429 until a lockout passes; the lockout doubles
 * with each further failure up to THROTTLE_MAX_LOCK_S. A success clears
 * the user's and the source's record.
 *
 * The REST server answers requests in parallel, so an attempt is reserved
 * (throttle_begin) before its password is checked and settled
 * (throttle_end) after: attempts in flight count against THROTTLE_FREE,
 * otherwise a client could send a hundred guesses at once and have them
 * all checked before the first failure is recorded. One mutex guards the
 * table; it is held for a table scan, never across the password hash.
 *
 * The table is bounded (THROTTLE_SLOTS keys); when full, the record that
 * changed longest ago is reused (never a locked one or one with attempts
 * in flight while another is free), so memory stays fixed whatever an
 * attacker sends. The table is reference-counted: a REST server started
 * on reload shares its predecessor's, so a reload lifts no lockout.
 */
#ifndef SVRCERT_REST_THROTTLE_H
#define SVRCERT_REST_THROTTLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define THROTTLE_FREE		5
#define THROTTLE_WINDOW_S	300
#define THROTTLE_BASE_LOCK_S	30
#define THROTTLE_MAX_LOCK_S	900
#define THROTTLE_SLOTS		4096
#define THROTTLE_KEY_MAX	72
/* Retry-After while the free attempts are all in flight. */
#define THROTTLE_BUSY_S		1

struct throttle_slot {
	char key[THROTTLE_KEY_MAX];	/* "ip:ADDR" or "user:NAME" */
	unsigned int failures;
	unsigned int pending;		/* attempts begun, not yet ended */
	time_t first, last, locked_until;
};

struct throttle {
	pthread_mutex_t lock;		/* guards refs and every slot */
	unsigned int refs;
	struct throttle_slot *v;	/* THROTTLE_SLOTS of them */
};

/* A new table with one reference; NULL when out of memory. */
struct throttle *throttle_new(void);
struct throttle *throttle_ref(struct throttle *t);
void throttle_unref(struct throttle *t);

/*
 * One login attempt for each of the N KEYS (e.g. source and user): the
 * seconds until they may try (the longest wait among them), or 0 with the
 * attempt reserved for every key, to be settled by throttle_end().
 */
unsigned int throttle_begin(struct throttle *t, const char *const *keys,
			    size_t n, time_t now);
/* Settle an attempt throttle_begin() reserved: OK clears the keys'
 * records, a failure counts (and may lock them out). */
void throttle_end(struct throttle *t, const char *const *keys, size_t n,
		  bool ok, time_t now);
/* Drop an attempt throttle_begin() reserved without an outcome (the
 * server, not the client, failed). */
void throttle_cancel(struct throttle *t, const char *const *keys, size_t n);
/* Seconds until KEY may try again, 0 when it may now (nothing reserved). */
unsigned int throttle_wait(struct throttle *t, const char *key, time_t now);

#endif
