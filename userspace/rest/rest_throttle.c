// SPDX-License-Identifier: GPL-2.0
/* Failed-login throttle: a bounded table of per-key failure records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest_throttle.h"

struct throttle *throttle_new(void)
{
	struct throttle *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->v = calloc(THROTTLE_SLOTS, sizeof(*t->v));
	if (!t->v || pthread_mutex_init(&t->lock, NULL)) {
		free(t->v);
		free(t);
		return NULL;
	}
	t->refs = 1;
	return t;
}

struct throttle *throttle_ref(struct throttle *t)
{
	pthread_mutex_lock(&t->lock);
	t->refs++;
	pthread_mutex_unlock(&t->lock);
	return t;
}

void throttle_unref(struct throttle *t)
{
	unsigned int left;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	left = --t->refs;
	pthread_mutex_unlock(&t->lock);
	if (left)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->v);
	free(t);
}

/* Linear search: logins are rare and each costs a yescrypt hash, which
 * dwarfs a scan of a few thousand short keys. */
static struct throttle_slot *find(struct throttle *t, const char *key)
{
	for (size_t i = 0; i < THROTTLE_SLOTS; i++)
		if (t->v[i].key[0] && !strcmp(t->v[i].key, key))
			return &t->v[i];
	return NULL;
}

/* Is A a better slot to reuse than B? Idle before busy (flooding the
 * table from many addresses must not free a locked-out user, nor a key
 * with attempts in flight), then the one that changed (or unlocks)
 * first. */
static bool better_victim(const struct throttle_slot *a,
			  const struct throttle_slot *b, time_t now)
{
	bool la = a->locked_until > now || a->pending;
	bool lb = b->locked_until > now || b->pending;

	if (la != lb)
		return !la;
	return a->locked_until != b->locked_until ?
	       a->locked_until < b->locked_until : a->last < b->last;
}

static struct throttle_slot *claim(struct throttle *t, const char *key,
				   time_t now)
{
	struct throttle_slot *s = &t->v[0];

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		if (!t->v[i].key[0]) {
			s = &t->v[i];
			break;
		}
		if (better_victim(&t->v[i], s, now))
			s = &t->v[i];
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->key, sizeof(s->key), "%s", key);
	return s;
}

/* Failures that still count. Below the lockout, a window that has
 * passed starts again; once locked out, the record (and so the doubling)
 * is forgotten only a window after the last lockout ended, or spacing
 * guesses by the lockout would start every round with free attempts. */
static unsigned int live_failures(struct throttle_slot *s, time_t now)
{
	bool stale = s->failures < THROTTLE_FREE ?
		     now - s->first > THROTTLE_WINDOW_S :
		     now - s->locked_until > THROTTLE_WINDOW_S;

	if (s->failures && stale)
		s->failures = 0;
	return s->failures;
}

static unsigned int slot_wait(struct throttle_slot *s, time_t now)
{
	if (!s)
		return 0;
	if (s->locked_until > now)
		return (unsigned int)(s->locked_until - now);
	/* The free attempts are all spoken for by attempts in flight (past
	 * them, after a lockout: one attempt at a time). */
	if (s->pending && live_failures(s, now) + s->pending >= THROTTLE_FREE)
		return THROTTLE_BUSY_S;
	return 0;
}

static void record_failure(struct throttle_slot *s, time_t now)
{
	unsigned int extra, lock;

	if (!live_failures(s, now))
		s->first = now;
	s->failures++;
	s->last = now;
	if (s->failures < THROTTLE_FREE)
		return;
	extra = s->failures - THROTTLE_FREE;
	lock = extra >= 5 ? THROTTLE_MAX_LOCK_S : THROTTLE_BASE_LOCK_S << extra;
	if (lock > THROTTLE_MAX_LOCK_S)
		lock = THROTTLE_MAX_LOCK_S;
	s->locked_until = now + lock;
}

unsigned int throttle_begin(struct throttle *t, const char *const *keys,
			    size_t n, time_t now)
{
	unsigned int wait = 0, w;
	struct throttle_slot *s;
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < n; i++) {
		w = slot_wait(find(t, keys[i]), now);
		wait = w > wait ? w : wait;
	}
	for (i = 0; !wait && i < n; i++) {
		s = find(t, keys[i]);
		if (!s)
			s = claim(t, keys[i], now);
		s->pending++;
		s->last = now;
	}
	pthread_mutex_unlock(&t->lock);
	return wait;
}

enum outcome { CANCELLED, SUCCEEDED, FAILED };

static void settle(struct throttle *t, const char *const *keys, size_t n,
		   enum outcome how, time_t now)
{
	struct throttle_slot *s;
	size_t i;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < n; i++) {
		s = find(t, keys[i]);
		if (!s && how != FAILED)
			continue;
		if (!s)		/* reused meanwhile: the failure still counts */
			s = claim(t, keys[i], now);
		if (s->pending)
			s->pending--;
		if (how == FAILED) {
			record_failure(s, now);
		} else if (how == SUCCEEDED) {
			s->failures = 0;
			s->locked_until = 0;
			s->last = now;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

void throttle_end(struct throttle *t, const char *const *keys, size_t n,
		  bool ok, time_t now)
{
	settle(t, keys, n, ok ? SUCCEEDED : FAILED, now);
}

void throttle_cancel(struct throttle *t, const char *const *keys, size_t n)
{
	settle(t, keys, n, CANCELLED, 0);
}

unsigned int throttle_wait(struct throttle *t, const char *key, time_t now)
{
	unsigned int w;

	pthread_mutex_lock(&t->lock);
	w = slot_wait(find(t, key), now);
	pthread_mutex_unlock(&t->lock);
	return w;
}
