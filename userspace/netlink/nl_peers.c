// SPDX-License-Identifier: GPL-2.0
/* Peer table over netlink: add/replace, delete, get one, dump all. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "nl_priv.h"

static int put_addrs(struct nl_msg *msg, int type, const struct svrcert_nl_addr *addrs,
		     size_t n)
{
	struct nlattr *nest = nla_nest_start(msg, type | NLA_F_NESTED);
	size_t i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		const struct svrcert_nl_addr *a = &addrs[i];
		int err;

		if (a->family == AF_INET)
			err = nla_put(msg, SVRCERT_ADDR_A_IPV4, 4, &a->v4);
		else if (a->family == AF_INET6)
			err = nla_put(msg, SVRCERT_ADDR_A_IPV6, 16, &a->v6);
		else
			return -EAFNOSUPPORT;
		if (err < 0)
			return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int put_esp(struct nl_msg *msg, const struct svrcert_peer_info *info)
{
	if (!info->esp_set)
		return 0;
	if (nla_put_u8(msg, SVRCERT_PEER_A_ESP_REQUIRED, info->esp_required) < 0 ||
	    nla_put_u8(msg, SVRCERT_PEER_A_ESP_PROTO, (uint8_t)info->esp_proto) < 0 ||
	    nla_put_u16(msg, SVRCERT_PEER_A_AUTH_PORT, (uint16_t)info->auth_port) < 0 ||
	    nla_put_u16(msg, SVRCERT_PEER_A_PEER_AUTH_PORT, (uint16_t)info->peer_auth_port) < 0)
		return -EMSGSIZE;
	if (info->n_esp_addrs)
		return put_addrs(msg, SVRCERT_PEER_A_ESP_ADDRS, info->esp_addrs, info->n_esp_addrs);
	return 0;
}

static int put_peer(struct nl_msg *msg, const struct svrcert_peer_info *info)
{
	struct nlattr *nest = nla_nest_start(msg, SVRCERT_A_PEER | NLA_F_NESTED);
	int err;

	if (!nest || nla_put_string(msg, SVRCERT_PEER_A_NAME, info->name) < 0)
		return -EMSGSIZE;
	if (info->cert_der &&
	    (nla_put(msg, SVRCERT_PEER_A_CERT, (int)info->cert_der_len, info->cert_der) < 0 ||
	     nla_put(msg, SVRCERT_PEER_A_REVKEY, SVRCERT_KEY_LEN, info->revkey) < 0))
		return -EMSGSIZE;
	if (nla_put_u8(msg, SVRCERT_PEER_A_STATE, (uint8_t)info->state) < 0 ||
	    put_esp(msg, info))
		return -EMSGSIZE;
	if (info->n_addrs) {
		err = put_addrs(msg, SVRCERT_PEER_A_ADDRS, info->addrs, info->n_addrs);
		if (err)
			return err;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* Local checks catch what the kernel would refuse with a vaguer message. */
static int check_peer(const struct svrcert_peer_info *info)
{
	size_t len = strnlen(info->name, sizeof(info->name));

	if (len == 0 || len >= sizeof(info->name))
		return -EINVAL;
	if (info->n_addrs > SVRCERT_PEER_ADDRS_MAX)
		return -E2BIG;
	if (info->cert_der_len > SVRCERT_CERT_DER_MAX)
		return -EFBIG;
	return 0;
}

int svrcert_nl_peer_add(struct svrcert_nl *nl, const struct svrcert_peer_info *info,
			bool replace)
{
	uint8_t cmd = replace ? SVRCERT_CMD_REPLACE_PEER : SVRCERT_CMD_ADD_PEER;
	struct nl_msg *msg;
	int err = check_peer(info);

	if (err)
		return err;
	msg = nl_request(nl, cmd, 0, info->cert_der_len + 512);
	if (!msg)
		return -ENOMEM;
	err = put_peer(msg, info);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return nl_transact(nl, msg, NULL, NULL);
}

static struct nl_msg *name_msg(struct svrcert_nl *nl, uint8_t cmd, const char *name)
{
	struct nl_msg *msg;
	struct nlattr *nest;
	size_t len = strlen(name);

	if (len == 0 || len > SVRCERT_PEER_NAME_MAX)
		return NULL;
	msg = nl_request(nl, cmd, 0, 0);
	if (!msg)
		return NULL;
	nest = nla_nest_start(msg, SVRCERT_A_PEER | NLA_F_NESTED);
	if (!nest || nla_put_string(msg, SVRCERT_PEER_A_NAME, name) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	nla_nest_end(msg, nest);
	return msg;
}

static int name_error(const char *name)
{
	size_t len = strlen(name);

	return len == 0 || len > SVRCERT_PEER_NAME_MAX ? -EINVAL : -ENOMEM;
}

int svrcert_nl_peer_del(struct svrcert_nl *nl, const char *name)
{
	struct nl_msg *msg = name_msg(nl, SVRCERT_CMD_DEL_PEER, name);

	return msg ? nl_transact(nl, msg, NULL, NULL) : name_error(name);
}

/* ---- replies ------------------------------------------------------------ */

/* ADDRS into ADDRS[0..SVRCERT_PEER_ADDRS_MAX), *N of them. */
static int parse_addrs(const struct nlattr *nest, struct svrcert_nl_addr *addrs, size_t *n)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		struct svrcert_nl_addr *addr = &addrs[*n];
		int type = nla_type(a);

		if (type != SVRCERT_ADDR_A_IPV4 && type != SVRCERT_ADDR_A_IPV6)
			continue;
		if (*n >= SVRCERT_PEER_ADDRS_MAX)
			return -EPROTO;
		addr->family = type == SVRCERT_ADDR_A_IPV4 ? AF_INET : AF_INET6;
		if (nl_get_bin(a, &addr->v6, type == SVRCERT_ADDR_A_IPV4 ? 4 : 16))
			return -EPROTO;
		(*n)++;
	}
	return 0;
}

static int parse_peer_nest(const struct nlattr *nest, struct svrcert_peer_info *p)
{
	struct nlattr *tb[SVRCERT_PEER_A_MAX + 1];
	int err, required = 0;

	memset(p, 0, sizeof(*p));
	p->reason = -1;
	p->verdict = -1;
	if (nla_parse_nested(tb, SVRCERT_PEER_A_MAX, (struct nlattr *)nest, NULL) < 0)
		return -EPROTO;
	err = nl_get_name(tb[SVRCERT_PEER_A_NAME], p->name, sizeof(p->name));
	if (!err)
		err = nl_get_u8(tb[SVRCERT_PEER_A_STATE], &p->state);
	if (!err && tb[SVRCERT_PEER_A_ADDRS])
		err = parse_addrs(tb[SVRCERT_PEER_A_ADDRS], p->addrs, &p->n_addrs);
	if (!err && tb[SVRCERT_PEER_A_ESP_ADDRS])
		err = parse_addrs(tb[SVRCERT_PEER_A_ESP_ADDRS], p->esp_addrs, &p->n_esp_addrs);
#define OPT(attr, getter, ...) \
	if (!err && tb[attr]) err = getter(tb[attr], __VA_ARGS__)
	OPT(SVRCERT_PEER_A_FINGERPRINT, nl_get_bin, p->fingerprint, SVRCERT_KEY_LEN);
	OPT(SVRCERT_PEER_A_REVKEY, nl_get_bin, p->revkey, SVRCERT_KEY_LEN);
	OPT(SVRCERT_PEER_A_NOT_BEFORE, nl_get_s64, &p->not_before);
	OPT(SVRCERT_PEER_A_NOT_AFTER, nl_get_s64, &p->not_after);
	OPT(SVRCERT_PEER_A_VERDICT, nl_get_u8, &p->verdict);
	OPT(SVRCERT_PEER_A_REASON, nl_get_u8, &p->reason);
	OPT(SVRCERT_PEER_A_RX_ACCEPTED, nl_get_u64, &p->rx_accepted);
	OPT(SVRCERT_PEER_A_RX_DROPPED, nl_get_u64, &p->rx_dropped);
	OPT(SVRCERT_PEER_A_TX_ACCEPTED, nl_get_u64, &p->tx_accepted);
	OPT(SVRCERT_PEER_A_TX_DROPPED, nl_get_u64, &p->tx_dropped);
	OPT(SVRCERT_PEER_A_ESP_REQUIRED, nl_get_u8, &required);
	OPT(SVRCERT_PEER_A_ESP_PROTO, nl_get_u8, &p->esp_proto);
	OPT(SVRCERT_PEER_A_AUTH_PORT, nl_get_u16, &p->auth_port);
	OPT(SVRCERT_PEER_A_PEER_AUTH_PORT, nl_get_u16, &p->peer_auth_port);
#undef OPT
	p->esp_required = required != 0;
	return err;
}

struct peer_reply {
	svrcert_peer_cb cb;
	void *arg;
	struct svrcert_peer_info *one;	/* peer_get: where the one reply goes */
	bool got;
};

static int parse_peer(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[SVRCERT_A_MAX + 1];
	struct svrcert_peer_info info;
	struct peer_reply *r = arg;
	int err;

	if (nl_parse_top(nlh, tb) || !tb[SVRCERT_A_PEER])
		return -EPROTO;
	err = parse_peer_nest(tb[SVRCERT_A_PEER], &info);
	if (err)
		return err;
	r->got = true;
	if (r->one) {
		*r->one = info;
		return 0;
	}
	return r->cb(&info, r->arg);
}

int svrcert_nl_peer_get(struct svrcert_nl *nl, const char *name,
			struct svrcert_peer_info *out)
{
	struct nl_msg *msg = name_msg(nl, SVRCERT_CMD_GET_PEERS, name);
	struct peer_reply r = { .one = out };
	int err;

	if (!msg)
		return name_error(name);
	err = nl_transact(nl, msg, parse_peer, &r);
	if (!err && !r.got)
		err = -ENOENT;
	return err;
}

int svrcert_nl_peers_dump(struct svrcert_nl *nl, svrcert_peer_cb cb, void *arg)
{
	struct nl_msg *msg = nl_request(nl, SVRCERT_CMD_GET_PEERS, NLM_F_DUMP, 0);
	struct peer_reply r = { .cb = cb, .arg = arg };

	return msg ? nl_transact(nl, msg, parse_peer, &r) : -ENOMEM;
}
