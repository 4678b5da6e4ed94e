// SPDX-License-Identifier: GPL-2.0
/*
 * What the CRL manager's parts (daemon_crl*.c) share: counting without
 * waiting for the state lock, and the trusted CAs CRLs are verified with.
 */
#include <errno.h>
#include <syslog.h>

#include <openssl/x509.h>

#include "lib/counters.h"
#include "daemon.h"
#include "daemon_crl_int.h"
#include "pki/import_trust.h"

/* ---- counters: never wait for the state lock (svrcertctl may hold it
 * across a TPM operation); what cannot be counted now is counted later. */

void crl_count(struct crl_mgr *crl, enum svrcert_counter c)
{
	crl->pending[c]++;
}

void crl_flush_counters(struct crl_mgr *crl)
{
	struct svrcert_store *st = &crl->d->env.st;
	unsigned int c;

	for (c = 0; c < CNT__MAX; c++) {
		while (crl->pending[c]) {
			if (store_trylock(st))
				return;
			if (counters_inc(st, (enum svrcert_counter)c, NULL))
				crl->pending[c] = 1;	/* give up this one */
			store_unlock(st);
			crl->pending[c]--;
		}
	}
}

/* ---- trusted CAs: the installed bundles, read at each use so a bundle
 * added with "svrcertctl trusted-ca add" counts from the next fetch on. */

STACK_OF(X509) *crl_trusted_certs(const struct crl_mgr *crl)
{
	X509_STORE *store = NULL;
	STACK_OF(X509) *certs;
	char err[512];

	if (trust_store_build(&crl->d->env.st, crl->d->env.have_cfg ?
			      &crl->d->env.cfg : NULL, &store, err,
			      sizeof(err))) {
		syslog(LOG_WARNING, "CRL: no trusted CA to verify CRLs with: %s",
		       err);
		return sk_X509_new_null();
	}
	certs = X509_STORE_get1_all_certs(store);
	X509_STORE_free(store);
	return certs ? certs : sk_X509_new_null();
}
