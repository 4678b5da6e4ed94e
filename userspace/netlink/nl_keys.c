// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation set over netlink: incremental add/del, the atomic delta,
 * flush, dump, bulk load.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nl_priv.h"

/*
 * Requests a bulk load keeps unacknowledged. Generic netlink handles each
 * message inside our sendmsg(), so the window only saves a recvmsg() per
 * chunk: in a TCG guest, window 64 vs 1 showed no difference within the
 * noise, and the client's CPU was under 10 % of the load (the kernel's
 * inserts are the cost). Acks are small: 64 fit the receive buffer easily.
 */
#define LOAD_WINDOW 64

/*
 * Keys per LOAD_CHUNK. The kernel copies a message of this size into a
 * vmalloc()ed buffer sized for it and its skb_shared_info (320 bytes on
 * Debian's 6.1 kernel), whose pages are zeroed one by one (init_on_alloc).
 * 2037 keys make 65 208 bytes of message: 16 pages exactly; the attribute's
 * maximum, 2040, took a 17th page, about 2 guest instructions per key
 * (Documentation/performance.md).
 */
#define LOAD_CHUNK_KEYS 2037

/*
 * One chunk: the headers from libnl, the keys straight from the caller's
 * array as a second iovec. Copying 64 KiB of keys into a zeroed libnl
 * buffer per chunk cost about 64 instructions per key under TCG, a tenth
 * of the whole load (Documentation/performance.md). Sent with sendmsg()
 * itself: libnl's send hooks would read the message as one buffer.
 */
static int send_keys_chunk(struct nl_transact *t, uint8_t cmd,
			   const svrcert_key_t *keys, size_t n)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t len = n * SVRCERT_KEY_LEN;	/* a multiple of 4: no padding */
	struct nl_msg *msg = nl_request(t->nl, cmd, 0, NLA_HDRLEN);
	struct iovec iov[2];
	struct msghdr mh = {
		.msg_name = &kernel, .msg_namelen = sizeof(kernel),
		.msg_iov = iov, .msg_iovlen = 2,
	};
	struct nlmsghdr *nlh;
	struct nlattr *a;
	int err = 0;

	if (!msg)
		return -ENOMEM;
	a = nla_reserve(msg, SVRCERT_A_KEYS, 0);
	if (!a || NLA_HDRLEN + len > UINT16_MAX) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	nl_complete_msg(t->nl->sk, msg);	/* port, sequence, ACK */
	nlh = nlmsg_hdr(msg);
	iov[0] = (struct iovec){ .iov_base = nlh, .iov_len = nlh->nlmsg_len };
	iov[1] = (struct iovec){ .iov_base = (void *)keys, .iov_len = len };
	nlh->nlmsg_len += (uint32_t)len;
	if (sendmsg(nl_socket_get_fd(t->nl->sk), &mh, 0) < 0)
		err = -errno;
	nlmsg_free(msg);
	if (!err)
		t->pending++;
	return err;
}

/*
 * Send KEYS in chunks of at most MAX keys, at most WINDOW unacknowledged;
 * stop at the first error.
 */
static int send_chunks(struct svrcert_nl *nl, uint8_t cmd, const svrcert_key_t *keys,
		       size_t n, size_t max, int window)
{
	struct nl_transact t;
	size_t off = 0;
	int err = 0, drain;

	nl_transact_init(&t, nl);
	while (off < n && !err && !t.error) {
		size_t chunk = n - off < max ? n - off : max;

		err = send_keys_chunk(&t, cmd, keys + off, chunk);
		off += chunk;
		if (!err && t.pending >= window)
			err = nl_wait_pending(&t, window - 1);
	}
	/* Collect every ack still owed, even after an error, to stay in step. */
	drain = nl_wait_pending(&t, 0);
	if (!err)
		err = t.error ? t.error : drain;
	return err;
}

int svrcert_nl_keys_add(struct svrcert_nl *nl, const svrcert_key_t *keys, size_t n)
{
	return n ? send_chunks(nl, SVRCERT_CMD_ADD_KEYS, keys, n,
				 SVRCERT_KEYS_PER_ATTR_MAX, 1) : 0;
}

int svrcert_nl_keys_del(struct svrcert_nl *nl, const svrcert_key_t *keys, size_t n)
{
	return n ? send_chunks(nl, SVRCERT_CMD_DEL_KEYS, keys, n,
				 SVRCERT_KEYS_PER_ATTR_MAX, 1) : 0;
}

static int simple_cmd(struct svrcert_nl *nl, uint8_t cmd)
{
	struct nl_msg *msg = nl_request(nl, cmd, 0, 0);

	return msg ? nl_transact(nl, msg, NULL, NULL) : -ENOMEM;
}

int svrcert_nl_keys_flush(struct svrcert_nl *nl)
{
	return simple_cmd(nl, SVRCERT_CMD_FLUSH_KEYS);
}

static int parse_key_count(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[SVRCERT_A_MAX + 1];
	int err = nl_parse_top(nlh, tb);

	if (!err && tb[SVRCERT_A_KEY_COUNT])
		err = nl_get_u32(tb[SVRCERT_A_KEY_COUNT], arg);
	return err;
}

static int load_begin(struct svrcert_nl *nl, size_t n)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_LOAD_BEGIN, 0, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, SVRCERT_A_KEY_COUNT, (uint32_t)n) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_transact(nl, msg, NULL, NULL);
}

/* Drop the staging set, keeping the first failure's extack message. */
static void load_abort(struct svrcert_nl *nl)
{
	char saved[sizeof(nl->errmsg)];

	memcpy(saved, nl->errmsg, sizeof(saved));
	(void)simple_cmd(nl, SVRCERT_CMD_LOAD_ABORT);
	memcpy(nl->errmsg, saved, sizeof(saved));
}

int svrcert_nl_keys_load(struct svrcert_nl *nl, const svrcert_key_t *keys,
			 size_t n, uint32_t *live)
{
	struct nl_msg *msg;
	uint32_t count = 0;
	int err;

	if (n > UINT32_MAX)
		return -E2BIG;
	err = load_begin(nl, n);
	if (err)
		return err;	/* nothing staged (-EBUSY: someone else's load) */
	err = send_chunks(nl, SVRCERT_CMD_LOAD_CHUNK, keys, n, LOAD_CHUNK_KEYS,
			  LOAD_WINDOW);
	if (!err) {
		msg = nl_request(nl, SVRCERT_CMD_LOAD_COMMIT, 0, 0);
		err = msg ? nl_transact(nl, msg, parse_key_count, &count) : -ENOMEM;
	}
	if (err) {
		load_abort(nl);
		return err;
	}
	if (live)
		*live = count;
	return 0;
}

enum svrcert_feed svrcert_nl_feed_plan(bool known, size_t na, size_t nd)
{
	if (!known)
		return SVRCERT_FEED_LOAD;
	if (!na && !nd)
		return SVRCERT_FEED_NONE;
	if (na <= SVRCERT_KEYS_PER_ATTR_MAX && nd <= SVRCERT_KEYS_PER_ATTR_MAX)
		return SVRCERT_FEED_DELTA;
	return SVRCERT_FEED_LOAD;
}

int svrcert_nl_keys_delta(struct svrcert_nl *nl, const svrcert_key_t *add,
			  size_t na, const svrcert_key_t *del, size_t nd,
			  uint32_t *live)
{
	size_t room = NLA_HDRLEN * 2 + (na + nd) * SVRCERT_KEY_LEN;
	uint32_t count = 0;
	struct nl_msg *msg;
	int err;

	if (na > SVRCERT_KEYS_PER_ATTR_MAX || nd > SVRCERT_KEYS_PER_ATTR_MAX)
		return -E2BIG;
	if (!na && !nd)
		return 0;
	msg = nl_request(nl, SVRCERT_CMD_APPLY_KEYS_DELTA, 0, room);
	if (!msg)
		return -ENOMEM;
	if ((na && nla_put(msg, SVRCERT_A_KEYS, (int)(na * SVRCERT_KEY_LEN),
			   add) < 0) ||
	    (nd && nla_put(msg, SVRCERT_A_KEYS_DEL, (int)(nd * SVRCERT_KEY_LEN),
			   del) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = nl_transact(nl, msg, parse_key_count, &count);
	if (!err && live)
		*live = count;
	return err;
}

struct dump_keys {
	svrcert_keys_cb cb;
	void *arg;
};

static int parse_keys(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[SVRCERT_A_MAX + 1];
	struct dump_keys *d = arg;
	struct nlattr *a;
	int len;

	if (nl_parse_top(nlh, tb))
		return -EPROTO;
	a = tb[SVRCERT_A_KEYS];
	if (!a)
		return 0;
	len = nla_len(a);
	if (len <= 0 || len % SVRCERT_KEY_LEN)
		return -EPROTO;
	return d->cb((const svrcert_key_t *)nla_data(a), (size_t)len / SVRCERT_KEY_LEN,
		     d->arg);
}

int svrcert_nl_keys_dump(struct svrcert_nl *nl, svrcert_keys_cb cb, void *arg)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_GET_KEYS, NLM_F_DUMP, 0);
	struct dump_keys d = { cb, arg };

	return msg ? nl_transact(nl, msg, parse_keys, &d) : -ENOMEM;
}
