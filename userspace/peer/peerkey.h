/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer key schedule: ESP keys from a mutual TLS 1.3 handshake.
 *
 * After both routers authenticated each other, each allocates its inbound
 * SPI in the kernel (svrcert_xfrm_allocspi) and sends an offer over the
 * TLS channel: that SPI and the lowest key index it may still use (its
 * persisted floor). Both take the larger index, persist index + 1 as the
 * new floor before any key exists (peerkey_index_commit), and derive
 *
 *	K = TLS-Exporter("EXPORTER-svrcert-esp",
 *			 client_spi || server_spi || index, 72)   (RFC 8446 7.5)
 *
 * with "client"/"server" the TLS roles and every number big-endian.
 * K[0..36) protects client -> server (the SA with the server's SPI),
 * K[36..72) server -> client; each 36 bytes are an AES-256 key then the
 * 4-byte RFC 4106 salt.
 *
 * Why a key is never derived twice: the exporter secret belongs to one
 * handshake (fresh ECDHE), and KeyUpdate does not change it, so every
 * rekey is a new handshake; peerkey_derive() refuses a second derivation
 * on the same connection; the index in the context never repeats for a
 * peer, across restarts included, because it is persisted first.
 *
 * Keys live only in struct peerkey_keys (wipe it with peerkey_keys_wipe)
 * and in the kernel: never logged, audited, shown or written to a file.
 */
#ifndef SVRCERT_PEERKEY_H
#define SVRCERT_PEERKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/store.h"
#include "netlink/xfrm.h"

#define PEERKEY_LABEL		"EXPORTER-svrcert-esp"
#define PEERKEY_MAGIC		"SVRK"
#define PEERKEY_VERSION		1
#define PEERKEY_OFFER_LEN	20	/* on the wire, see peerkey_offer_encode */
#define PEERKEY_SPI_MIN		0x100u	/* 1..255 reserved (RFC 4303 2.1) */
#define PEERKEY_INDEX_DIR	"peer-keys"	/* in the state directory */
#define PEERKEY_INDEX_DIR_LEN_MAX	(sizeof(PEERKEY_INDEX_DIR) + SVRCERT_PEER_NAME_MAX + 1)

/*
 * READY: the sender's inbound SA of the agreed index is installed (spi and
 * index say which). Each side switches its outbound SA only on the peer's
 * READY, so no packet is ever sent to an SA that does not exist yet.
 */
#define PEERKEY_F_READY		0x01
/*
 * REQUEST (spi and index 0): "call me and agree keys". Only the router with
 * the lower certificate fingerprint starts an agreement (one keying
 * connection per pair); the other asks with this on its own call.
 */
#define PEERKEY_F_REQUEST	0x02
/* Seconds an old inbound SA lives on after a new agreement (as SSR). */
#define PEERKEY_GRACE_S		30

struct peerkey_offer {
	uint32_t spi;		/* the sender's inbound SPI */
	uint64_t index;		/* offer: lowest key index the sender may use;
				 * READY: the agreed index */
	uint8_t flags;		/* 0, PEERKEY_F_READY or PEERKEY_F_REQUEST */
};

/*
 * On the wire, 20 bytes, big-endian:
 *	"SVRK" | version (1) | flags | reserved u16 (0) | spi u32 | index u64
 */
void peerkey_offer_encode(const struct peerkey_offer *o, uint8_t out[PEERKEY_OFFER_LEN]);
/* -EPROTO with ERR naming the field for anything but a well-formed offer. */
int peerkey_offer_decode(const uint8_t *in, size_t len, struct peerkey_offer *o,
			 char *err, size_t errlen);

/* The index both sides use: the larger of the two offers. */
uint64_t peerkey_agree_index(const struct peerkey_offer *a, const struct peerkey_offer *b);

struct peerkey_keys {
	uint64_t index;
	uint32_t spi_in;			/* ours: the peer sends to it */
	uint32_t spi_out;			/* theirs: we send to it */
	uint8_t in[SVRCERT_XFRM_KEY_LEN];	/* for our inbound SA */
	uint8_t out[SVRCERT_XFRM_KEY_LEN];	/* for our outbound SA */
};

/*
 * Derive the keys of INDEX on SSL (a finished TLS 1.3 handshake) from our
 * offer MINE and the peer's THEIRS. -EPROTO: not TLS 1.3 or not finished;
 * -EINVAL: an SPI below PEERKEY_SPI_MIN or an index below either offer;
 * -EALREADY: keys were already derived on this connection; -EIO: the
 * exporter failed. OUT is zeroed on any failure.
 */
int peerkey_derive(SSL *ssl, const struct peerkey_offer *mine,
		   const struct peerkey_offer *theirs, uint64_t index,
		   struct peerkey_keys *out);
void peerkey_keys_wipe(struct peerkey_keys *k);

/*
 * The persisted floor of PEER's key index (STATE_DIR/peer-keys/PEER, one
 * decimal number): 0 when there is none yet. -EINVAL with ERR when the
 * file is not a number or the name is not a peering name.
 */
int peerkey_index_load(const struct svrcert_store *st, const char *peer, uint64_t *floor,
		       char *err, size_t errlen);
/*
 * INDEX is about to be used with PEER: make index + 1 the floor, written
 * atomically and synced before returning. -ESTALE (ERR says so) when INDEX
 * is below the floor, i.e. was used before; -ERANGE when it is the last.
 */
int peerkey_index_commit(const struct svrcert_store *st, const char *peer, uint64_t index,
			 char *err, size_t errlen);

/* ---- installation (peerkey_sa.c) ----------------------------------------- */

/* Where one peering's ESP runs: between two addresses of one family. */
struct peerkey_path {
	struct svrcert_nl_addr local, remote;
	uint32_t reqid;			/* SVRCERT_XFRM_REQID(slot) */
	uint8_t proto;			/* protected traffic: 0 all IP */
	/* The authentication channel, exempt from ESP (TCP); 0: none. */
	uint16_t local_auth_port;	/* where this router listens */
	uint16_t remote_auth_port;	/* where it calls the peer */
};

/*
 * ESP required both ways between the two addresses (an unprotected packet
 * from the peer's address is dropped by the kernel), except TCP to and
 * from the two authentication ports, which must work before keys exist.
 * UPDPOLICY: idempotent. -errno of the first policy refused.
 */
int peerkey_policies_install(struct svrcert_xfrm *x, const struct peerkey_path *p);
/* Every policy of PATH; absent ones are fine. */
int peerkey_policies_remove(struct svrcert_xfrm *x, const struct peerkey_path *p);

/*
 * The kernel's time lifetimes of one SA (seconds from its install), a
 * safety net under svrcertd's own timers. With rekey interval R
 * (REKEY_S; 0: never) and peer-key-timeout T (TIMEOUT_S), svrcertd starts
 * a new agreement at R and declares the keys invalid, deleting their SAs
 * itself, at R + T (peerauth_keys_timers.c). The kernel's limits come
 * later, so the daemon always acts first:
 *
 *	j    = min((R + T/2) / 25, T/4)		(4 %, see below)
 *	soft = R + T/2 + [-j, +j]		(in [R + T/4, R + 3T/4])
 *	hard = R + T + PEERKEY_HARD_MARGIN_S + [0, j]
 *
 * so R < soft < R + T < hard. The soft limit only makes the kernel tell
 * xfrm listeners (ip xfrm monitor) that a key outlived its rekey; the hard
 * one deletes the SA if svrcertd did not (stopped, hung). RND, random per
 * SA, picks the jitter: SAs agreed in the same second (every peer after a
 * restart, `peer rekey --all`) would otherwise reach their limits in the
 * same second too, a burst of expire events and, at hard, of deletions
 * with every peer at once. 4 % of the lifetime spreads them over minutes
 * to hours; j stays under T/4 so soft stays inside (R, R + T).
 *
 * REKEY_S 0: both 0 (no time limit; such keys never expire in svrcertd
 * either). Computed in 64 bits: any uint32 input gives soft < hard <=
 * UINT32_MAX, no wrap (the configuration's ranges stay far below).
 */
#define PEERKEY_HARD_MARGIN_S	120	/* > an agreement's handshake timeout:
					 * the inbound SA is installed that
					 * much before the agreement counts */
void peerkey_lifetimes(uint32_t rekey_s, uint32_t timeout_s, uint32_t rnd,
		       uint32_t *soft_s, uint32_t *hard_s);

/*
 * Inbound SA of K: UPDSA on K->spi_in (allocated before the offer), or,
 * when that reservation has expired, NEWSA on the same SPI. Its lifetimes
 * are peerkey_lifetimes(REKEY_S, TIMEOUT_S) with a fresh random jitter.
 */
int peerkey_sa_install_in(struct svrcert_xfrm *x, const struct peerkey_path *p,
			  const struct peerkey_keys *k, uint32_t rekey_s, uint32_t timeout_s);
/* Outbound SA of K (NEWSA, K->spi_out): only after the peer said READY;
 * lifetimes as the inbound one's, with its own jitter. */
int peerkey_sa_install_out(struct svrcert_xfrm *x, const struct peerkey_path *p,
			   const struct peerkey_keys *k, uint32_t rekey_s, uint32_t timeout_s);
/* Both SAs of a key index (0: that one is skipped); absent ones are fine. */
int peerkey_sa_remove(struct svrcert_xfrm *x, const struct peerkey_path *p,
		      uint32_t spi_in, uint32_t spi_out);

#endif
