#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Certificates for the x509 KUnit suite: CA, a valid EC leaf, an expired one, a not-yet-valid one,
# an RSA leaf (UTCTime) and an EC leaf valid to 2055 (GeneralizedTime).
set -e
dir=${1:?usage: mkcerts.sh OUTDIR}; mkdir -p "$dir"; cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -subj "/CN=test CA" -days 3650 2>/dev/null
mkdir -p db; : > db/index; echo 1000 > db/serial
cat > ca.cnf <<C
[ca]
default_ca = c
[c]
database = db/index
serial = db/serial
new_certs_dir = db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
C
leaf() { # name start end keyalg
	openssl req -new -newkey $4 -nodes -keyout $1.key -out $1.csr -subj "/CN=$1" 2>/dev/null
	openssl ca -batch -config ca.cnf -in $1.csr -out $1.pem -startdate $2 -enddate $3 -notext 2>/dev/null
	openssl x509 -in $1.pem -outform DER -out $1.der
}
leaf valid 20200101000000Z 20491231235959Z "ec -pkeyopt ec_paramgen_curve:P-256"
leaf expired 20200101000000Z 20210101000000Z "ec -pkeyopt ec_paramgen_curve:P-256"
leaf future 20400101000000Z 20450101000000Z "ec -pkeyopt ec_paramgen_curve:P-256"
leaf rsa 20200101000000Z 20400101000000Z "rsa:2048"
leaf gen 20200101000000Z 20550101000000Z "ec -pkeyopt ec_paramgen_curve:P-384"
ls -la *.der
openssl x509 -in ca.pem -outform DER -out ca.der
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa3.key -out rsa3.pem \
	-subj "/C=US/O=svrcert test/CN=rsa v3 generalized" -days 12000 2>/dev/null
openssl x509 -in rsa3.pem -outform DER -out rsa3.der
# Then: python3 gen_x509_certs.py OUTDIR "ca:..." "rsa:..." "gen:..." "rsa3:..." > x509_test_certs.h
