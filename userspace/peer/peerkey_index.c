// SPDX-License-Identifier: GPL-2.0
/*
 * The persisted floor of each peer's key index (peerkey.h): written before
 * a key of that index exists, so a restarted daemon never offers it again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlink/nl_util.h"
#include "peerkey.h"

/* A peering name that is also one safe file name. */
static int index_name(const char *peer, char *out, size_t len, char *err, size_t errlen)
{
	if (svrcert_nl_peer_name_check(peer) || strchr(peer, '/') || peer[0] == '.') {
		snprintf(err, errlen, "peer key index: \"%s\" is not a peering name",
			 peer ? peer : "");
		return -EINVAL;
	}
	snprintf(out, len, PEERKEY_INDEX_DIR "/%s", peer);
	return 0;
}

static int parse_floor(const char *text, uint64_t *floor)
{
	char *end;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || (*end && strcmp(end, "\n")))
		return -EINVAL;
	*floor = v;
	return 0;
}

int peerkey_index_load(const struct svrcert_store *st, const char *peer, uint64_t *floor,
		       char *err, size_t errlen)
{
	char name[PEERKEY_INDEX_DIR_LEN_MAX], *text = NULL;
	size_t len;
	int ret = index_name(peer, name, sizeof(name), err, errlen);

	*floor = 0;
	if (ret)
		return ret;
	ret = store_read(st, name, &text, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		snprintf(err, errlen, "peer key index %s: %s", name, strerror(-ret));
		return ret;
	}
	ret = parse_floor(text, floor);
	if (ret)
		snprintf(err, errlen, "peer key index %s: not a number", name);
	free(text);
	return ret;
}

int peerkey_index_commit(const struct svrcert_store *st, const char *peer, uint64_t index,
			 char *err, size_t errlen)
{
	char name[PEERKEY_INDEX_DIR_LEN_MAX], text[24];
	uint64_t floor;
	int ret;

	if (index == UINT64_MAX) {
		snprintf(err, errlen, "peer key index of %s: none left", peer);
		return -ERANGE;
	}
	ret = peerkey_index_load(st, peer, &floor, err, errlen);
	if (ret)
		return ret;
	if (index < floor) {
		snprintf(err, errlen, "peer key index %" PRIu64 " of %s was already used "
			 "(next free: %" PRIu64 ")", index, peer, floor);
		return -ESTALE;
	}
	index_name(peer, name, sizeof(name), err, errlen);
	snprintf(text, sizeof(text), "%" PRIu64 "\n", index + 1);
	ret = store_write(st, name, text, strlen(text), 0600);
	if (ret)
		snprintf(err, errlen, "peer key index %s: cannot write: %s", name,
			 strerror(-ret));
	return ret;
}
