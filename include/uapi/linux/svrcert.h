/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * svrcert - certificate-based peer security for SVR routers.
 *
 * This header is the only contract between svrcert.ko and userspace
 * (svrcertd, svrcertctl). Both sides include it; nothing else is shared.
 * Documentation/uapi.md describes every command and attribute.
 *
 * Generic netlink family SVRCERT_GENL_NAME, version SVRCERT_GENL_VERSION.
 * All state is per network namespace: a command acts on the netns of the
 * socket that sends it. Every command requires CAP_NET_ADMIN in the initial
 * user namespace (GENL_ADMIN_PERM); joining the "events" group requires
 * CAP_NET_ADMIN over the netns; otherwise -EPERM. Attributes are validated strictly: unknown attributes
 * and wrong lengths are rejected with -EINVAL, out-of-range enums and
 * flags with -ERANGE, both with an extended ack message (and the offending
 * attribute's offset) naming the problem. Attributes a command does not use
 * are ignored.
 *
 * Keys. Every key is SVRCERT_KEY_LEN (32) bytes, a SHA-256 digest, either
 *   - a revocation key: SHA-256(canonical issuer Name DER || DER serial
 *     INTEGER TLV), which both a CRL entry and a certificate yield. The
 *     canonical issuer is the Name with every string-typed value (UTF8,
 *     Printable, T61, IA5, Visible, BMP, UniversalString) made a UTF8String
 *     of its text stripped of leading and trailing white space, inner runs
 *     of white space made one space and ASCII upper case folded to lower;
 *     other values as they are (OpenSSL's canonical form, RFC 5280 7.1).
 *     Userspace computes it for both sides and hands the kernel each peer's
 *     (SVRCERT_PEER_A_REVKEY); the kernel does not parse names. Or
 *   - a certificate fingerprint: SHA-256(certificate DER), for an explicit
 *     block of one certificate.
 * A peer is refused as revoked when either its revocation key or its
 * fingerprint is in the live revocation set.
 */
#ifndef _UAPI_LINUX_SVRCERT_H
#define _UAPI_LINUX_SVRCERT_H

#include <linux/types.h>

#define SVRCERT_GENL_NAME		"svrcert"
/* 2: ADD_PEER/REPLACE_PEER take SVRCERT_PEER_A_REVKEY with every CERT. */
#define SVRCERT_GENL_VERSION		2
#define SVRCERT_MCGRP_EVENTS		"events"

#define SVRCERT_KEY_LEN			32
/* Keys carried by one SVRCERT_A_KEYS attribute (nla_len is 16 bits). */
#define SVRCERT_KEYS_PER_ATTR_MAX	2040
/* Longest peering name, not counting the terminating NUL. */
#define SVRCERT_PEER_NAME_MAX		63
/* Largest certificate DER the kernel accepts for a peer. */
#define SVRCERT_CERT_DER_MAX		16384
/* Most addresses one peer may have. */
#define SVRCERT_PEER_ADDRS_MAX		16

enum svrcert_cmd {
	SVRCERT_CMD_UNSPEC,
	SVRCERT_CMD_GET_POLICY,		/* -> policy attributes */
	SVRCERT_CMD_SET_POLICY,		/* any subset of the policy attributes */
	SVRCERT_CMD_ADD_KEYS,		/* SVRCERT_A_KEYS into the live set, all
					 * or nothing; -ENOSPC past max_keys */
	SVRCERT_CMD_DEL_KEYS,		/* SVRCERT_A_KEYS from the live set */
	SVRCERT_CMD_FLUSH_KEYS,		/* empty the live set */
	SVRCERT_CMD_GET_KEYS,		/* dump: one SVRCERT_A_KEYS per message */
	SVRCERT_CMD_LOAD_BEGIN,		/* start a staging set, optional
					 * SVRCERT_A_KEY_COUNT size hint. The
					 * load belongs to this socket: others
					 * get -EBUSY; closing it aborts the
					 * load; BEGIN again restarts it */
	SVRCERT_CMD_LOAD_CHUNK,		/* SVRCERT_A_KEYS into the staging set;
					 * on error the load is aborted */
	SVRCERT_CMD_LOAD_COMMIT,	/* swap the staging set in, whole;
					 * reply: SVRCERT_A_KEY_COUNT */
	SVRCERT_CMD_LOAD_ABORT,		/* drop the staging set */
	SVRCERT_CMD_ADD_PEER,		/* SVRCERT_A_PEER; -EEXIST if named */
	SVRCERT_CMD_REPLACE_PEER,	/* SVRCERT_A_PEER; create or replace.
					 * Replacing, CERT, STATE and ADDRS may
					 * be left out: they are kept */
	SVRCERT_CMD_DEL_PEER,		/* SVRCERT_A_PEER with NAME only */
	SVRCERT_CMD_GET_PEERS,		/* dump, or do with SVRCERT_A_PEER NAME.
					 * Dumps of keys and peers set
					 * NLM_F_DUMP_INTR if the table changed
					 * between two parts */
	SVRCERT_CMD_GET_STATS,		/* -> SVRCERT_A_STATS */
	SVRCERT_CMD_RESET_STATS,	/* zero the counters */
	SVRCERT_CMD_EVENT,		/* multicast only: SVRCERT_A_EVENT */
	SVRCERT_CMD_APPLY_KEYS_DELTA,	/* SVRCERT_A_KEYS added and/or
					 * SVRCERT_A_KEYS_DEL removed, on the
					 * live set as ONE atomic step: a
					 * packet sees the set before or after,
					 * never a mix, and a key kept is never
					 * absent. All or nothing: -ENOSPC past
					 * max_keys, -EINVAL for a key in both
					 * lists, the set unchanged. Adding a
					 * present key or removing an absent
					 * one is no error. Reply:
					 * SVRCERT_A_KEY_COUNT */
	__SVRCERT_CMD_MAX
};
#define SVRCERT_CMD_MAX (__SVRCERT_CMD_MAX - 1)

/* Top-level attributes. */
enum svrcert_attr {
	SVRCERT_A_UNSPEC,
	SVRCERT_A_VERSION,		/* u32, GET_POLICY reply: UAPI version */
	SVRCERT_A_PEER_VALIDATION,	/* u8 0/1; default 0 (off) */
	SVRCERT_A_FAILURE_MODE,		/* u8 enum svrcert_failure_mode */
	SVRCERT_A_SELF_STATE,		/* u8 enum svrcert_cert_state; default
					 * UNKNOWN, so with peer-validation on
					 * everything is SELF_INVALID until
					 * userspace sets VALID. INVALID,
					 * REVOKED, EXPIRED, NOT_YET_VALID make
					 * every peer packet SELF_INVALID even
					 * with peer-validation off */
	SVRCERT_A_PORT_MIN,		/* u16: lowest destination port judged,
					 * default 0 */
	SVRCERT_A_PORT_MAX,		/* u16: highest destination port judged,
					 * default 65535. Packets that are not
					 * UDP/TCP, or are non-first fragments,
					 * are always judged. min > max: -EINVAL */
	SVRCERT_A_KEYS,			/* binary: N * SVRCERT_KEY_LEN bytes,
					 * 1 <= N <= SVRCERT_KEYS_PER_ATTR_MAX */
	SVRCERT_A_KEY_COUNT,		/* u32: size hint (LOAD_BEGIN); keys in
					 * the set (LOAD_COMMIT reply) */
	SVRCERT_A_PEER,			/* nest: enum svrcert_peer_attr */
	SVRCERT_A_STATS,		/* nest: enum svrcert_stats_attr */
	SVRCERT_A_EVENT,		/* nest: enum svrcert_event_attr */
	SVRCERT_A_PAD,
	SVRCERT_A_KEYS_DEL,		/* binary as SVRCERT_A_KEYS: the keys
					 * APPLY_KEYS_DELTA removes */
	__SVRCERT_A_MAX
};
#define SVRCERT_A_MAX (__SVRCERT_A_MAX - 1)

/* Attributes inside SVRCERT_A_PEER. "set" = accepted from userspace,
 * "get" = reported by the kernel only (rejected if sent). */
enum svrcert_peer_attr {
	SVRCERT_PEER_A_UNSPEC,
	SVRCERT_PEER_A_NAME,		/* string, NUL-terminated, 1..63 chars,
					 * printable ASCII without spaces
					 * (0x21..0x7e); set/get */
	SVRCERT_PEER_A_CERT,		/* binary: certificate DER; set, always
					 * with SVRCERT_PEER_A_REVKEY */
	SVRCERT_PEER_A_STATE,		/* u8 enum svrcert_cert_state: userspace's
					 * authentication result; set/get */
	SVRCERT_PEER_A_ADDRS,		/* nest of 1..SVRCERT_PEER_ADDRS_MAX
					 * enum svrcert_addr_attr; set/get */
	SVRCERT_PEER_A_FINGERPRINT,	/* binary[32]: SHA-256(cert DER),
					 * computed in the kernel; get */
	SVRCERT_PEER_A_REVKEY,		/* binary[32]: the certificate's
					 * revocation key (see Keys above);
					 * set/get. Required with CERT, refused
					 * without it (-EINVAL, extack) */
	SVRCERT_PEER_A_NOT_BEFORE,	/* s64 seconds since the epoch; get */
	SVRCERT_PEER_A_NOT_AFTER,	/* s64 seconds since the epoch; get */
	SVRCERT_PEER_A_VERDICT,		/* u8 enum svrcert_verdict, now; get */
	SVRCERT_PEER_A_REASON,		/* u8 enum svrcert_reason, now; get */
	SVRCERT_PEER_A_RX_ACCEPTED,	/* u64 packets from it passed; get */
	SVRCERT_PEER_A_RX_DROPPED,	/* u64 packets from it dropped; get */
	SVRCERT_PEER_A_PAD,
	SVRCERT_PEER_A_TX_ACCEPTED,	/* u64 packets to it passed; get */
	SVRCERT_PEER_A_TX_DROPPED,	/* u64 packets to it dropped; get */
	SVRCERT_PEER_A_ESP_REQUIRED,	/* u8 0/1: its keys are installed, so
					 * what SVRCERT_PEER_A_ESP_PROTO names
					 * must arrive ESP-protected by an SA
					 * from one of its addresses, or it is
					 * SVRCERT_REASON_UNPROTECTED; default
					 * 0; set/get */
	SVRCERT_PEER_A_ESP_PROTO,	/* u8 IP protocol ESP protects, 0 (the
					 * default) all; ESP itself (50) is
					 * refused (-EINVAL); set/get */
	SVRCERT_PEER_A_AUTH_PORT,	/* u16 TCP port this router's peering
					 * listener has: TCP to it from the
					 * peer is exempt from ESP; 0 none;
					 * set/get */
	SVRCERT_PEER_A_PEER_AUTH_PORT,	/* u16 TCP port of the peer's listener:
					 * TCP from it is exempt; 0 none;
					 * set/get. REPLACE_PEER keeps those of
					 * these five it leaves out */
	SVRCERT_PEER_A_ESP_ADDRS,	/* nest of 1..SVRCERT_PEER_ADDRS_MAX
					 * enum svrcert_addr_attr: the source
					 * addresses ESP_REQUIRED applies to
					 * (where the peer's SAs run from);
					 * never set: all its ADDRS; set/get */
	__SVRCERT_PEER_A_MAX
};
#define SVRCERT_PEER_A_MAX (__SVRCERT_PEER_A_MAX - 1)

/* Attributes inside SVRCERT_PEER_A_ADDRS; one attribute per address. */
enum svrcert_addr_attr {
	SVRCERT_ADDR_A_UNSPEC,
	SVRCERT_ADDR_A_IPV4,		/* binary[4], network byte order */
	SVRCERT_ADDR_A_IPV6,		/* binary[16], network byte order */
	__SVRCERT_ADDR_A_MAX
};
#define SVRCERT_ADDR_A_MAX (__SVRCERT_ADDR_A_MAX - 1)

/* Attributes inside SVRCERT_A_STATS; all reported, none accepted. */
enum svrcert_stats_attr {
	SVRCERT_STATS_A_UNSPEC,
	SVRCERT_STATS_A_ACCEPTED,	/* nest: attribute type = enum
					 * svrcert_reason, value u64 packets;
					 * type 0 (UNSPEC) is padding, skip */
	SVRCERT_STATS_A_DROPPED,	/* nest: as SVRCERT_STATS_A_ACCEPTED */
	SVRCERT_STATS_A_NOT_PEER,	/* u64 packets from non-peers, untouched */
	SVRCERT_STATS_A_PEER_CERT_EXPIRED, /* u64 peers first seen expired or
					    * not yet valid on the data path */
	SVRCERT_STATS_A_PEER_CERT_INVALID, /* u64 peers first seen invalid */
	SVRCERT_STATS_A_PEER_CERT_REVOKED, /* u64 peers first seen revoked */
	SVRCERT_STATS_A_KEYS,		/* u32 keys in the live set */
	SVRCERT_STATS_A_KEYS_MAX,	/* u32 bound (module parameter max_keys) */
	SVRCERT_STATS_A_KEYS_MEM,	/* u64 bytes used by the live set */
	SVRCERT_STATS_A_PEERS,		/* u32 peers in the table */
	SVRCERT_STATS_A_PEERS_MAX,	/* u32 bound (module parameter max_peers) */
	SVRCERT_STATS_A_EVENTS_SENT,	/* u64 events multicast */
	SVRCERT_STATS_A_EVENTS_SUPPRESSED, /* u64 events lost to rate limit */
	SVRCERT_STATS_A_PAD,
	SVRCERT_STATS_A_TX_ACCEPTED,	/* nest as SVRCERT_STATS_A_ACCEPTED, for
					 * packets sent to peers (ACCEPTED,
					 * DROPPED and NOT_PEER count packets
					 * received) */
	SVRCERT_STATS_A_TX_DROPPED,	/* nest: as SVRCERT_STATS_A_TX_ACCEPTED */
	SVRCERT_STATS_A_TX_NOT_PEER,	/* u64 packets sent to non-peers */
	SVRCERT_STATS_A_KEYS_DELTAS,	/* u64 APPLY_KEYS_DELTAs applied */
	SVRCERT_STATS_A_KEYS_LOADS,	/* u64 bulk loads committed (LOAD_COMMIT);
					 * neither is zeroed by RESET_STATS */
	__SVRCERT_STATS_A_MAX
};
#define SVRCERT_STATS_A_MAX (__SVRCERT_STATS_A_MAX - 1)

/* Attributes inside SVRCERT_A_EVENT. */
enum svrcert_event_attr {
	SVRCERT_EVENT_A_UNSPEC,
	SVRCERT_EVENT_A_TYPE,		/* u8 enum svrcert_event_type */
	SVRCERT_EVENT_A_PEER_NAME,	/* string */
	SVRCERT_EVENT_A_REASON,		/* u8 enum svrcert_reason */
	SVRCERT_EVENT_A_FINGERPRINT,	/* binary[32] */
	SVRCERT_EVENT_A_TIME,		/* s64 seconds since the epoch */
	SVRCERT_EVENT_A_PAD,
	__SVRCERT_EVENT_A_MAX
};
#define SVRCERT_EVENT_A_MAX (__SVRCERT_EVENT_A_MAX - 1)

enum svrcert_event_type {
	SVRCERT_EVENT_UNSPEC,
	SVRCERT_EVENT_PEER_REVOKED,	/* first packet seen from a revoked peer */
	SVRCERT_EVENT_PEER_EXPIRED,	/* ... expired or not yet valid peer */
	SVRCERT_EVENT_PEER_INVALID,	/* ... peer that failed authentication */
	SVRCERT_EVENT_FAIL_HARD_DROP,	/* fail-hard began dropping a peer */
	__SVRCERT_EVENT_MAX
};
#define SVRCERT_EVENT_MAX (__SVRCERT_EVENT_MAX - 1)

/* invalid-certificate-behavior. */
enum svrcert_failure_mode {
	SVRCERT_FAIL_SOFT,		/* default: pass, count, alarm */
	SVRCERT_FAIL_HARD,		/* drop */
	__SVRCERT_FAIL_MAX
};
#define SVRCERT_FAIL_MAX (__SVRCERT_FAIL_MAX - 1)

/* A certificate's state as judged by userspace (own and peers). */
enum svrcert_cert_state {
	SVRCERT_STATE_UNKNOWN,		/* not (yet) authenticated */
	SVRCERT_STATE_VALID,
	SVRCERT_STATE_INVALID,		/* chain, algorithm, identity, ... */
	SVRCERT_STATE_REVOKED,
	SVRCERT_STATE_EXPIRED,
	SVRCERT_STATE_NOT_YET_VALID,
	__SVRCERT_STATE_MAX
};
#define SVRCERT_STATE_MAX (__SVRCERT_STATE_MAX - 1)

enum svrcert_verdict {
	SVRCERT_VERDICT_ACCEPT,
	SVRCERT_VERDICT_DROP,
};

/*
 * Why a packet from or to a peer got its verdict (the same rules in both
 * directions). Checked in this order, the first that applies is the
 * reason, with one exception: SELF_INVALID for an own certificate that is
 * INVALID, REVOKED, EXPIRED or NOT_YET_VALID comes before DISABLED (an
 * UNKNOWN one only with peer-validation on). OK and DISABLED accept;
 * every other reason drops under SVRCERT_FAIL_HARD and accepts (counted)
 * under SVRCERT_FAIL_SOFT. Validity is judged against the kernel's
 * real-time clock on every packet; notAfter is the last valid second.
 */
enum svrcert_reason {
	SVRCERT_REASON_UNSPEC,		/* reserved: never a packet's reason */
	SVRCERT_REASON_OK,		/* certificate valid now */
	SVRCERT_REASON_DISABLED,	/* peer-validation off: not judged */
	SVRCERT_REASON_SELF_INVALID,	/* this router's own certificate is
					 * not valid */
	SVRCERT_REASON_UNAUTHENTICATED,	/* peer state UNKNOWN */
	SVRCERT_REASON_INVALID,		/* peer state INVALID */
	SVRCERT_REASON_REVOKED,		/* state REVOKED, or revocation key or
					 * fingerprint in the live set */
	SVRCERT_REASON_NOT_YET_VALID,	/* now < notBefore (or state says so) */
	SVRCERT_REASON_EXPIRED,		/* now > notAfter (or state says so) */
	SVRCERT_REASON_UNPROTECTED,	/* received from a peer whose certificate
					 * is fine but that requires ESP
					 * (SVRCERT_PEER_A_ESP_REQUIRED): not
					 * ESP itself, not its authentication
					 * channel, and not decrypted by an ESP
					 * SA from the peer. Received only:
					 * packets sent are judged by their
					 * certificate alone */
	__SVRCERT_REASON_MAX
};
#define SVRCERT_REASON_MAX (__SVRCERT_REASON_MAX - 1)

#endif /* _UAPI_LINUX_SVRCERT_H */
