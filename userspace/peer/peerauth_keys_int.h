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

/* The rotation timer calls (or asks) at most this often: after a failed
 * agreement, and after a call that started one or asked for one. */
#define PEERAUTH_KEY_RETRY_S	10

/* peerauth_keys.c */
/* The xfrm handle, opened on first use. */
int pa_keys_xfrm(struct peerauth *pa, struct svrcert_xfrm **out);
/* The kernel's message for the last xfrm failure, else strerror(-ERR). */
const char *pa_keys_xerr(const struct peerauth *pa, int err);
/* An agreement with PEER is past its first message on some connection. */
bool pa_keys_agreeing(const struct peerauth *pa, const struct pa_peer *peer);
/* A connection with PEER carries, or waits for, a key agreement. */
bool pa_keys_conn_open(const struct peerauth *pa, const struct pa_peer *peer);

/* peerauth_keys_timers.c */
/* A new agreement's SAs and policies are in (K, PATH): the replaced
 * outbound SA goes after PEERKEY_GRACE_S, the replaced inbound one is held
 * (pa_keys_hold), the new ones are recorded, a "key is invalid" alarm
 * clears. */
void pa_keys_installed(struct peerauth *pa, struct pa_peer *peer,
		       const struct peerkey_keys *k, const struct peerkey_path *path);
/* Keys are due with PEER (the lower router agrees): none yet, asked for,
 * older than the rekey interval, or stale. */
bool pa_keys_due(const struct peerauth *pa, const struct pa_peer *peer);
/* The higher router asks PEER for keys: it has none, an operator asked,
 * or they are stale. */
bool pa_keys_asks(const struct peerauth *pa, const struct pa_peer *peer);

/* peerauth_keys_held.c: inbound SAs the peer may still send on. */
/* Hold PEER's inbound SA SPI of key INDEX on PATH: it goes once an inbound
 * SA of a higher index counted a packet, PEERKEY_GRACE_S from now at the
 * earliest; the oldest goes at once when PA_HELD_MAX are held. */
void pa_keys_hold(struct peerauth *pa, struct pa_peer *peer, uint32_t spi,
		  uint64_t index, const struct peerkey_path *path);
/* Delete the held SAs the peer has left: past their grace period, or
 * (AT_ONCE: new keys were just installed) those it left before the newest
 * held SA it was seen on, within their grace too; the others past their
 * grace are looked at again one grace later. The next time one is due
 * (monotonic ms), INT64_MAX if none is held. */
int64_t pa_keys_held_prune(struct peerauth *pa, struct pa_peer *peer, int64_t now,
			   bool at_once);
int64_t pa_keys_held_due(const struct pa_peer *peer);
/* Delete every held SA of PEER (its keys are cut). */
void pa_keys_held_clear(struct peerauth *pa, struct pa_peer *peer);

/* peerauth_alarm.c: the critical PEERAUTH_KEY_ALARM_ID alarm of PEER,
 * raised when its keys are declared invalid, cleared by new keys. */
void pa_key_alarm_set(struct peerauth *pa, struct pa_peer *peer, bool raised);

#endif
