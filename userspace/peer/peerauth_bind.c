// SPDX-License-Identifier: GPL-2.0
/* The default binder: svrcert.ko's peer table over generic netlink. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/socket.h>
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

_Static_assert(sizeof(struct svrcert_addr) == sizeof(struct svrcert_nl_addr),
	       "the binding's addresses are copied as they are");

static void digest_addr(EVP_MD_CTX *m, const struct svrcert_addr *a)
{
	uint32_t family = (uint32_t)a->family;

	/* Field by field: a struct's padding is not part of what it says. */
	EVP_DigestUpdate(m, &family, sizeof(family));
	if (a->family == AF_INET6)
		EVP_DigestUpdate(m, &a->v6, sizeof(a->v6));
	else
		EVP_DigestUpdate(m, &a->v4, sizeof(a->v4));
}

void peerauth_binding_digest(const struct peerauth_binding *b,
			     uint8_t out[SVRCERT_DIGEST_LEN])
{
	static const uint8_t no_cert[SVRCERT_DIGEST_LEN];
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint32_t v[6] = { (uint32_t)b->state, (uint32_t)b->n_addrs,
			  b->esp_required, b->esp_proto, b->auth_port,
			  b->peer_auth_port };

	memset(out, 0, SVRCERT_DIGEST_LEN);
	if (!m || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		return;		/* zero: never equal to a bound digest */
	}
	EVP_DigestUpdate(m, b->name, strlen(b->name) + 1);
	EVP_DigestUpdate(m, v, sizeof(v));
	EVP_DigestUpdate(m, b->cert_fp ? b->cert_fp : no_cert, SVRCERT_DIGEST_LEN);
	for (size_t i = 0; i < b->n_addrs; i++)
		digest_addr(m, &b->addrs[i]);
	if (b->esp_required)
		digest_addr(m, &b->esp_addr);
	if (EVP_DigestFinal_ex(m, out, NULL) != 1)
		memset(out, 0, SVRCERT_DIGEST_LEN);
	EVP_MD_CTX_free(m);
}

void peerauth_binding_info(const struct peerauth_binding *b,
			   struct svrcert_peer_info *info)
{
	*info = (struct svrcert_peer_info){ .state = b->state,
					    .cert_der = b->cert_der,
					    .cert_der_len = b->cert_der_len,
					    .esp_set = true,
					    .esp_required = b->esp_required,
					    .esp_proto = b->esp_proto,
					    .auth_port = b->auth_port,
					    .peer_auth_port = b->peer_auth_port };
	if (b->cert_der && b->revkey)
		memcpy(info->revkey, b->revkey, sizeof(info->revkey));
	snprintf(info->name, sizeof(info->name), "%s", b->name);
	info->n_addrs = b->n_addrs < SVRCERT_PEER_ADDRS_MAX ? b->n_addrs :
			SVRCERT_PEER_ADDRS_MAX;
	/* Same layout by design (nl.h): family + in/in6 union. */
	for (size_t i = 0; i < info->n_addrs; i++)
		memcpy(&info->addrs[i], &b->addrs[i], sizeof(info->addrs[i]));
	if (b->esp_required) {
		memcpy(&info->esp_addrs[0], &b->esp_addr, sizeof(info->esp_addrs[0]));
		info->n_esp_addrs = 1;
	}
}

int pa_default_bind(const struct peerauth_binding *b, void *ctx, char *msg,
		    size_t msglen)
{
	struct peerauth *pa = ctx;
	struct svrcert_peer_info info;
	struct svrcert_nl *nl;
	int ret;

	if (b->cert_der && !b->revkey) {
		snprintf(msg, msglen, "no revocation key for the certificate");
		return -EINVAL;
	}
	nl = nl_handle(pa, msg, msglen);
	if (!nl)
		return -ENOENT;
	peerauth_binding_info(b, &info);
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
