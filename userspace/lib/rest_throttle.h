/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Failed-login throttle of the REST API, kept separately per source
 * address and per user name: after THROTTLE_FREE failures within
 * THROTTLE_WINDOW_S, every further attempt for that key (right password or
 * not) is refused with 429 until a lockout passes; the lockout doubles
 * with each further failure up to THROTTLE_MAX_LOCK_S. A success clears
 * the user's and the source's record.
 *
 * The table is bounded (THROTTLE_SLOTS keys); when full, the record that
 * changed longest ago is reused, so memory stays fixed whatever an
 * attacker sends. Not thread-safe: the REST server uses one thread.
 */
#ifndef SVRCERT_REST_THROTTLE_H
#define SVRCERT_REST_THROTTLE_H

#include <stdbool.h>
#include <time.h>

#define THROTTLE_FREE		5
#define THROTTLE_WINDOW_S	300
#define THROTTLE_BASE_LOCK_S	30
#define THROTTLE_MAX_LOCK_S	900
#define THROTTLE_SLOTS		4096
#define THROTTLE_KEY_MAX	72

struct throttle_slot {
	char key[THROTTLE_KEY_MAX];	/* "ip:ADDR" or "user:NAME" */
	unsigned int failures;
	time_t first, last, locked_until;
};

struct throttle {
	struct throttle_slot *v;	/* THROTTLE_SLOTS of them */
};

int throttle_init(struct throttle *t);
void throttle_free(struct throttle *t);
/* Seconds until KEY may try again, 0 when it may now. */
unsigned int throttle_wait(struct throttle *t, const char *key, time_t now);
void throttle_failure(struct throttle *t, const char *key, time_t now);
void throttle_success(struct throttle *t, const char *key);

#endif
