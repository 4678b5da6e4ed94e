// SPDX-License-Identifier: GPL-2.0
/* Failed-login throttle: a bounded table of per-key failure records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rest_throttle.h"

int throttle_init(struct throttle *t)
{
	t->v = calloc(THROTTLE_SLOTS, sizeof(*t->v));
	return t->v ? 0 : -ENOMEM;
}

void throttle_free(struct throttle *t)
{
	free(t->v);
	t->v = NULL;
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

/* Is A a better slot to reuse than B? Unlocked before locked (flooding
 * the table from many addresses must not free a locked-out user), then
 * the one that changed (or unlocks) first. */
static bool better_victim(const struct throttle_slot *a,
			  const struct throttle_slot *b, time_t now)
{
	bool la = a->locked_until > now, lb = b->locked_until > now;

	if (la != lb)
		return !la;
	return la ? a->locked_until < b->locked_until : a->last < b->last;
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

unsigned int throttle_wait(struct throttle *t, const char *key, time_t now)
{
	struct throttle_slot *s = find(t, key);

	if (!s || s->locked_until <= now)
		return 0;
	return (unsigned int)(s->locked_until - now);
}

void throttle_failure(struct throttle *t, const char *key, time_t now)
{
	struct throttle_slot *s = find(t, key);
	unsigned int extra, lock;

	if (!s)
		s = claim(t, key, now);
	if (s->failures && now - s->first > THROTTLE_WINDOW_S &&
	    s->locked_until <= now) {
		s->failures = 0;
	}
	if (!s->failures)
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

void throttle_success(struct throttle *t, const char *key)
{
	struct throttle_slot *s = find(t, key);

	if (s)
		memset(s, 0, sizeof(*s));
}
