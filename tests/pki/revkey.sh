#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compute a revocation key with the OpenSSL CLI and coreutils only, as an
# independent check of the C code (userspace/lib/pki.c, kmod): the SHA-256
# of the DER issuer Name TLV followed by the DER serial INTEGER TLV.
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

case "${1:-}" in
cert)
	openssl x509 -in "$2" -outform DER -out "$tmp/x.der"
	# TBSCertificate children (depth 2): [0] version, serial, sigalg, issuer
	mapfile -t top < <(elements "$tmp/x.der" | awk '$2 == 2')
	read -r so _ sh sl _ <<<"${top[1]}"
	read -r io _ ih il _ <<<"${top[3]}"
	{ tlv "$tmp/x.der" "$io" "$ih" "$il"; tlv "$tmp/x.der" "$so" "$sh" "$sl"; } |
		sha256sum | cut -c1-64
	;;
crl)
	cp "$2" "$tmp/c.der"
	# TBSCertList children (depth 2): version, sigalg, issuer, ...
	mapfile -t top < <(elements "$tmp/c.der" | awk '$2 == 2')
	read -r io _ ih il _ <<<"${top[2]}"
	# first revoked entry's serial: the first INTEGER at depth 4
	read -r so _ sh sl _ < <(elements "$tmp/c.der" | awk '$2 == 4 && $5 == "INTEGER"' | head -1)
	{ tlv "$tmp/c.der" "$io" "$ih" "$il"; tlv "$tmp/c.der" "$so" "$sh" "$sl"; } |
		sha256sum | cut -c1-64
	;;
*)
	echo "usage: revkey.sh cert CERT.pem | crl CRL.der" >&2
	exit 2
	;;
esac
