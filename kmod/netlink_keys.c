// SPDX-License-Identifier: GPL-2.0
/*
 * Revocation set commands: incremental add/delete/flush on the live set,
 * the atomic delta, the bulk load (begin, chunks, commit, abort) into a
 * staging set, and the key dump.
 *
 * A bulk load belongs to the netlink socket that began it: another socket
 * gets -EBUSY, and the load is dropped when its socket closes. A chunk that
 * fails (set full, no memory) drops the whole load; the live set is never
 * touched until commit, which is one pointer swap.
 */
#include <linux/slab.h>
#include <net/sock.h>

#include "main.h"
#include "netlink.h"
#include "netns.h"

/* Keys per dump message: one page of keys keeps the dump buffer small. */
#define SVRCERT_DUMP_KEYS	(PAGE_SIZE / SVRCERT_KEY_LEN)

static struct svrcert_net *svrcert_info_net(struct genl_info *info)
{
	return svrcert_pernet(genl_info_net(info));
}

static struct svrcert_revset *svrcert_live(struct svrcert_net *sn)
{
	return rcu_dereference_protected(sn->revset,
					 lockdep_is_held(&sn->lock));
}

static int svrcert_keys_attr(struct genl_info *info, const u8 **keys, u32 *n)
{
	struct nlattr *attr = info->attrs[SVRCERT_A_KEYS];

	if (!attr) {
		NL_SET_ERR_MSG(info->extack, "missing SVRCERT_A_KEYS");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, SVRCERT_A_KEYS);
		return -EINVAL;
	}
	*keys = nla_data(attr);
	*n = nla_len(attr) / SVRCERT_KEY_LEN;	/* the policy checked it */
	return 0;
}

int svrcert_nl_add_keys(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_info_net(info);
	const u8 *keys;
	u32 n, added = 0;
	int err;

	err = svrcert_keys_attr(info, &keys, &n);
	if (err)
		return err;
	mutex_lock(&sn->lock);
	err = svrcert_netns_activate(sn);
	if (!err)
		err = svrcert_revset_add(svrcert_live(sn), keys, n, &added);
	if (added)
		sn->keys_gen++;
	mutex_unlock(&sn->lock);
	if (err == -ENOSPC)
		NL_SET_ERR_MSG(info->extack,
			       "revocation set full (module parameter max_keys); nothing added");
	return err;
}

int svrcert_nl_del_keys(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_info_net(info);
	const u8 *keys;
	u32 n, removed = 0;
	int err;

	err = svrcert_keys_attr(info, &keys, &n);
	if (err)
		return err;
	mutex_lock(&sn->lock);
	err = svrcert_revset_del(svrcert_live(sn), keys, n, &removed);
	if (removed)
		sn->keys_gen++;
	mutex_unlock(&sn->lock);
	return err;
}

int svrcert_nl_flush_keys(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_info_net(info);
	struct svrcert_revset *empty;

	/* Swapping in an empty set is atomic and O(1) for the writer. */
	empty = svrcert_revset_create(0, svrcert_max_keys);
	if (!empty)
		return -ENOMEM;
	mutex_lock(&sn->lock);
	svrcert_netns_swap_revset(sn, empty);
	mutex_unlock(&sn->lock);
	return 0;
}

/* Reply of LOAD_COMMIT and APPLY_KEYS_DELTA: keys in the live set. */
static int svrcert_key_count_fill(struct sk_buff *skb, void *arg)
{
	return nla_put_u32(skb, SVRCERT_A_KEY_COUNT, *(u32 *)arg);
}

static void svrcert_delta_errmsg(struct genl_info *info, int err)
{
	if (err == -ENOSPC)
		NL_SET_ERR_MSG(info->extack,
			       "revocation set would exceed module parameter max_keys; nothing changed");
	else if (err == -EINVAL)
		NL_SET_ERR_MSG(info->extack,
			       "a key is both in SVRCERT_A_KEYS and SVRCERT_A_KEYS_DEL; nothing changed");
	else if (err)
		NL_SET_ERR_MSG(info->extack, "out of memory; nothing changed");
}

/*
 * Keys added and removed as one change of the live set: prepared invisibly
 * (revset.c), published with the pointer swap of a new view of the same
 * table, then tidied once readers of the old view are gone. The work is
 * O(keys in the delta) and two grace periods, not O(set) as a bulk load.
 */
int svrcert_nl_apply_keys_delta(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *add = info->attrs[SVRCERT_A_KEYS];
	struct nlattr *del = info->attrs[SVRCERT_A_KEYS_DEL];
	struct svrcert_net *sn = svrcert_info_net(info);
	struct svrcert_revset_delta d;
	u32 count = 0;
	int err;

	if (!add && !del) {
		NL_SET_ERR_MSG(info->extack,
			       "missing SVRCERT_A_KEYS and SVRCERT_A_KEYS_DEL");
		return -EINVAL;
	}
	mutex_lock(&sn->lock);
	err = svrcert_netns_activate(sn);
	if (!err)	/* lengths: the policy checked them */
		err = svrcert_revset_delta_prepare(svrcert_live(sn),
				add ? nla_data(add) : NULL,
				add ? nla_len(add) / SVRCERT_KEY_LEN : 0,
				del ? nla_data(del) : NULL,
				del ? nla_len(del) / SVRCERT_KEY_LEN : 0, &d);
	if (!err) {
		svrcert_netns_swap_revset(sn, d.next);
		svrcert_revset_delta_finish(&d);
		sn->keys_deltas++;
		count = svrcert_revset_count(d.next);
	}
	mutex_unlock(&sn->lock);
	svrcert_delta_errmsg(info, err);
	return err ?: svrcert_nl_reply(info, SVRCERT_CMD_APPLY_KEYS_DELTA,
				      svrcert_key_count_fill, &count);
}

/* Is the staging set there and ours? Caller holds sn->lock. */
static int svrcert_load_owned(struct svrcert_net *sn, struct genl_info *info)
{
	if (!sn->staging) {
		NL_SET_ERR_MSG(info->extack, "no bulk load in progress");
		return -ENOENT;
	}
	if (sn->staging_portid != info->snd_portid) {
		NL_SET_ERR_MSG(info->extack,
			       "a bulk load of another socket is in progress");
		return -EBUSY;
	}
	return 0;
}

int svrcert_nl_load_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *hint_attr = info->attrs[SVRCERT_A_KEY_COUNT];
	struct svrcert_net *sn = svrcert_info_net(info);
	struct svrcert_revset *set;
	u32 hint = hint_attr ? nla_get_u32(hint_attr) : 0;
	int err = 0;

	if (hint > svrcert_max_keys) {
		NL_SET_ERR_MSG_ATTR(info->extack, hint_attr,
				    "size hint exceeds module parameter max_keys");
		return -ENOSPC;
	}
	mutex_lock(&sn->lock);
	/* Ownership first: a refused load must not cost a presized table. */
	if (sn->staging && sn->staging_portid != info->snd_portid) {
		NL_SET_ERR_MSG(info->extack,
			       "a bulk load of another socket is in progress");
		err = -EBUSY;
		goto out;
	}
	err = svrcert_netns_activate(sn);
	if (err)
		goto out;
	/* Beginning again from the same socket restarts the load. */
	if (sn->staging)
		svrcert_netns_abort_load(sn);
	/* Under the netns mutex only (parallel_ops): no other family waits. */
	set = svrcert_revset_create(hint, svrcert_max_keys);
	if (!set) {
		err = -ENOMEM;
		goto out;
	}
	sn->staging = set;
	WRITE_ONCE(sn->staging_portid, info->snd_portid);
out:
	mutex_unlock(&sn->lock);
	return err;
}

int svrcert_nl_load_chunk(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_info_net(info);
	const u8 *keys;
	u32 n, added;
	int err;

	err = svrcert_keys_attr(info, &keys, &n);
	if (err)
		return err;
	mutex_lock(&sn->lock);
	err = svrcert_load_owned(sn, info);
	if (err)
		goto out;
	err = svrcert_revset_add(sn->staging, keys, n, &added);
	if (err) {
		svrcert_netns_abort_load(sn);
		if (err == -ENOSPC)
			NL_SET_ERR_MSG(info->extack,
				       "bulk load aborted: more keys than module parameter max_keys");
		else
			NL_SET_ERR_MSG(info->extack, "bulk load aborted: out of memory");
	}
out:
	mutex_unlock(&sn->lock);
	return err;
}

int svrcert_nl_load_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_info_net(info);
	u32 count = 0;
	int err;

	mutex_lock(&sn->lock);
	err = svrcert_load_owned(sn, info);
	if (!err) {
		count = svrcert_revset_count(sn->staging);
		svrcert_netns_swap_revset(sn, sn->staging);
		sn->keys_loads++;
		sn->staging = NULL;
		WRITE_ONCE(sn->staging_portid, 0);
	}
	mutex_unlock(&sn->lock);
	/* The swap is done; a lost reply does not undo it. */
	return err ?: svrcert_nl_reply(info, SVRCERT_CMD_LOAD_COMMIT,
				      svrcert_key_count_fill, &count);
}

int svrcert_nl_load_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct svrcert_net *sn = svrcert_info_net(info);
	int err;

	mutex_lock(&sn->lock);
	err = svrcert_load_owned(sn, info);
	if (!err)
		svrcert_netns_abort_load(sn);
	mutex_unlock(&sn->lock);
	return err;
}

void svrcert_nl_keys_release(struct net *net, u32 portid)
{
	struct svrcert_net *sn = svrcert_pernet(net);

	/* Kernel sockets (portid 0) never own a load. Unlocked peek: only
	 * this socket could start a load with its portid, and it is gone.
	 */
	if (!portid || READ_ONCE(sn->staging_portid) != portid)
		return;
	mutex_lock(&sn->lock);
	if (sn->staging && sn->staging_portid == portid)
		svrcert_netns_abort_load(sn);
	mutex_unlock(&sn->lock);
}

/* How many keys still fit into @skb as one more message. */
static u32 svrcert_dump_room(const struct sk_buff *skb)
{
	int room = skb_tailroom(skb) -
		   nlmsg_total_size(GENL_HDRLEN + nla_total_size(0)) - NLA_ALIGNTO;

	if (room < SVRCERT_KEY_LEN)
		return 0;
	return min_t(u32, room / SVRCERT_KEY_LEN, SVRCERT_DUMP_KEYS);
}

static int svrcert_dump_keys_msg(struct sk_buff *skb,
				 struct netlink_callback *cb,
				 const u8 *keys, u32 n)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &svrcert_genl_family, NLM_F_MULTI,
			  SVRCERT_CMD_GET_KEYS);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (nla_put(skb, SVRCERT_A_KEYS, n * SVRCERT_KEY_LEN, keys)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * The walk (a pinned set and rhashtable's walker) lives from .start to
 * .done, its pointer in cb->args[0]; cb->args[1] counts the resizes seen.
 * The dump's sequence is the netns key generation plus those, so a swap,
 * an add/delete or a resize between two parts marks it NLM_F_DUMP_INTR.
 */
int svrcert_nl_get_keys_start(struct netlink_callback *cb)
{
	struct svrcert_net *sn = svrcert_pernet(sock_net(cb->skb->sk));
	struct svrcert_revset_walk *w;

	w = kmalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	mutex_lock(&sn->lock);
	svrcert_revset_walk_begin(w, svrcert_live(sn));
	mutex_unlock(&sn->lock);
	cb->args[0] = (long)w;
	cb->args[1] = 0;
	return 0;
}

int svrcert_nl_get_keys_done(struct netlink_callback *cb)
{
	struct svrcert_revset_walk *w = (void *)cb->args[0];

	if (w) {
		svrcert_revset_walk_end(w);
		kfree(w);
	}
	return 0;
}

int svrcert_nl_get_keys(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct svrcert_net *sn = svrcert_pernet(sock_net(skb->sk));
	struct svrcert_revset_walk *w = (void *)cb->args[0];
	bool resized = false;
	u32 n, room;
	u8 *buf;

	buf = kmalloc(SVRCERT_DUMP_KEYS * SVRCERT_KEY_LEN, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&sn->lock);
	while ((room = svrcert_dump_room(skb))) {
		n = svrcert_revset_walk_next(w, buf, room, &resized);
		if (resized)
			cb->args[1]++;
		resized = false;
		cb->seq = sn->keys_gen + cb->args[1];
		if (!n)
			break;
		/* @room keys fit: this message cannot fail. */
		if (WARN_ON_ONCE(svrcert_dump_keys_msg(skb, cb, buf, n)))
			break;
	}
	mutex_unlock(&sn->lock);
	kfree(buf);
	return skb->len;
}
