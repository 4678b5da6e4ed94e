// SPDX-License-Identifier: GPL-2.0
/*
 * The CRL manager's kernel side: feed the master list to svrcert.ko (a
 * change as one atomic delta, a resync or a large change as a bulk load and
 * swap) and notice when the module (re)appears, so a freshly loaded module
 * never runs with an empty revocation set for longer than it takes to feed
 * it.
 *
 * Detection: the genetlink controller multicasts CTRL_CMD_NEWFAMILY /
 * DELFAMILY on its "notify" group when a family registers or goes away
 * (svrcert is netnsok, so every namespace hears it). The family id is
 * remembered when the list is fed; the periodic check compares it with the
 * id resolved now, which also catches a notification lost to a receive
 * overrun (the kernel allocates family ids cyclically, so a reloaded module
 * gets a new id).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "daemon_crl.h"
#include "daemon_crl_int.h"
#include "netlink/nl.h"

int crl_kernel_family(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id;

	if (!sk)
		return -ENOMEM;
	id = genl_connect(sk);
	if (!id)
		id = genl_ctrl_resolve(sk, SVRCERT_GENL_NAME);
	nl_socket_free(sk);
	if (id == -NLE_OBJ_NOTFOUND)
		return 0;
	return id < 0 ? -EIO : id;
}

static int open_nl(struct crl_kernel *k, struct svrcert_nl **nl)
{
	int ret = svrcert_nl_open(nl);

	if (ret)
		snprintf(k->msg, sizeof(k->msg), "%s", svrcert_nl_open_errmsg());
	return ret;
}

int crl_kernel_load(struct crl_kernel *k, const struct svrcert_master *m)
{
	struct svrcert_nl *nl;
	int family = crl_kernel_family(), ret;

	k->fed = false;
	if (family <= 0) {
		snprintf(k->msg, sizeof(k->msg), "svrcert module not loaded");
		return family ? family : -ENOENT;
	}
	ret = open_nl(k, &nl);
	if (ret)
		return ret;
	ret = svrcert_nl_keys_load(nl, (const svrcert_key_t *)m->keys, m->n,
				   &k->live);
	if (ret)
		snprintf(k->msg, sizeof(k->msg), "loading %zu keys failed: %s%s%s",
			 m->n, strerror(-ret), *svrcert_nl_errmsg(nl) ? ": " : "",
			 svrcert_nl_errmsg(nl));
	else
		snprintf(k->msg, sizeof(k->msg), "fed %zu keys (swap), kernel "
			 "holds %u", m->n, k->live);
	svrcert_nl_close(nl);
	if (ret)
		return ret;
	k->fed = true;
	k->family = family;
	return 0;
}

/* One APPLY_KEYS_DELTA: the kernel's set moves whole or not at all. */
static int apply_delta(struct crl_kernel *k, const svrcert_revkey_t *added,
		       size_t na, const svrcert_revkey_t *removed, size_t nr)
{
	struct svrcert_nl *nl;
	int ret = open_nl(k, &nl);

	if (ret)
		return ret;
	ret = svrcert_nl_keys_delta(nl, (const svrcert_key_t *)added, na,
				    (const svrcert_key_t *)removed, nr,
				    &k->live);
	if (ret)
		snprintf(k->msg, sizeof(k->msg), "delta +%zu -%zu failed: %s%s%s",
			 na, nr, strerror(-ret), *svrcert_nl_errmsg(nl) ? ": " : "",
			 svrcert_nl_errmsg(nl));
	else
		snprintf(k->msg, sizeof(k->msg), "fed +%zu -%zu keys (delta), "
			 "kernel holds %u", na, nr, k->live);
	svrcert_nl_close(nl);
	return ret;
}

/*
 * The kernel is known to hold OLD only when it was fed and the module
 * instance is the same (a reload gets a new family id); otherwise, and for
 * a change too large for one delta (svrcert_nl_feed_plan() says why), the
 * whole list is loaded and swapped in.
 */
int crl_kernel_apply_change(struct crl_kernel *k,
			    const svrcert_revkey_t *added, size_t na,
			    const svrcert_revkey_t *removed, size_t nr,
			    bool old_known, const struct svrcert_master *nw)
{
	bool known = old_known && k->fed && crl_kernel_family() == k->family;
	int ret = 0;

	switch (svrcert_nl_feed_plan(known, na, nr)) {
	case SVRCERT_FEED_NONE:
		snprintf(k->msg, sizeof(k->msg), "kernel holds the list already");
		break;
	case SVRCERT_FEED_DELTA:
		ret = apply_delta(k, added, na, removed, nr);
		if (!ret)
			break;
		/* All or nothing, so the kernel should still hold OLD; but
		 * a refused delta means it holds something else (emptied
		 * or filled by hand): swapping in NEW is right either way. */
		syslog(LOG_WARNING, "CRL: %s; swapping the whole list in",
		       k->msg);
		/* fall through */
	case SVRCERT_FEED_LOAD:
		ret = crl_kernel_load(k, nw);
		break;
	}
	return ret;
}

int crl_kernel_apply(struct crl_kernel *k, const struct svrcert_master *old,
		     const struct svrcert_master *nw)
{
	svrcert_revkey_t *added = NULL, *removed = NULL;
	size_t na = 0, nr = 0;
	bool known;
	int ret;

	known = k->fed && old && crl_kernel_family() == k->family;
	ret = known ? svrcert_revkeys_diff(old->keys, old->n, nw->keys, nw->n,
					   &added, &na, &removed, &nr) : 0;
	if (!ret)
		ret = crl_kernel_apply_change(k, added, na, removed, nr, known,
					      nw);
	free(added);
	free(removed);
	return ret;
}

static int on_ctrl_msg(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	bool *hit = arg;

	if (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_DELFAMILY)
		return NL_OK;
	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_NAME])
		return NL_OK;
	if (nla_len(tb[CTRL_ATTR_FAMILY_NAME]) == sizeof(SVRCERT_GENL_NAME) &&
	    !memcmp(nla_data(tb[CTRL_ATTR_FAMILY_NAME]), SVRCERT_GENL_NAME,
		    sizeof(SVRCERT_GENL_NAME)))
		*hit = true;
	return NL_OK;
}

int crl_kernel_watch_open(struct crl_kernel *k)
{
	struct nl_sock *sk = nl_socket_alloc();
	int grp, ret;

	k->watch_fd = -1;
	k->watch_sk = NULL;
	if (!sk)
		return -ENOMEM;
	ret = genl_connect(sk);
	grp = ret ? ret : genl_ctrl_resolve_grp(sk, "nlctrl", "notify");
	if (grp < 0)
		goto fail;
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_ctrl_msg,
			    &k->watch_hit);
	if (nl_socket_add_membership(sk, grp) < 0 ||
	    nl_socket_set_nonblocking(sk) < 0)
		goto fail;
	k->watch_sk = sk;
	k->watch_fd = nl_socket_get_fd(sk);
	return 0;
fail:
	nl_socket_free(sk);
	return -EIO;
}

void crl_kernel_watch_close(struct crl_kernel *k)
{
	if (k->watch_sk)
		nl_socket_free(k->watch_sk);
	k->watch_sk = NULL;
	k->watch_fd = -1;
}

bool crl_kernel_watch_read(struct crl_kernel *k)
{
	int i, ret = 0;

	k->watch_hit = false;
	/* Non-blocking: each call is one recvmsg; stop when drained. A
	 * receive overrun (-NLE_NOMEM) may have lost a notification: treat
	 * it as one, the check costs a resolve. */
	for (i = 0; i < 64; i++) {
		ret = nl_recvmsgs_default(k->watch_sk);
		if (ret <= 0)
			break;
	}
	return k->watch_hit || (ret < 0 && ret != -NLE_AGAIN);
}
