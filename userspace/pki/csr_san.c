// SPDX-License-Identifier: GPL-2.0
/*
 * Subject alternative names of the CSR: DNS names, IP addresses, URIs and
 * e-mail addresses, each checked by the rules of its kind (RFC 1123 host
 * names, inet_pton, RFC 3986 URIs, RFC 5321 dot-atom mailboxes) and built
 * as GENERAL_NAMEs directly, never through OpenSSL's "DNS:a,IP:b" config
 * syntax, so no character of a value can add an entry of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "csr.h"

static const char *const kind_names[CSR_SAN_KINDS] = {
	[CSR_SAN_DNS] = "dns", [CSR_SAN_IP] = "ip",
	[CSR_SAN_URI] = "uri", [CSR_SAN_EMAIL] = "email",
};

const char *csr_san_kind_name(enum csr_san_kind kind)
{
	return kind < CSR_SAN_KINDS ? kind_names[kind] : "?";
}

#define ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* RFC 1123 host name: dot-separated labels of 1..63 letters, digits and
 * inner hyphens, 253 characters at most. Why it is not one, or NULL. */
static const char *dns_problem(const char *v)
{
	size_t len = strlen(v), n;

	if (!len || len > 253)
		return "must have 1 to 253 characters";
	if (v[0] == '*')
		return "wildcards are not allowed (a router's certificate "
		       "names that router)";
	for (;;) {
		n = strspn(v, ALNUM "-");
		if (!n)
			return v[0] == '.' || !v[0] ? "has an empty label" :
			       "may hold only letters, digits, '-' and '.'";
		if (n > 63)
			return "has a label longer than 63 characters";
		if (v[0] == '-' || v[n - 1] == '-')
			return "has a label that starts or ends with '-'";
		if (!v[n])
			return NULL;
		if (v[n] != '.')
			return "may hold only letters, digits, '-' and '.'";
		v += n + 1;
	}
}

/* RFC 3986: scheme ":" and at least one more character, all from the
 * URI character set (no spaces, controls or non-ASCII). */
static const char *uri_problem(const char *v)
{
	static const char uri_chars[] = ALNUM "-._~:/?#[]@!$&'()*+,;=%";
	size_t len = strlen(v), scheme;

	if (!len || len > CSR_SAN_VALUE_MAX)
		return "must have 1 to 255 characters";
	scheme = strspn(v, ALNUM "+-.");
	if (!scheme || !strchr(ALNUM, v[0]) || (v[0] >= '0' && v[0] <= '9') ||
	    v[scheme] != ':' || !v[scheme + 1])
		return "must be scheme:rest, the scheme a letter followed by "
		       "letters, digits, '+', '-' or '.'";
	if (strspn(v, uri_chars) != len)
		return "has a character that is not allowed in a URI (RFC "
		       "3986; percent-encode it)";
	return NULL;
}

/* local@domain: a dot-atom local part (RFC 5321) of at most 64 and a host
 * name; 254 at most in all. */
static const char *email_problem(const char *v)
{
	static const char atext[] = ALNUM "!#$%&'*+/=?^_`{|}~-.";
	const char *at = strchr(v, '@');
	size_t local;

	if (!at || strchr(at + 1, '@'))
		return "must be local-part@domain with one '@'";
	local = (size_t)(at - v);
	if (!local || local > 64 || strlen(v) > 254)
		return "must have a local part of 1 to 64 and 254 characters "
		       "at most";
	if (strspn(v, atext) != local || v[0] == '.' || at[-1] == '.' ||
	    memmem(v, local, "..", 2))
		return "has a local part that is not a dot-atom (RFC 5321)";
	return dns_problem(at + 1) ? "has a domain that is not a host name"
				   : NULL;
}

static const char *ip_problem(const char *v, unsigned char *addr, int *len)
{
	if (inet_pton(AF_INET, v, addr) == 1) {
		*len = 4;
		return NULL;
	}
	if (inet_pton(AF_INET6, v, addr) == 1) {
		*len = 16;
		return NULL;
	}
	return "is not an IPv4 or IPv6 address";
}

int csr_san_check(enum csr_san_kind kind, const char *value, char *err,
		  size_t errlen)
{
	unsigned char addr[16];
	const char *why;
	int len;

	switch (kind) {
	case CSR_SAN_DNS: why = dns_problem(value); break;
	case CSR_SAN_IP: why = ip_problem(value, addr, &len); break;
	case CSR_SAN_URI: why = uri_problem(value); break;
	case CSR_SAN_EMAIL: why = email_problem(value); break;
	default: why = "is of an unknown kind"; break;
	}
	if (why)
		snprintf(err, errlen, "SAN %s \"%.64s%s\" %s",
			 csr_san_kind_name(kind), value,
			 strlen(value) > 64 ? "..." : "", why);
	return why ? -EINVAL : 0;
}

int csr_san_add(struct csr_request *r, enum csr_san_kind kind,
		const char *value, char *err, size_t errlen)
{
	struct csr_san_list *l = &r->san[kind];
	size_t i;
	int ret;

	ret = csr_san_check(kind, value, err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i], value)) {
			snprintf(err, errlen, "SAN %s \"%.64s\" is given twice",
				 csr_san_kind_name(kind), value);
			return -EINVAL;
		}
	}
	if (l->n == CSR_SAN_MAX) {
		snprintf(err, errlen, "more than %d SAN %s entries",
			 CSR_SAN_MAX, csr_san_kind_name(kind));
		return -E2BIG;
	}
	l->v[l->n++] = value;
	return 0;
}

static int push_name(GENERAL_NAMES *names, int type, const char *value)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new()
					   : ASN1_IA5STRING_new();
	unsigned char addr[16];
	int len = (int)strlen(value);

	if (type == GEN_IPADD && ip_problem(value, addr, &len))
		goto fail;
	if (!gn || !s || !ASN1_STRING_set(s, type == GEN_IPADD ?
					  (const void *)addr : value, len))
		goto fail;
	GENERAL_NAME_set0_value(gn, type, s);
	if (sk_GENERAL_NAME_push(names, gn))
		return 0;
	GENERAL_NAME_free(gn);
	return -ENOMEM;
fail:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(gn);
	return -ENOMEM;
}

static const int gen_types[CSR_SAN_KINDS] = {
	[CSR_SAN_DNS] = GEN_DNS, [CSR_SAN_IP] = GEN_IPADD,
	[CSR_SAN_URI] = GEN_URI, [CSR_SAN_EMAIL] = GEN_EMAIL,
};

int csr_san_names(const struct csr_request *r, const char *peering_uri,
		  GENERAL_NAMES **out, char *err, size_t errlen)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	size_t k, i;
	int ret = names ? 0 : -ENOMEM;

	if (!ret && peering_uri)
		ret = push_name(names, GEN_URI, peering_uri);
	for (k = 0; !ret && k < CSR_SAN_KINDS; k++) {
		for (i = 0; !ret && i < r->san[k].n; i++) {
			const char *v = r->san[k].v[i];

			ret = csr_san_check(k, v, err, errlen);
			/* The peering URI is there already, once. */
			if (!ret && !(k == CSR_SAN_URI && peering_uri &&
				      !strcmp(v, peering_uri)))
				ret = push_name(names, gen_types[k], v);
		}
	}
	if (ret || !sk_GENERAL_NAME_num(names)) {
		GENERAL_NAMES_free(names);
		names = NULL;
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory building the SANs");
	*out = names;
	return ret;
}

static json_t *name_json(const GENERAL_NAME *gn)
{
	char ip[INET6_ADDRSTRLEN];
	const ASN1_STRING *s;
	const char *data;
	int type, len;

	s = GENERAL_NAME_get0_value(gn, &type);
	data = (const char *)ASN1_STRING_get0_data(s);
	len = ASN1_STRING_length(s);
	switch (type) {
	case GEN_IPADD:
		if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, data, ip,
			       sizeof(ip)))
			return NULL;
		return json_sprintf("IP:%s", ip);
	case GEN_DNS: return json_sprintf("DNS:%.*s", len, data);
	case GEN_URI: return json_sprintf("URI:%.*s", len, data);
	case GEN_EMAIL: return json_sprintf("email:%.*s", len, data);
	default: return NULL;
	}
}

json_t *csr_san_json(const GENERAL_NAMES *names)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < sk_GENERAL_NAME_num(names); i++)
		json_array_append_new(a, name_json(sk_GENERAL_NAME_value(names,
									  i)));
	return a;
}
