// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz - random and mutated generic netlink messages for the "svrcert"
 * family.
 *
 *   nlfuzz [-n MESSAGES] [-s SEED] [-t SECONDS] [-c CERT.der] [-f FAMILY]
 *   nlfuzz -e [-c CERT.der]
 *
 * Sends MESSAGES (default 100000) messages, each generated from SEED alone
 * (replies never feed back into generation), so a run is reproducible:
 *   - valid templates of every command, then mutated while being built
 *     (wrong attribute types, wrong lengths, bad enum values, nests of
 *     garbage, key blobs that are empty, ragged, or larger than allowed,
 *     peer names without NUL or too long, certificate DER bit-flipped or
 *     truncated) and after (truncated messages, lying nlmsg_len, flipped
 *     bytes, junk appended);
 *   - entirely random commands and payloads;
 *   - dumps aborted midway (one part read, then the socket is closed);
 *   - LOAD_BEGIN and chunks without COMMIT, then the socket is closed.
 * Stops early after SECONDS (default 1800). CERT.der, if given, seeds the
 * peer templates with a real certificate. -f aims the same messages at
 * another family (e.g. "nlctrl", to test nlfuzz itself without the module).
 *
 * -e instead sends every command once, well formed (dumps as dumps), and
 * prints one line per command, "cmd=N NAME error=ERRNO" (0 = accepted):
 * the guest test runs it as an unprivileged user and expects EPERM from
 * each, and as root as the control that the messages are sound.
 *
 * Prints a summary of what was sent and how the kernel answered. Exit
 * status: 0 when every message was sent, 1 on a setup failure, 3 when the
 * time bound stopped the run first. Send errors (e.g. the kernel refusing
 * a malformed message with EINVAL on sendmsg) are counted, not fatal.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/svrcert.h>

#define MSG_CAP		(160 * 1024)
#define RECV_CAP	(256 * 1024)
#define ERRNO_MAX	256

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n); n > 0. */
static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* True with probability 1/n. */
static bool one_in(uint32_t n)
{
	return below(n) == 0;
}

static void rnd_bytes(void *p, size_t n)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)rnd();
}

/* ---- statistics -------------------------------------------------------- */

struct stats {
	uint64_t sent, send_errors, replies, acks, data, dumps_done;
	uint64_t aborted_dumps, abandoned_loads, random_msgs, mutated_msgs;
	uint64_t recv_errors, sockets;
	uint64_t err[ERRNO_MAX];	/* by -error of NLMSG_ERROR, and send errno */
};

static struct stats st;

/* ---- message builder --------------------------------------------------- */

struct builder {
	unsigned char buf[MSG_CAP];
	size_t len;
	bool mutate;		/* apply attribute-level mutations */
};

static struct builder bld;

static void *reserve(struct builder *b, size_t n)
{
	void *p;

	if (b->len + NLA_ALIGN(n) > MSG_CAP)
		return NULL;
	p = b->buf + b->len;
	memset(p, 0, NLA_ALIGN(n));
	b->len += NLA_ALIGN(n);
	return p;
}

static void msg_begin(struct builder *b, uint16_t family, uint8_t cmd,
		      uint16_t flags, bool mutate)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)b->buf;
	struct genlmsghdr *g;

	memset(b->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = (uint32_t)st.sent + 1;
	g = (struct genlmsghdr *)(b->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = SVRCERT_GENL_VERSION;
	b->len = NLMSG_HDRLEN + GENL_HDRLEN;
	b->mutate = mutate;
}

static void msg_end(struct builder *b)
{
	((struct nlmsghdr *)b->buf)->nlmsg_len = (uint32_t)b->len;
}

static uint16_t mutate_type(uint16_t type)
{
	switch (below(4)) {
	case 0: return (uint16_t)below(SVRCERT_A_MAX + 4);
	case 1: return type ^ NLA_F_NESTED;
	case 2: return (uint16_t)rnd();
	default: return (uint16_t)(type + 1);
	}
}

static void put(struct builder *b, uint16_t type, const void *data, size_t len)
{
	unsigned char junk[64];
	struct nlattr *nla;

	if (b->mutate && one_in(10))
		type = mutate_type(type);
	if (b->mutate && one_in(10)) {
		/* Wrong length: shorter, longer or empty. */
		len = below(sizeof(junk));
		rnd_bytes(junk, len);
		data = junk;
	}
	if (len > 0xffff - NLA_HDRLEN)
		len = 0xffff - NLA_HDRLEN;
	nla = reserve(b, NLA_HDRLEN + len);
	if (!nla)
		return;
	nla->nla_type = type;
	nla->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((unsigned char *)nla + NLA_HDRLEN, data, len);
}

static void put_u8(struct builder *b, uint16_t type, uint8_t v, uint8_t max)
{
	if (b->mutate && one_in(6))
		v = (uint8_t)(max + 1 + below(256 - max - 1 > 0 ? 256 - max - 1 : 1));
	put(b, type, &v, 1);
}

static void put_u16(struct builder *b, uint16_t type, uint16_t v)
{
	put(b, type, &v, 2);
}

static void put_u32(struct builder *b, uint16_t type, uint32_t v)
{
	put(b, type, &v, 4);
}

static size_t nest_begin(struct builder *b, uint16_t type)
{
	size_t off = b->len;
	struct nlattr *nla = reserve(b, NLA_HDRLEN);

	if (!nla)
		return (size_t)-1;
	nla->nla_type = (b->mutate && one_in(12)) ? mutate_type(type) : type | NLA_F_NESTED;
	return off;
}

static void nest_end(struct builder *b, size_t off)
{
	struct nlattr *nla;

	if (off == (size_t)-1)
		return;
	nla = (struct nlattr *)(b->buf + off);
	nla->nla_len = (uint16_t)(b->len - off > 0xffff ? 0xffff : b->len - off);
}

/* Random bytes shaped like attributes, with lengths that may lie. */
static void put_garbage_nest(struct builder *b, uint16_t type)
{
	size_t off = nest_begin(b, type);
	unsigned int i, n = below(6);

	for (i = 0; i < n && b->len + 64 < MSG_CAP; i++) {
		struct nlattr *nla = reserve(b, NLA_HDRLEN + 8);

		if (!nla)
			break;
		nla->nla_type = (uint16_t)rnd();
		nla->nla_len = (uint16_t)(one_in(3) ? below(64) : NLA_HDRLEN + 8);
		rnd_bytes((unsigned char *)nla + NLA_HDRLEN, 8);
	}
	nest_end(b, off);
}

/* ---- templates --------------------------------------------------------- */

static unsigned char *cert_der;
static size_t cert_len;
static bool pristine;	/* -e: templates in their valid shape only */

static void put_keys(struct builder *b, uint16_t type)
{
	static unsigned char keys[(SVRCERT_KEYS_PER_ATTR_MAX + 8) * SVRCERT_KEY_LEN];
	size_t n;

	switch (pristine ? 7 : below(8)) {
	case 0: n = SVRCERT_KEYS_PER_ATTR_MAX * SVRCERT_KEY_LEN; break;
	case 1: n = (SVRCERT_KEYS_PER_ATTR_MAX + 1 + below(7)) * SVRCERT_KEY_LEN; break;
	case 2: n = below(4 * SVRCERT_KEY_LEN); break;	/* ragged */
	default: n = (1 + below(16)) * SVRCERT_KEY_LEN; break;
	}
	rnd_bytes(keys, n);
	if (!pristine && one_in(4))	/* keys all alike: duplicates within one blob */
		memset(keys, 0x5a, n);
	put(b, type, keys, n);
}

static void put_name(struct builder *b)
{
	char name[96];
	size_t len;

	switch (pristine ? 9 : below(10)) {
	case 0: len = 0; name[0] = 0; break;				/* empty */
	case 1: len = 64 + below(30); memset(name, 'n', len); name[len] = 0; break;
	case 2: len = 1 + below(20); rnd_bytes(name, len); name[len] = 0; break;
	default: len = (size_t)snprintf(name, sizeof(name), "fz%u", below(48)); break;
	}
	/* Most names carry their NUL; some do not. */
	put(b, SVRCERT_PEER_A_NAME, name, !pristine && one_in(8) ? len : len + 1);
}

/* The revocation key that goes with every certificate: any 32 bytes do
 * for the kernel; sometimes none or of a wrong length. */
static void put_revkey(struct builder *b)
{
	unsigned char key[40];
	size_t len = SVRCERT_KEY_LEN;

	rnd_bytes(key, sizeof(key));
	if (!pristine && one_in(12))
		return;
	if (!pristine && one_in(12))
		len = below(sizeof(key) + 1);
	put(b, SVRCERT_PEER_A_REVKEY, key, len);
}

static void put_cert(struct builder *b)
{
	static unsigned char der[SVRCERT_CERT_DER_MAX + 64];
	size_t len = cert_len, i;

	put_revkey(b);
	if (pristine && cert_der) {
		put(b, SVRCERT_PEER_A_CERT, cert_der, cert_len);
		return;
	}
	if (!cert_der || one_in(10)) {
		len = below(one_in(20) ? sizeof(der) : 1024);
		rnd_bytes(der, len);
	} else {
		memcpy(der, cert_der, len);
		if (one_in(3))
			for (i = 0; i < 1 + below(8); i++)
				der[below((uint32_t)len)] ^= (unsigned char)(1u << below(8));
		if (one_in(5))
			len = below((uint32_t)len + 1);
	}
	put(b, SVRCERT_PEER_A_CERT, der, len);
}

static void put_addrs(struct builder *b)
{
	size_t off = nest_begin(b, SVRCERT_PEER_A_ADDRS);
	unsigned int i, n = !pristine && one_in(10) ? SVRCERT_PEER_ADDRS_MAX + 1 + below(4) : 1 + below(3);
	unsigned char a[16];

	for (i = 0; i < n; i++) {
		if (one_in(2)) {
			a[0] = 198; a[1] = 18; a[2] = (unsigned char)below(4);
			a[3] = (unsigned char)below(256);
			put(b, SVRCERT_ADDR_A_IPV4, a, 4);
		} else {
			memset(a, 0, 16);
			a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
			a[15] = (unsigned char)below(256);
			put(b, SVRCERT_ADDR_A_IPV6, a, 16);
		}
	}
	nest_end(b, off);
}

static void put_peer(struct builder *b, bool name_only)
{
	size_t off = nest_begin(b, SVRCERT_A_PEER);

	if (pristine || !one_in(15))
		put_name(b);
	if (pristine ? !name_only : (!name_only || one_in(8))) {
		if (pristine || !one_in(15))
			put_cert(b);
		if (pristine || !one_in(6))
			put_u8(b, SVRCERT_PEER_A_STATE, (uint8_t)below(SVRCERT_STATE_MAX + 1),
			       SVRCERT_STATE_MAX);
		if (pristine || !one_in(15))
			put_addrs(b);
	}
	if (b->mutate && one_in(8)) {	/* a get-only attribute sent anyway */
		unsigned char fp[32];

		rnd_bytes(fp, sizeof(fp));
		put(b, SVRCERT_PEER_A_FINGERPRINT + below(8), fp, sizeof(fp));
	}
	if (b->mutate && one_in(10))
		put_garbage_nest(b, (uint16_t)below(SVRCERT_PEER_A_MAX + 3));
	nest_end(b, off);
}

static void put_policy(struct builder *b)
{
	if (pristine) {		/* the defaults, so the control run changes nothing */
		put_u8(b, SVRCERT_A_PEER_VALIDATION, 0, 1);
		put_u8(b, SVRCERT_A_FAILURE_MODE, SVRCERT_FAIL_SOFT, SVRCERT_FAIL_MAX);
		return;
	}
	if (one_in(2))
		put_u8(b, SVRCERT_A_PEER_VALIDATION, (uint8_t)below(2), 1);
	if (one_in(2))
		put_u8(b, SVRCERT_A_FAILURE_MODE, (uint8_t)below(2), SVRCERT_FAIL_MAX);
	if (one_in(2))
		put_u8(b, SVRCERT_A_SELF_STATE, (uint8_t)below(SVRCERT_STATE_MAX + 1),
		       SVRCERT_STATE_MAX);
	if (one_in(3))
		put_u16(b, SVRCERT_A_PORT_MIN, (uint16_t)rnd());
	if (one_in(3))
		put_u16(b, SVRCERT_A_PORT_MAX, (uint16_t)rnd());
	if (b->mutate && one_in(10))
		put_u32(b, SVRCERT_A_VERSION, (uint32_t)rnd());	/* get-only */
}

/* Attributes for CMD in their valid shape (the builder may mutate them). */
static void put_template(struct builder *b, uint8_t cmd)
{
	switch (cmd) {
	case SVRCERT_CMD_SET_POLICY:
		put_policy(b);
		break;
	case SVRCERT_CMD_ADD_KEYS:
	case SVRCERT_CMD_DEL_KEYS:
	case SVRCERT_CMD_LOAD_CHUNK:
		put_keys(b, SVRCERT_A_KEYS);
		if (!pristine && one_in(10))
			put_keys(b, SVRCERT_A_KEYS);	/* a second blob */
		break;
	case SVRCERT_CMD_APPLY_KEYS_DELTA:
		/* Added, removed or both; overlaps and repeats now and then. */
		if (pristine || !one_in(3))
			put_keys(b, SVRCERT_A_KEYS);
		if (pristine || !one_in(3))
			put_keys(b, SVRCERT_A_KEYS_DEL);
		break;
	case SVRCERT_CMD_LOAD_BEGIN:
		if (!pristine && one_in(2))
			put_u32(b, SVRCERT_A_KEY_COUNT,
				one_in(4) ? (uint32_t)rnd() : below(5000));
		break;
	case SVRCERT_CMD_ADD_PEER:
	case SVRCERT_CMD_REPLACE_PEER:
		put_peer(b, false);
		break;
	case SVRCERT_CMD_DEL_PEER:
	case SVRCERT_CMD_GET_PEERS:
		if (cmd == SVRCERT_CMD_DEL_PEER ? (pristine || !one_in(4)) :
		    (!pristine && !one_in(4)))
			put_peer(b, true);
		break;
	case SVRCERT_CMD_EVENT:
		if (!pristine)
			put_garbage_nest(b, SVRCERT_A_EVENT);
		break;
	case SVRCERT_CMD_GET_STATS:
		if (b->mutate && one_in(3))
			put_garbage_nest(b, SVRCERT_A_STATS);
		break;
	default:
		break;
	}
	if (b->mutate && one_in(12))
		put_garbage_nest(b, (uint16_t)below(SVRCERT_A_MAX + 3));
}

/* Damage the finished message as a whole. */
static size_t post_mutate(struct builder *b)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)b->buf;
	size_t len = b->len, i;

	switch (below(4)) {
	case 0:		/* truncated, header saying so or not */
		len = below((uint32_t)len + 1);
		if (len >= sizeof(*nlh) && one_in(2))
			nlh->nlmsg_len = (uint32_t)len;
		break;
	case 1:		/* nlmsg_len lies */
		nlh->nlmsg_len = one_in(2) ? (uint32_t)below((uint32_t)len * 2 + 1)
					   : (uint32_t)rnd();
		break;
	case 2:		/* bytes flipped after the netlink header */
		for (i = 0; i < 1 + below(8) && len > NLMSG_HDRLEN; i++)
			b->buf[NLMSG_HDRLEN + below((uint32_t)(len - NLMSG_HDRLEN))] ^=
				(unsigned char)rnd();
		break;
	default:	/* junk appended inside the message */
		i = below(256);
		if (len + i <= MSG_CAP) {
			rnd_bytes(b->buf + len, i);
			len += i;
			nlh->nlmsg_len = (uint32_t)len;
		}
		break;
	}
	return len;
}

/* ---- socket I/O -------------------------------------------------------- */

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1, buf = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	st.sockets++;
	return fd;
}

static void count_errno(int e)
{
	if (e < 0)
		e = -e;
	st.err[e < ERRNO_MAX ? e : 0]++;
}

static void tally_reply(const unsigned char *p, ssize_t n)
{
	const struct nlmsghdr *nlh;
	int len = (int)n;

	for (nlh = (const struct nlmsghdr *)p; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		st.replies++;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			if (e->error)
				count_errno(e->error);
			else
				st.acks++;
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			st.dumps_done++;
		} else {
			st.data++;
		}
	}
}

/* Read what the kernel has for us; WAIT_MS bounds the wait for the first
 * message. Returns the number of datagrams read. */
static unsigned int drain(int fd, int wait_ms, unsigned int max_reads)
{
	static unsigned char rbuf[RECV_CAP];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned int reads = 0;
	ssize_t n;

	if (wait_ms > 0 && poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	while (reads < max_reads) {
		n = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				st.recv_errors++;
				count_errno(errno);
				continue;	/* ENOBUFS etc.: the socket goes on */
			}
			break;
		}
		if (n == 0)
			break;
		reads++;
		tally_reply(rbuf, n);
	}
	return reads;
}

static void send_raw(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	st.sent++;
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		st.send_errors++;
		count_errno(errno);
	}
}

/* ---- scenarios --------------------------------------------------------- */

static uint16_t family;

static void send_template(int fd, uint8_t cmd, uint16_t flags)
{
	msg_begin(&bld, family, cmd, flags, false);
	put_template(&bld, cmd);
	msg_end(&bld);
	send_raw(fd, bld.buf, bld.len);
}

/* One message: a (possibly mutated) template, or pure noise. */
static void one_message(int fd)
{
	uint16_t flags = one_in(2) ? NLM_F_ACK : 0;
	uint8_t cmd;
	size_t len;

	if (one_in(10)) {	/* noise: any command, any bytes */
		st.random_msgs++;
		msg_begin(&bld, family, (uint8_t)rnd(), (uint16_t)(rnd() & ~NLM_F_REQUEST), false);
		len = below(512);
		rnd_bytes(reserve(&bld, len), len);
		if (one_in(4))
			((struct genlmsghdr *)(bld.buf + NLMSG_HDRLEN))->version = (uint8_t)rnd();
		msg_end(&bld);
		send_raw(fd, bld.buf, bld.len);
		drain(fd, 0, 64);
		return;
	}
	cmd = (uint8_t)below(SVRCERT_CMD_MAX + 2);
	if (one_in(20))
		flags |= NLM_F_DUMP;
	msg_begin(&bld, family, cmd, flags, !one_in(4));
	put_template(&bld, cmd);
	msg_end(&bld);
	len = bld.len;
	if (bld.mutate)
		st.mutated_msgs++;
	if (one_in(5))
		len = post_mutate(&bld);
	send_raw(fd, bld.buf, len);
	drain(fd, 0, 64);
}

/* A dump the reader walks away from after its first part. */
static void aborted_dump(void)
{
	int fd = nl_open(), i;

	if (fd < 0)
		return;
	st.aborted_dumps++;
	/* Enough keys that the dump needs several parts. */
	for (i = 0; i < 2; i++) {
		msg_begin(&bld, family, SVRCERT_CMD_ADD_KEYS, NLM_F_ACK, false);
		{
			static unsigned char keys[SVRCERT_KEYS_PER_ATTR_MAX * SVRCERT_KEY_LEN];

			rnd_bytes(keys, sizeof(keys));
			put(&bld, SVRCERT_A_KEYS, keys, sizeof(keys));
		}
		msg_end(&bld);
		send_raw(fd, bld.buf, bld.len);
		drain(fd, 0, 4);
	}
	send_template(fd, one_in(3) ? SVRCERT_CMD_GET_PEERS : SVRCERT_CMD_GET_KEYS,
		      NLM_F_DUMP);
	drain(fd, 1000, 1);
	close(fd);
}

/* A bulk load begun and never committed or aborted. */
static void abandoned_load(void)
{
	int fd = nl_open(), i, chunks = (int)below(4);

	if (fd < 0)
		return;
	st.abandoned_loads++;
	send_template(fd, SVRCERT_CMD_LOAD_BEGIN, NLM_F_ACK);
	drain(fd, 0, 4);
	for (i = 0; i < chunks; i++) {
		send_template(fd, SVRCERT_CMD_LOAD_CHUNK, NLM_F_ACK);
		drain(fd, 0, 4);
	}
	close(fd);
}

static const char *const cmd_names[] = {
	"UNSPEC", "GET_POLICY", "SET_POLICY", "ADD_KEYS", "DEL_KEYS", "FLUSH_KEYS",
	"GET_KEYS", "LOAD_BEGIN", "LOAD_CHUNK", "LOAD_COMMIT", "LOAD_ABORT",
	"ADD_PEER", "REPLACE_PEER", "DEL_PEER", "GET_PEERS", "GET_STATS",
	"RESET_STATS", "EVENT", "APPLY_KEYS_DELTA",
};

/* The kernel's answer to the request with sequence number SEQ: its error,
 * 0 for an ack or data, -ETIMEDOUT if none came. */
static int answer_of(int fd, uint32_t seq)
{
	static unsigned char rbuf[RECV_CAP];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const struct nlmsghdr *nlh;
	int len;

	while (poll(&pfd, 1, 2000) > 0) {
		len = (int)recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (len <= 0)
			return len < 0 ? -errno : -ETIMEDOUT;
		for (nlh = (void *)rbuf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			return 0;	/* data or NLMSG_DONE: accepted */
		}
	}
	return -ETIMEDOUT;
}

static void every_command(void)
{
	unsigned int cmd;
	int fd, err;

	pristine = true;
	for (cmd = 0; cmd <= SVRCERT_CMD_MAX; cmd++) {
		bool dump = cmd == SVRCERT_CMD_GET_KEYS || cmd == SVRCERT_CMD_GET_PEERS;

		/* A socket per command: no dump or load state carries over. */
		fd = nl_open();
		if (fd < 0) {
			perror("nlfuzz: netlink socket");
			exit(1);
		}
		send_template(fd, (uint8_t)cmd, NLM_F_ACK | (dump ? NLM_F_DUMP : 0));
		err = answer_of(fd, (uint32_t)st.sent);
		if (cmd == SVRCERT_CMD_LOAD_BEGIN && err == 0) {
			/* Leave nothing staged behind in the control run. */
			send_template(fd, SVRCERT_CMD_LOAD_ABORT, NLM_F_ACK);
			answer_of(fd, (uint32_t)st.sent);
		}
		printf("cmd=%u %s error=%s\n", cmd,
		       cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) ? cmd_names[cmd] : "?",
		       err ? strerrorname_np(-err) ?: "?" : "0");
		close(fd);
	}
}

/* ---- main -------------------------------------------------------------- */

static int resolve_family(const char *name)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id = -1;

	if (sk && genl_connect(sk) == 0)
		id = genl_ctrl_resolve(sk, name);
	if (sk)
		nl_socket_free(sk);
	return id;
}

static int load_cert(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	cert_der = malloc(SVRCERT_CERT_DER_MAX);
	if (cert_der)
		cert_len = fread(cert_der, 1, SVRCERT_CERT_DER_MAX, f);
	fclose(f);
	return cert_der && cert_len ? 0 : -1;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(uint64_t seed, double elapsed)
{
	int e;

	printf("nlfuzz: seed=%llu family=%u messages=%llu send_errors=%llu "
	       "mutated=%llu random=%llu aborted_dumps=%llu abandoned_loads=%llu "
	       "sockets=%llu elapsed=%.1f\n",
	       (unsigned long long)seed, family, (unsigned long long)st.sent,
	       (unsigned long long)st.send_errors, (unsigned long long)st.mutated_msgs,
	       (unsigned long long)st.random_msgs, (unsigned long long)st.aborted_dumps,
	       (unsigned long long)st.abandoned_loads, (unsigned long long)st.sockets,
	       elapsed);
	printf("nlfuzz: replies=%llu acks=%llu data=%llu dumps_done=%llu recv_errors=%llu\n",
	       (unsigned long long)st.replies, (unsigned long long)st.acks,
	       (unsigned long long)st.data, (unsigned long long)st.dumps_done,
	       (unsigned long long)st.recv_errors);
	printf("nlfuzz: errors:");
	for (e = 0; e < ERRNO_MAX; e++)
		if (st.err[e])
			printf(" %s=%llu", e ? strerrorname_np(e) ?: "?" : "other",
			       (unsigned long long)st.err[e]);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t messages = 100000, seed = 1;
	double seconds = 1800, start;
	const char *cert = NULL, *name = SVRCERT_GENL_NAME;
	bool every = false;
	int c, fd, id;

	while ((c = getopt(argc, argv, "n:s:t:c:f:eh")) != -1) {
		switch (c) {
		case 'n': messages = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'c': cert = optarg; break;
		case 'f': name = optarg; break;
		case 'e': every = true; break;
		default:
			fprintf(stderr, "usage: nlfuzz [-n MESSAGES] [-s SEED] "
				"[-t SECONDS] [-c CERT.der] [-f FAMILY] [-e]\n");
			return 2;
		}
	}
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	if (cert && load_cert(cert) < 0) {
		fprintf(stderr, "nlfuzz: cannot read certificate %s\n", cert);
		return 1;
	}
	id = resolve_family(name);
	if (id < 0) {
		fprintf(stderr, "nlfuzz: generic netlink family '%s' not found\n", name);
		return 1;
	}
	family = (uint16_t)id;
	if (every) {
		every_command();
		return 0;
	}
	fd = nl_open();
	if (fd < 0) {
		perror("nlfuzz: netlink socket");
		return 1;
	}
	start = now_sec();
	while (st.sent < messages) {
		if ((st.sent & 255) == 0 && now_sec() - start > seconds)
			break;
		if (one_in(400))
			aborted_dump();
		else if (one_in(200))
			abandoned_load();
		else
			one_message(fd);
	}
	drain(fd, 0, 100000);
	close(fd);
	report(seed, now_sec() - start);
	return st.sent >= messages ? 0 : 3;
}
