/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Encoding and decoding of xfrm messages, without a socket: xfrm.c sends
 * and receives them; tests/unit/test_xfrm.c checks every field and every
 * malformed reply here. Builders return -EINVAL for an argument the kernel
 * would refuse anyway (so the caller learns which one), -ENOMEM; parsers
 * -EPROTO for a message too short for what it claims to carry, and
 * -EAFNOSUPPORT for an SA or policy of a family other than IPv4/IPv6 (not
 * ours: a dump skips it).
 */
#ifndef SVRCERT_XFRM_MSG_H
#define SVRCERT_XFRM_MSG_H

#include <linux/xfrm.h>
#include <netlink/msg.h>

#include "xfrm.h"

int xfrm_addr_to_kernel(const struct svrcert_nl_addr *a, xfrm_address_t *out);
int xfrm_addr_from_kernel(const xfrm_address_t *a, int family, struct svrcert_nl_addr *out);

/* TYPE is XFRM_MSG_NEWSA or XFRM_MSG_UPDSA. Wipe with xfrm_msg_free_wiped(). */
int xfrm_msg_sa(const struct svrcert_xfrm_sa *sa, int type, struct nl_msg **out);
int xfrm_msg_allocspi(const struct svrcert_nl_addr *src, const struct svrcert_nl_addr *dst,
		      uint32_t reqid, uint32_t min, uint32_t max, struct nl_msg **out);
/* XFRM_MSG_DELSA or XFRM_MSG_GETSA for one SA. */
int xfrm_msg_sa_id(int type, const struct svrcert_nl_addr *dst, uint32_t spi,
		   struct nl_msg **out);
/* XFRM_MSG_NEWPOLICY or XFRM_MSG_UPDPOLICY. */
int xfrm_msg_policy(const struct svrcert_xfrm_policy *p, int type, struct nl_msg **out);
int xfrm_msg_policy_del(const struct svrcert_xfrm_policy *p, struct nl_msg **out);
/* A dump request for XFRM_MSG_GETSA or XFRM_MSG_GETPOLICY. */
int xfrm_msg_dump(int type, struct nl_msg **out);

/* Zero the whole buffer (it may hold a key), then free it. */
void xfrm_msg_free_wiped(struct nl_msg *msg);

/*
 * An XFRM_MSG_NEWSA (reply to GETSA/ALLOCSPI, or a dump entry) into OUT.
 * Wipes the key attribute in NLH's buffer: a reply carries the SA's key.
 */
int xfrm_parse_sa(struct nlmsghdr *nlh, struct svrcert_xfrm_sa_info *out);
/* An XFRM_MSG_NEWPOLICY (dump entry) into OUT; reqid from the first template. */
int xfrm_parse_policy(struct nlmsghdr *nlh, struct svrcert_xfrm_policy *out);

#endif
