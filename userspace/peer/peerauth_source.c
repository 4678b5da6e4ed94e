// SPDX-License-Identifier: GPL-2.0
/*
 * Who may call as which peer. A peer that authenticates as NAME must call
 * from one of NAME's configured addresses (`address`) or from an address
 * its `authenticate` host resolved to, unless NAME has accept-any-source
 * (a peer behind NAT). A certificate presented from anywhere else is either
 * a misconfiguration or a copy of the certificate and key in other hands:
 * refused, whatever the certificate says, and the peer's standing (state,
 * kernel binding) is left as it was.
 *
 * Addresses are compared as IPv4 or IPv6 addresses; an IPv4-mapped IPv6
 * source (::ffff:a.b.c.d, from a dual-stack listener) is the IPv4 address.
 * Ports and IPv6 scope ids are not compared.
 *
 * A caller whose address belongs to no peer at all is refused before TLS
 * (when no peer accepts any source): answering it would cost a signature
 * by the TPM per connection.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "peerauth_int.h"

#define STRANGER_LOG_MS	60000

static struct svrcert_addr normalised(const struct svrcert_addr *a)
{
	struct svrcert_addr n = { .family = a->family };

	if (a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->v6)) {
		n.family = AF_INET;
		memcpy(&n.v4, &a->v6.s6_addr[12], sizeof(n.v4));
	} else if (a->family == AF_INET6) {
		n.v6 = a->v6;
	} else {
		n.v4 = a->v4;
	}
	return n;
}

int pa_sockaddr_to_addr(const struct sockaddr_storage *sa,
			struct svrcert_addr *out)
{
	struct svrcert_addr a = { .family = sa->ss_family };

	if (sa->ss_family == AF_INET)
		a.v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->ss_family == AF_INET6)
		a.v6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return -1;
	*out = normalised(&a);
	return 0;
}

bool pa_addr_equal(const struct svrcert_addr *a, const struct svrcert_addr *b)
{
	struct svrcert_addr x = normalised(a), y = normalised(b);

	if (x.family != y.family)
		return false;
	return x.family == AF_INET ? !memcmp(&x.v4, &y.v4, sizeof(x.v4)) :
				     !memcmp(&x.v6, &y.v6, sizeof(x.v6));
}

void pa_addr_text(const struct svrcert_addr *a, char *out, size_t len)
{
	if (!inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 :
		       (const void *)&a->v6, out, (socklen_t)len))
		snprintf(out, len, "?");
}

bool pa_source_allowed(const struct pa_peer *peer,
		       const struct svrcert_addr *src)
{
	if (peer->any_source)
		return true;
	for (size_t i = 0; i < peer->n_addrs; i++)
		if (pa_addr_equal(&peer->addrs[i], src))
			return true;
	for (size_t i = 0; i < peer->n_resolved; i++)
		if (pa_addr_equal(&peer->resolved[i], src))
			return true;
	return false;
}

bool pa_source_accept(struct peerauth *pa, const struct svrcert_addr *src)
{
	char text[INET6_ADDRSTRLEN], more[64] = "";

	for (size_t i = 0; i < pa->n_peers; i++)
		if (pa_source_allowed(&pa->peers[i], src))
			return true;
	pa->counters[PA_CNT_SOURCE_REFUSED]++;
	/* A scanner must not flood the log: one line a minute at most. */
	if (pa->stranger_log_ms &&
	    pa_now_ms() - pa->stranger_log_ms < STRANGER_LOG_MS) {
		pa->strangers_quiet++;
		return false;
	}
	pa_addr_text(src, text, sizeof(text));
	if (pa->strangers_quiet)
		snprintf(more, sizeof(more), " (and %u more since the last "
			 "such line)", pa->strangers_quiet);
	syslog(LOG_NOTICE, "peer auth from %s refused before TLS: not an "
	       "address of any configured peer%s", text, more);
	pa->stranger_log_ms = pa_now_ms();
	pa->strangers_quiet = 0;
	return false;
}

/* "address = A, B; authenticate = HOST (C)" for the refusal message. */
static void allowed_text(const struct pa_peer *peer, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t n;

	snprintf(out, len, "address =");
	for (size_t i = 0; i < peer->n_addrs; i++) {
		pa_addr_text(&peer->addrs[i], a, sizeof(a));
		n = strlen(out);
		snprintf(out + n, len - n, "%s %s", i ? "," : "", a);
	}
	if (!peer->host)
		return;
	n = strlen(out);
	snprintf(out + n, len - n, "; authenticate = %s", peer->host);
	for (size_t i = 0; i < peer->n_resolved; i++) {
		pa_addr_text(&peer->resolved[i], a, sizeof(a));
		n = strlen(out);
		snprintf(out + n, len - n, "%s%s", i ? ", " : " (", a);
	}
	if (peer->n_resolved) {
		n = strlen(out);
		snprintf(out + n, len - n, ")");
	}
}

void pa_source_refused(struct peerauth *pa, struct pa_peer *peer,
		       struct pa_conn *c, const char *subject)
{
	char src[INET6_ADDRSTRLEN], allowed[300], desc[200];

	pa_addr_text(&c->remote_addr, src, sizeof(src));
	allowed_text(peer, allowed, sizeof(allowed));
	snprintf(peer->refused, sizeof(peer->refused), "certificate \"%s\" of "
		 "peer %s presented from %s, which is not an address of %s (%s)"
		 "; accept-any-source = yes allows any", subject, peer->name,
		 src, peer->name, allowed);
	peer->refused_at = pa_wall(pa);
	peer->refused_n++;
	pa->counters[PA_CNT_SOURCE_REFUSED]++;
	syslog(LOG_WARNING, "peer auth from %s refused: %s", c->remote,
	       peer->refused);
	snprintf(desc, sizeof(desc), "Peer authentication of %s from %s: "
		 "refused (source address)", peer->name, src);
	audit_event(pa->p.audit, PEERAUTH_AUDIT_TYPE, desc,
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "peer",
			      peer->name, "problem", "source-address",
			      "reason", peer->refused, "subject", subject,
			      "role", "server", "remote", c->remote),
		    false);
}
