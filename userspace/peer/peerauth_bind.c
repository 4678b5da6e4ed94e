// SPDX-License-Identifier: GPL-2.0
/* The default binder: svrcert.ko's peer table over generic netlink. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netlink/nl.h"
#include "peerauth_int.h"

/* One handle, opened when first needed and again after any failure (the
 * module may be loaded after the daemon started). */
static struct svrcert_nl *nl_handle(struct peerauth *pa, char *msg,
				    size_t msglen)
{
	int ret;

	if (pa->nl)
		return pa->nl;
	ret = svrcert_nl_open(&pa->nl);
	if (ret) {
		pa->nl = NULL;
		snprintf(msg, msglen, "%s", ret == -ENOENT ?
			 "svrcert module not loaded" : svrcert_nl_open_errmsg());
	}
	return pa->nl;
}

int pa_default_bind(const struct peerauth_binding *b, void *ctx, char *msg,
		    size_t msglen)
{
	struct peerauth *pa = ctx;
	struct svrcert_peer_info info = { .state = b->state,
					  .cert_der = b->cert_der,
					  .cert_der_len = b->cert_der_len };
	struct svrcert_nl *nl = nl_handle(pa, msg, msglen);
	int ret;

	if (!nl)
		return -ENOENT;
	snprintf(info.name, sizeof(info.name), "%s", b->name);
	info.n_addrs = b->n_addrs < SVRCERT_PEER_ADDRS_MAX ? b->n_addrs :
		       SVRCERT_PEER_ADDRS_MAX;
	/* Same layout by design (nl.h): family + in/in6 union. */
	for (size_t i = 0; i < info.n_addrs; i++)
		memcpy(&info.addrs[i], &b->addrs[i], sizeof(info.addrs[i]));
	ret = svrcert_nl_peer_add(nl, &info, true);
	if (ret) {
		snprintf(msg, msglen, "%s%s%s", strerror(-ret),
			 svrcert_nl_errmsg(nl)[0] ? ": kernel says: " : "",
			 svrcert_nl_errmsg(nl));
		svrcert_nl_close(nl);
		pa->nl = NULL;
	}
	return ret;
}

int pa_default_unbind(const char *name, void *ctx)
{
	struct peerauth *pa = ctx;
	char msg[128];
	struct svrcert_nl *nl = nl_handle(pa, msg, sizeof(msg));

	return nl ? svrcert_nl_peer_del(nl, name) : -ENOENT;
}

void pa_nl_close(struct peerauth *pa)
{
	svrcert_nl_close(pa->nl);
	pa->nl = NULL;
}
