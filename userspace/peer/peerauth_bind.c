// SPDX-License-Identifier: GPL-2.0
/* The default binder: svrcert.ko's peer table over generic netlink. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>
#include "netlink/nl.h"
#include "pki/pki.h"
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

/* The kernel takes the certificate's revocation key with it (the UAPI's
 * Keys: only userspace canonicalises the issuer name). */
static int bind_revkey(const struct peerauth_binding *b,
		       uint8_t revkey[SVRCERT_KEY_LEN], char *msg, size_t msglen)
{
	const unsigned char *p = b->cert_der;
	X509 *x;
	int ret;

	if (!b->cert_der)
		return 0;
	x = d2i_X509(NULL, &p, (long)b->cert_der_len);
	ret = x ? svrcert_revkey_from_cert(x, revkey) : -EINVAL;
	X509_free(x);
	if (ret)
		snprintf(msg, msglen, "cannot compute the certificate's revocation key");
	return ret;
}

_Static_assert(sizeof(struct svrcert_addr) == sizeof(struct svrcert_nl_addr),
	       "the binding's addresses are copied as they are");

int pa_default_bind(const struct peerauth_binding *b, void *ctx, char *msg,
		    size_t msglen)
{
	struct peerauth *pa = ctx;
	struct svrcert_peer_info info = { .state = b->state,
					  .cert_der = b->cert_der,
					  .cert_der_len = b->cert_der_len,
					  .esp_set = true,
					  .esp_required = b->esp_required,
					  .esp_proto = b->esp_proto,
					  .auth_port = b->auth_port,
					  .peer_auth_port = b->peer_auth_port };
	struct svrcert_nl *nl;
	int ret;

	ret = bind_revkey(b, info.revkey, msg, msglen);
	if (ret)
		return ret;
	nl = nl_handle(pa, msg, msglen);
	if (!nl)
		return -ENOENT;
	snprintf(info.name, sizeof(info.name), "%s", b->name);
	info.n_addrs = b->n_addrs < SVRCERT_PEER_ADDRS_MAX ? b->n_addrs :
		       SVRCERT_PEER_ADDRS_MAX;
	/* Same layout by design (nl.h): family + in/in6 union. */
	for (size_t i = 0; i < info.n_addrs; i++)
		memcpy(&info.addrs[i], &b->addrs[i], sizeof(info.addrs[i]));
	if (b->esp_required) {
		memcpy(&info.esp_addrs[0], &b->esp_addr, sizeof(info.esp_addrs[0]));
		info.n_esp_addrs = 1;
	}
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
