// SPDX-License-Identifier: GPL-2.0
/* CRL discovery: see crl_discover.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crl_discover.h"

struct svrcert_discover *svrcert_discover_new(size_t max,
					      const char *const *skip,
					      size_t nskip)
{
	struct svrcert_discover *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->u = calloc(max ? max : 1, sizeof(*d->u));
	if (!d->u) {
		free(d);
		return NULL;
	}
	d->max = max;
	d->skip = skip;
	d->nskip = nskip;
	return d;
}

void svrcert_discover_free(struct svrcert_discover *d)
{
	if (d)
		free(d->u);
	free(d);
}

const struct svrcert_discover_url *
svrcert_discover_find(const struct svrcert_discover *d, const char *url)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->u[i].url, url))
			return &d->u[i];
	return NULL;
}

bool svrcert_discover_refers(const struct svrcert_discover_url *e,
			     const char *ref)
{
	size_t n = e->nrefs < SVRCERT_DISCOVER_REFS ? e->nrefs :
		   SVRCERT_DISCOVER_REFS;

	for (size_t i = 0; i < n; i++)
		if (!strncmp(e->refs[i], ref, SVRCERT_DISCOVER_REF_LEN - 1))
			return true;
	return false;
}

/* Append S to the ", "-separated LIST unless it is there already; true
 * when appended (a full list only drops the text, not the count). */
static bool list_add(char *list, size_t len, const char *s)
{
	size_t used = strlen(list), sl = strlen(s);
	const char *p = list;

	while ((p = strstr(p, s))) {
		if ((p == list || p[-1] == ' ') && (p[sl] == ',' || !p[sl]))
			return false;
		p += sl;
	}
	if (used + sl + 3 < len)
		snprintf(list + used, len - used, "%s%s", used ? ", " : "", s);
	return true;
}

static bool web_url(const char *url)
{
	return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8);
}

static void add_ref(struct svrcert_discover_url *e, const char *ref)
{
	if (svrcert_discover_refers(e, ref))
		return;
	if (e->nrefs < SVRCERT_DISCOVER_REFS)
		snprintf(e->refs[e->nrefs], SVRCERT_DISCOVER_REF_LEN, "%s", ref);
	e->nrefs++;
}

int svrcert_discover_add(struct svrcert_discover *d, const char *url,
			 const char *ref)
{
	struct svrcert_discover_url *e;
	size_t i;

	if (!web_url(url)) {
		if (list_add(d->ignored, sizeof(d->ignored), url))
			d->nignored++;
		return 0;
	}
	if (strlen(url) >= SVRCERT_DISCOVER_URL_MAX)
		return -EINVAL;
	for (i = 0; i < d->nskip; i++)
		if (!strcmp(d->skip[i], url))
			return 0;	/* configured: fetched as such */
	e = (struct svrcert_discover_url *)svrcert_discover_find(d, url);
	if (!e && d->n == d->max) {
		if (list_add(d->over_list, sizeof(d->over_list), url))
			d->over++;
		return 0;
	}
	if (!e) {
		e = &d->u[d->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->url, sizeof(e->url), "%s", url);
	}
	add_ref(e, ref);
	return 0;
}
