/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Many generated peers for the test tools (peerload, modcycle): peer i is
 * named PREFIX<i>, sits on BASE + i (IPv4; IPv6: +i in the low 32 bits)
 * and has the template certificate with its serial number's last four
 * content bytes replaced by i, so every peer has its own fingerprint and
 * revocation key (the kernel reads the certificate's fields; it does not
 * verify the signature -- that is userspace's job -- so the patched copies
 * load). The template's serial must be at least 5 bytes long.
 *
 * The revocation keys (an OpenSSL name canonicalisation and SHA-256 each,
 * far dearer than the add under TCG) are computed once, by peerset_load(),
 * so peerset_add() is the netlink exchange only and can run many times.
 */
#ifndef SVRCERT_TOOLS_PEERSET_H
#define SVRCERT_TOOLS_PEERSET_H

#include "netlink/nl.h"

struct peerset {
	/* the caller's */
	const char *prefix;		/* peer names: PREFIX0 .. */
	struct svrcert_nl_addr base;	/* peer 0's address */
	int state;			/* enum svrcert_cert_state */
	int esp_port;			/* >= 0: ESP required, TCP to it exempt */
	/* peerset_load()'s */
	unsigned int count;
	unsigned char *der;		/* the template, patched per peer */
	size_t der_len, serial_len, serial_tlv;
	long serial_off;
	uint8_t (*revkeys)[SVRCERT_KEY_LEN];
};

/*
 * Read the template TMPL and compute COUNT peers' revocation keys: 0, or
 * -1 with ERR saying why (peerset_free() either way).
 */
int peerset_load(struct peerset *ps, const char *tmpl, unsigned int count,
		 char *err, size_t errlen);

/*
 * Add every peer over NL with svrcert_nl_peer_add(): 0, or the first
 * error (-errno) with ERR naming the peer and the kernel's message.
 */
int peerset_add(struct peerset *ps, struct svrcert_nl *nl, char *err,
		size_t errlen);

void peerset_free(struct peerset *ps);

#endif
