/* SPDX-License-Identifier: GPL-2.0 */
/* svrcert.ko's counters for "show stats security" (import_kernel.c). */
#ifndef SVRCERT_PKI_IMPORT_KERNEL_H
#define SVRCERT_PKI_IMPORT_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* Peers first seen with an expired, invalid, revoked certificate, and the
 * packets received from and sent to peers, accepted and dropped (all
 * reasons). */
enum {
	KPC_CERT_EXPIRED, KPC_CERT_INVALID, KPC_CERT_REVOKED,
	KPC_RX_ACCEPTED, KPC_RX_DROPPED, KPC_TX_ACCEPTED, KPC_TX_DROPPED,
	KPC__MAX
};

/* -ENOENT when the module is not loaded (MSG says so). */
int kernel_peer_cert_counters(uint64_t out[KPC__MAX], char *msg,
			      size_t msglen);

#endif
