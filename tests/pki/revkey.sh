#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compute a revocation key with the OpenSSL CLI and coreutils only, as an
# independent check of the C code (userspace/crl/crl_revkey.c): the SHA-256
# of the canonical issuer Name DER followed by the DER serial INTEGER TLV.
# The canonical Name is rebuilt from the issuer's text, each value a
# UTF8String stripped, inner white space collapsed to one space and A-Z
# folded to a-z. Only names of single-valued RDNs of plain text (no '/',
# '+', '#' or '$', non-string values) come out right: enough for test PKIs.
#
#   revkey.sh cert CERT.pem     the certificate's own revocation key
#   revkey.sh crl CRL.der       the key of the CRL's first revoked entry
#                               (CRL issuer; no certificateIssuer support)
set -euo pipefail

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "off depth hl len type" for every element.
elements() {
	openssl asn1parse -inform DER -in "$1" |
		sed -E 's/^ *([0-9]+):d=([0-9]+) +hl= *([0-9]+) +l= *([0-9]+) +(prim|cons): *([^ ]+).*/\1 \2 \3 \4 \6/'
}

tlv() { # FILE OFF HL LEN
	dd if="$1" bs=1 skip="$2" count=$(($3 + $4)) status=none
}

# The canonical DER of the Name that `openssl $1 -issuer` prints, built by
# `openssl asn1parse -genconf`: each value a UTF8String, stripped, inner
# white space one space, A-Z folded to a-z.
canon_issuer() { # x509|crl FILE.der
	openssl "$1" -inform DER -in "$2" -noout -issuer -nameopt compat |
		LC_ALL=C awk '{
			sub(/^issuer=/, ""); n = split($0, f, "/")
			print "asn1 = SEQUENCE:name"; print "[name]"
			for (i = 2; i <= n; i++) print "r" i " = SET:r" i
			for (i = 2; i <= n; i++) {
				k = f[i]; sub(/=.*/, "", k); v = substr(f[i], length(k) + 2)
				gsub(/[ \t\n\v\f\r]+/, " ", v); sub(/^ /, "", v); sub(/ $/, "", v)
				print "[r" i "]"; print "a = SEQUENCE:a" i
				print "[a" i "]"; print "oid = OID:" k
				print "val = UTF8:" tolower(v)
			}}' >"$tmp/name.cnf"
	openssl asn1parse -genconf "$tmp/name.cnf" -out "$tmp/name.der" >/dev/null
	cat "$tmp/name.der"
}

case "${1:-}" in
cert)
	openssl x509 -in "$2" -outform DER -out "$tmp/x.der"
	# TBSCertificate children (depth 2): [0] version, serial, sigalg, issuer
	# (no process substitution: the test guest has no /dev/fd)
	serial=$(elements "$tmp/x.der" | awk '$2 == 2' | sed -n 2p)
	read -r so _ sh sl _ <<<"$serial"
	{ canon_issuer x509 "$tmp/x.der"; tlv "$tmp/x.der" "$so" "$sh" "$sl"; } |
		sha256sum | cut -c1-64
	;;
crl)
	cp "$2" "$tmp/c.der"
	# first revoked entry's serial: the first INTEGER at depth 4
	serial=$(elements "$tmp/c.der" | awk '$2 == 4 && $5 == "INTEGER"' | head -1)
	read -r so _ sh sl _ <<<"$serial"
	{ canon_issuer crl "$tmp/c.der"; tlv "$tmp/c.der" "$so" "$sh" "$sl"; } |
		sha256sum | cut -c1-64
	;;
*)
	echo "usage: revkey.sh cert CERT.pem | crl CRL.der" >&2
	exit 2
	;;
esac
