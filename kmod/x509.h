/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few facts the kernel takes from a peer certificate DER. Userspace
 * does the real X.509 validation; the kernel only needs what lets it judge
 * packets on its own: the validity window and the fingerprint it looks up
 * in the revocation set. The revocation key needs the issuer name in
 * canonical form (case, white space, string types: the UAPI's Keys), which
 * is userspace's job; it comes with the certificate (SVRCERT_PEER_A_REVKEY).
 */
#ifndef _SVRCERT_X509_H
#define _SVRCERT_X509_H

#include <linux/time64.h>
#include <linux/types.h>
#include <linux/svrcert.h>

struct svrcert_cert_facts {
	u8 fingerprint[SVRCERT_KEY_LEN];	/* SHA-256(DER) */
	time64_t not_before;
	time64_t not_after;
};

/*
 * Returns 0, or -EINVAL with *@why naming what is wrong (a static string).
 */
int svrcert_x509_parse(const u8 *der, size_t len,
		       struct svrcert_cert_facts *facts, const char **why);

#endif /* _SVRCERT_X509_H */
