/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crl_discover -- CRL discovery: the CRL distribution points (RFC 5280
 * 4.2.1.13, cRLDistributionPoints fullName URIs) of the certificates a
 * router relies on, gathered into a bounded set of URLs to fetch like
 * configured ones. Each URL keeps who refers to it ("own", "ca <subject>",
 * "peer <name>"), so that it can be dropped when nothing does any more.
 *
 *	struct svrcert_discover *d = svrcert_discover_new(max, cfg_urls, n);
 *	svrcert_discover_add(d, url, "own");	// each URL of the own cert
 *	svrcert_discover_add(d, url, "ca /O=.../CN=...");	// each CA's
 *	svrcert_discover_add(d, url, "peer r2");		// each peer's
 *	... d->u[0 .. d->n) are the URLs to follow, in the order found ...
 *
 * Only http and https URLs are followed (what the fetcher speaks); other
 * URIs (ldap:, file:, ...) are listed in IGNORED. Past MAX the URLs are
 * counted and listed in OVER, not followed: whoever adds first wins, so a
 * caller adds its own certificate and CAs before its peers. URLs equal to
 * a configured one are skipped (fetched once, as configured).
 */
#ifndef SVRCERT_CRL_DISCOVER_H
#define SVRCERT_CRL_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#define SVRCERT_DISCOVER_URL_MAX	1024	/* = svrcert_crl_source url */
#define SVRCERT_DISCOVER_REF_LEN	96
#define SVRCERT_DISCOVER_REFS		8	/* kept per URL; more counted */

struct svrcert_discover_url {
	char url[SVRCERT_DISCOVER_URL_MAX];
	char refs[SVRCERT_DISCOVER_REFS][SVRCERT_DISCOVER_REF_LEN];
	size_t nrefs;		/* may exceed SVRCERT_DISCOVER_REFS */
};

struct svrcert_discover {
	size_t max;			/* bound on u[] */
	const char *const *skip;	/* configured URLs (caller's) */
	size_t nskip;
	struct svrcert_discover_url *u;	/* max entries */
	size_t n;
	size_t over;		/* http(s) URLs past the bound, not followed */
	char over_list[512];	/* the first of them, ", "-separated */
	char ignored[512];	/* other schemes' URIs, ", "-separated */
	size_t nignored;
};

/* A set of at most MAX URLs, SKIP[NSKIP] (kept by the caller) left out.
 * NULL when out of memory. */
struct svrcert_discover *svrcert_discover_new(size_t max,
					      const char *const *skip,
					      size_t nskip);
void svrcert_discover_free(struct svrcert_discover *d);

/* Add URL (http or https, else ignored) referred to by REF. 0, or -EINVAL
 * for a URL too long. */
int svrcert_discover_add(struct svrcert_discover *d, const char *url,
			 const char *ref);

/* The entry of URL, NULL when not in the set. */
const struct svrcert_discover_url *
svrcert_discover_find(const struct svrcert_discover *d, const char *url);

/* REF is one of E's referrers. */
bool svrcert_discover_refers(const struct svrcert_discover_url *e,
			     const char *ref);

#endif
