#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build svrcert's test PKI with the OpenSSL CLI (openssl req / openssl ca).
#
#   mkpki.sh DIR                        build everything below into DIR
#   mkpki.sh sign DIR CSR OUT [DAYS] [PROFILE]
#                                       issue a leaf for CSR from DIR's
#                                       intermediate; DAYS until notAfter
#                                       (default 365; <= 0 gives a certificate
#                                       that expired -DAYS days ago, 0 = now);
#                                       PROFILE leaf (default) | leaf_noeku |
#                                       leaf_email | leaf_ca. SAN and other CSR
#                                       extensions are copied.
#   mkpki.sh revoke DIR CERT            revoke CERT at the intermediate and
#                                       rewrite DIR/int.crl.{pem,der}
#   mkpki.sh crl DIR                    rewrite DIR/int.crl.{pem,der} (the
#                                       CRL number goes up by one)
#
# Environment: PKI_CRL_URL (CRL distribution point put into leaves,
# default http://127.0.0.1:8080/int.crl).
#
# Files in DIR (every key is EC P-256 unless the name says otherwise):
#   root.{key,pem}            root CA, self-signed, CA:TRUE critical
#   int.{key,pem}             intermediate CA, CA:TRUE critical
#   bundle.pem                int.pem + root.pem (a trusted-CA bundle)
#   r1 r2 r3 .{key,pem}       leaves CN=rN, EKU clientAuth+serverAuth
#   r1 r2 r3 .pub.pem         their public keys (a state directory's
#                             key.pub.pem, without an openssl run in a guest)
#   c.{key,pem,pub.pem}       leaf CN=c (a conductor), its CRL distribution
#                             point PKI_CRL_URL's directory + disc.crl;
#                             issued last, so the serials above stay as they were
#   rN-san.{key,pem}          leaves CN=<uuid>, SAN URI urn:ssr:peering:rN
#   r1-rsa.{key,pem}          RSA 2048 leaf CN=r1, signed with SHA-256
#   r1-pss.pem                r1-rsa.key, CA signature RSA-PSS/SHA-256 by
#                             int-rsa (a RSA intermediate, CA:TRUE critical);
#                             import with int-rsa.pem appended: r1-pss-chain.pem
#   r1-chain.pem              r1.pem + int.pem
#   bad-sha1.pem              CN=r1, signed with ecdsa-with-SHA1
#                             (every bad-* leaf is on r1.key unless it has
#                             its own .key file)
#   bad-rsa1024.{key,pem}     CN=r1, RSA 1024
#   bad-secp256k1.{key,pem}   CN=r1, curve secp256k1
#   int-noncrit.{key,pem}     intermediate with CA:TRUE NOT critical
#   bad-noncrit.pem           CN=r1 leaf of int-noncrit, followed by
#                             int-noncrit.pem (chain in the file)
#   bundle-noncrit.pem        int-noncrit.pem + root.pem
#   bundle-expired.pem        int-expired.pem (CA expired a day ago) + root.pem
#   bad-noeku.pem             CN=r1, no EKU
#   bad-ekupurpose.pem        CN=r1, EKU emailProtection only
#   bad-leafca.pem            CN=r1, CA:TRUE
#   bad-expired.pem           CN=r1, notAfter 1 day ago
#   bad-notyet.pem            CN=r1, notBefore in 10 days
#   bad-identity.pem          CN=wrong-router
#   bad-withkey.pem           r1.pem followed by r1.key (private key)
#   bad-withkey-enc.pem       r1.pem followed by an encrypted PKCS#8 key
#   bad-keymismatch.{key,pem} CN=r1 with its own key (not r1.key)
#   bad-revoked.pem           CN=r1, revoked in int.crl.*
#   bad-untrusted.pem         CN=r1 from other-root (not in bundle.pem)
#   other-root.{key,pem}      an unrelated root CA
#   bad-explicit.{key,pem}    CN=r1, P-256 key with explicit curve parameters
#   int-explicit.{key,pem}    intermediate CA whose P-256 key has explicit
#                             curve parameters; bundle-explicit.pem is it +
#                             root.pem; int-explicit.crl.{pem,der} its CRL
#   ca-weak.{key,pem}         self-signed root: RSA 1024, expired a day ago,
#                             basicConstraints CA:TRUE not critical
#   int.crl.{pem,der}         intermediate's CRL (CRL number 1) revoking
#                             bad-revoked.pem; root.crl.pem (empty)
#   exp-40d.pem exp-20d.pem exp-5d.pem exp-minus1d.pem
#                             CN=r1 on r1.key, notAfter 40/20/5 days ahead
#                             and 1 day ago (alarm thresholds)
set -euo pipefail

umask 077
export PKI_CRL_URL=${PKI_CRL_URL:-http://127.0.0.1:8080/int.crl}

die() { echo "mkpki.sh: $*" >&2; exit 1; }

# openssl ca wants dates as YYYYMMDDHHMMSSZ.
date_at() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y%m%d%H%M%SZ; }

write_config() {
	cat >"$1/ca.cnf" <<'CNF'
[ ca ]
default_ca = ca_default

[ ca_default ]
dir = $ENV::PKI_CA_DIR
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = copy
email_in_dn = no

[ policy_any ]
organizationName = optional
organizationalUnitName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_ca_noncrit ]
basicConstraints = CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$ENV::PKI_CRL_URL

[ leaf_noeku ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ leaf_email ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ leaf_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
}

# ca_init DIR NAME: an openssl ca database under DIR/ca-NAME.
ca_init() {
	local d="$1/ca-$2"
	mkdir -p "$d/newcerts"
	: >"$d/index.txt"
	# Distinct serial ranges per CA keep serials unique across the PKI.
	printf '%s\n' "$3" >"$d/serial"
	echo 01 >"$d/crlnumber"
}

# explicit_eckey KEY: P-256 with the curve spelled out (not the OID).
explicit_eckey() { openssl ecparam -name prime256v1 -genkey -param_enc explicit -noout -out "$1"; }

eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"${2:-P-256}" -out "$1" 2>/dev/null; }

# csr KEY SUBJ OUT [extra req args...]
csr() {
	local key=$1 subj=$2 out=$3
	shift 3
	openssl req -new -key "$key" -subj "$subj" -out "$out" "$@"
}

# issue DIR CA CSR OUT PROFILE START_OFFSET_S END_OFFSET_S [extra ca args]
issue() {
	local dir=$1 ca=$2 in=$3 out=$4 prof=$5 start=$6 end=$7
	shift 7
	PKI_CA_DIR="$dir/ca-$ca" openssl ca -batch -notext -config "$dir/ca.cnf" \
		-cert "$dir/$ca.pem" -keyfile "$dir/$ca.key" -in "$in" -out "$out" \
		-extensions "$prof" -startdate "$(date_at "$start")" \
		-enddate "$(date_at "$end")" "$@" 2>/dev/null ||
		die "openssl ca failed for $out"
}

gen_crl() {
	local dir=$1 ca=$2
	PKI_CA_DIR="$dir/ca-$ca" openssl ca -batch -config "$dir/ca.cnf" -gencrl \
		-cert "$dir/$ca.pem" -keyfile "$dir/$ca.key" -crlexts crl_ext \
		-out "$dir/$ca.crl.pem" 2>/dev/null || die "gencrl $ca failed"
	openssl crl -in "$dir/$ca.crl.pem" -outform DER -out "$dir/$ca.crl.der"
}

# leaf DIR NAME SUBJ PROFILE [START END] [ca] -- new P-256 key NAME.key
leaf() {
	local dir=$1 name=$2 subj=$3 prof=$4 start=${5:--3600} end=${6:-$((365 * 86400))}
	local ca=${7:-int}
	[ -f "$dir/$name.key" ] || eckey "$dir/$name.key"
	csr "$dir/$name.key" "$subj" "$dir/tmp.csr"
	issue "$dir" "$ca" "$dir/tmp.csr" "$dir/$name.pem" "$prof" "$start" "$end"
}

make_cas() {
	local dir=$1 D=86400
	ca_init "$dir" root 1000
	ca_init "$dir" int 2000
	ca_init "$dir" int-noncrit 3000
	ca_init "$dir" other-root 4000
	ca_init "$dir" int-rsa 5000
	ca_init "$dir" int-expired 6000
	for ca in root other-root; do
		eckey "$dir/$ca.key" P-384
		csr "$dir/$ca.key" "/O=svrcert test/CN=svrcert Test ${ca^} CA" "$dir/tmp.csr"
		issue "$dir" "$ca" "$dir/tmp.csr" "$dir/$ca.pem" v3_ca $((-30 * D)) $((3650 * D)) -selfsign
	done
	eckey "$dir/int.key"
	csr "$dir/int.key" "/O=svrcert test/CN=svrcert Test Intermediate CA" "$dir/tmp.csr"
	issue "$dir" root "$dir/tmp.csr" "$dir/int.pem" v3_ca $((-30 * D)) $((1825 * D))
	eckey "$dir/int-noncrit.key"
	csr "$dir/int-noncrit.key" "/O=svrcert test/CN=svrcert Test Non-critical CA" "$dir/tmp.csr"
	issue "$dir" root "$dir/tmp.csr" "$dir/int-noncrit.pem" v3_ca_noncrit $((-30 * D)) $((1825 * D))
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/int-rsa.key" 2>/dev/null
	csr "$dir/int-rsa.key" "/O=svrcert test/CN=svrcert Test RSA CA" "$dir/tmp.csr"
	issue "$dir" root "$dir/tmp.csr" "$dir/int-rsa.pem" v3_ca $((-30 * D)) $((1825 * D))
	cat "$dir/int.pem" "$dir/root.pem" >"$dir/bundle.pem"
	cat "$dir/int-noncrit.pem" "$dir/root.pem" >"$dir/bundle-noncrit.pem"
	eckey "$dir/int-expired.key"
	csr "$dir/int-expired.key" "/O=svrcert test/CN=svrcert Test Expired CA" "$dir/tmp.csr"
	issue "$dir" root "$dir/tmp.csr" "$dir/int-expired.pem" v3_ca $((-60 * D)) $((-1 * D))
	cat "$dir/int-expired.pem" "$dir/root.pem" >"$dir/bundle-expired.pem"
	rm -f "$dir/int-expired.key"
	make_conformance_cas "$dir"
}

# CAs that break one conformance rule each (issue 13 items 9 and 11).
make_conformance_cas() {
	local dir=$1 D=86400
	ca_init "$dir" int-explicit 7000
	ca_init "$dir" ca-weak 8000
	explicit_eckey "$dir/int-explicit.key"
	csr "$dir/int-explicit.key" "/O=svrcert test/CN=svrcert Test Explicit CA" "$dir/tmp.csr"
	issue "$dir" root "$dir/tmp.csr" "$dir/int-explicit.pem" v3_ca $((-30 * D)) $((1825 * D))
	cat "$dir/int-explicit.pem" "$dir/root.pem" >"$dir/bundle-explicit.pem"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$dir/ca-weak.key" 2>/dev/null
	csr "$dir/ca-weak.key" "/O=svrcert test/CN=svrcert Test Weak CA" "$dir/tmp.csr"
	issue "$dir" ca-weak "$dir/tmp.csr" "$dir/ca-weak.pem" v3_ca_noncrit $((-60 * D)) $((-1 * D)) -selfsign
}

make_good_leaves() {
	local dir=$1
	for r in r1 r2 r3; do
		leaf "$dir" "$r" "/O=svrcert test/CN=$r" leaf
		eckey "$dir/$r-san.key"
		csr "$dir/$r-san.key" "/O=svrcert test/CN=$(cat /proc/sys/kernel/random/uuid)" \
			"$dir/tmp.csr" -addext "subjectAltName=URI:urn:ssr:peering:$r"
		issue "$dir" int "$dir/tmp.csr" "$dir/$r-san.pem" leaf -3600 $((365 * 86400))
	done
	cat "$dir/r1.pem" "$dir/int.pem" >"$dir/r1-chain.pem"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/r1-rsa.key" 2>/dev/null
	csr "$dir/r1-rsa.key" "/O=svrcert test/CN=r1" "$dir/tmp.csr"
	issue "$dir" int "$dir/tmp.csr" "$dir/r1-rsa.pem" leaf -3600 $((365 * 86400))
	issue "$dir" int-rsa "$dir/tmp.csr" "$dir/r1-pss.pem" leaf -3600 $((365 * 86400)) \
		-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32
	cat "$dir/r1-pss.pem" "$dir/int-rsa.pem" >"$dir/r1-pss-chain.pem"
}

make_bad_leaves() {
	local dir=$1 D=86400 s="/O=svrcert test/CN=r1"
	# On r1.key where the key does not matter, so that each breaks one rule.
	for n in noncrit-leaf noeku ekupurpose leafca expired notyet identity revoked untrusted; do
		cp "$dir/r1.key" "$dir/bad-$n.key"
	done
	csr "$dir/r1.key" "$s" "$dir/tmp.csr"
	issue "$dir" int "$dir/tmp.csr" "$dir/bad-sha1.pem" leaf -3600 $((365 * D)) -md sha1
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$dir/bad-rsa1024.key" 2>/dev/null
	leaf "$dir" bad-rsa1024 "$s" leaf
	eckey "$dir/bad-secp256k1.key" secp256k1
	leaf "$dir" bad-secp256k1 "$s" leaf
	explicit_eckey "$dir/bad-explicit.key"
	leaf "$dir" bad-explicit "$s" leaf
	leaf "$dir" bad-noncrit-leaf "$s" leaf -3600 $((365 * D)) int-noncrit
	cat "$dir/bad-noncrit-leaf.pem" "$dir/int-noncrit.pem" >"$dir/bad-noncrit.pem"
	rm -f "$dir/bad-noncrit-leaf.pem" "$dir/bad-noncrit-leaf.key"
	leaf "$dir" bad-noeku "$s" leaf_noeku
	leaf "$dir" bad-ekupurpose "$s" leaf_email
	leaf "$dir" bad-leafca "$s" leaf_ca
	leaf "$dir" bad-expired "$s" leaf $((-30 * D)) $((-1 * D))
	leaf "$dir" bad-notyet "$s" leaf $((10 * D)) $((375 * D))
	leaf "$dir" bad-identity "/O=svrcert test/CN=wrong-router" leaf
	cat "$dir/r1.pem" "$dir/r1.key" >"$dir/bad-withkey.pem"
	openssl pkcs8 -topk8 -in "$dir/r1.key" -passout pass:x -v2 aes-256-cbc >"$dir/tmp.p8"
	cat "$dir/r1.pem" "$dir/tmp.p8" >"$dir/bad-withkey-enc.pem"
	leaf "$dir" bad-keymismatch "$s" leaf
	leaf "$dir" bad-revoked "$s" leaf
	leaf "$dir" bad-untrusted "$s" leaf -3600 $((365 * D)) other-root
	rm -f "$dir/bad-untrusted.key" "$dir/bad-revoked.key" "$dir/bad-noeku.key" \
		"$dir/bad-ekupurpose.key" "$dir/bad-leafca.key" "$dir/bad-expired.key" \
		"$dir/bad-notyet.key" "$dir/bad-identity.key"
}

make_expiry_leaves() {
	local dir=$1 D=86400
	csr "$dir/r1.key" "/O=svrcert test/CN=r1" "$dir/tmp.csr"
	issue "$dir" int "$dir/tmp.csr" "$dir/exp-40d.pem" leaf -3600 $((40 * D))
	issue "$dir" int "$dir/tmp.csr" "$dir/exp-20d.pem" leaf -3600 $((20 * D))
	issue "$dir" int "$dir/tmp.csr" "$dir/exp-5d.pem" leaf -3600 $((5 * D))
	issue "$dir" int "$dir/tmp.csr" "$dir/exp-minus1d.pem" leaf $((-30 * D)) $((-1 * D))
}

# 88-conductor.sh's conductor: its own CRL distribution point is a second
# URL on the e2e CRL server, the source the conductor discovers. Public
# keys as svrcertctl key generate writes key.pub.pem.
make_conductor_leaf() {
	local dir=$1 r
	(PKI_CRL_URL=${PKI_CRL_URL%/*}/disc.crl; leaf "$dir" c "/O=svrcert test/CN=c" leaf)
	for r in r1 r2 r3 c; do
		openssl pkey -in "$dir/$r.key" -pubout -out "$dir/$r.pub.pem"
	done
}

revoke() {
	PKI_CA_DIR="$1/ca-int" openssl ca -batch -config "$1/ca.cnf" -cert "$1/int.pem" \
		-keyfile "$1/int.key" -revoke "$2" -crl_reason keyCompromise 2>/dev/null ||
		die "revoke $2 failed"
}

build_all() {
	local dir=$1
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	write_config "$dir"
	make_cas "$dir"
	make_good_leaves "$dir"
	make_bad_leaves "$dir"
	make_expiry_leaves "$dir"
	revoke "$dir" "$dir/bad-revoked.pem"
	gen_crl "$dir" int
	gen_crl "$dir" root
	gen_crl "$dir" int-explicit
	make_conductor_leaf "$dir"
	rm -f "$dir/tmp.csr" "$dir/tmp.key" "$dir/tmp.p8" "$dir/root.crl.der"
}

# sign DIR CSR OUT [DAYS] [PROFILE]
sign() {
	local dir=$1 csrf=$2 out=$3 days=${4:-365} prof=${5:-leaf} D=86400
	[ -f "$dir/ca.cnf" ] || die "$dir: no PKI (run mkpki.sh $dir first)"
	if [ "$days" -gt 0 ]; then
		issue "$dir" int "$csrf" "$out" "$prof" -3600 $((days * D))
	else
		issue "$dir" int "$csrf" "$out" "$prof" $(((days - 30) * D)) $((days * D - 1))
	fi
}

case "${1:-}" in
sign)
	[ $# -ge 4 ] || die "usage: mkpki.sh sign DIR CSR OUT [DAYS] [PROFILE]"
	shift
	sign "$@"
	;;
revoke)
	[ $# -eq 3 ] || die "usage: mkpki.sh revoke DIR CERT"
	revoke "$2" "$3"
	gen_crl "$2" int
	;;
crl)
	[ $# -eq 2 ] || die "usage: mkpki.sh crl DIR"
	gen_crl "$2" int
	;;
"" | -h | --help)
	sed -n '3,25p' "$0"
	[ -n "${1:-}" ]
	;;
*)
	[ $# -eq 1 ] || die "usage: mkpki.sh DIR"
	build_all "$1"
	;;
esac
