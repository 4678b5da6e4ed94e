/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the two halves of the peer keys: the agreement protocol
 * (peerauth_keys.c) and the keys' timers, cuts and view
 * (peerauth_keys_timers.c). Their entry points for the rest of peerauth
 * are in peerauth_int.h.
 */
#ifndef SVRCERT_PEERAUTH_KEYS_INT_H
#define SVRCERT_PEERAUTH_KEYS_INT_H

#include "peerauth_int.h"

/* peerauth_keys.c */
/* The xfrm handle, opened on first use. */
int pa_keys_xfrm(struct peerauth *pa, struct svrcert_xfrm **out);
/* The kernel's message for the last xfrm failure, else strerror(-ERR). */
const char *pa_keys_xerr(const struct peerauth *pa, int err);
/* An agreement with PEER is past its first message on some connection. */
bool pa_keys_agreeing(const struct peerauth *pa, const struct pa_peer *peer);

/* peerauth_keys_timers.c */
/* Keys are due with PEER: none yet, asked for, or older than the rekey
 * interval. */
bool pa_keys_due(const struct peerauth *pa, const struct pa_peer *peer);

#endif
