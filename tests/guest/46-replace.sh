#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# REPLACE_PEER under traffic: 10 000 replacements (5 000 on the debug
# kernel) that add and remove addresses while every one of those addresses
# sends, then exact counters.
#
# One sender walks 24 source addresses round robin over three destination
# addresses of the router under test, so source i always goes to
# destination i % 3 and each destination has its own receiver:
#
#   destination .1  8 anchors   always in a peer (4 in "p", 4 in "q")
#   destination .2  8 movers    each REPLACE_PEER gives the replaced peer a
#                               new random subset of its own and the free
#                               movers: addresses move p -> free -> q -> ...
#   destination .3  8 controls  never in any peer
#
# p is not authenticated, q revoked; fail-hard drops every packet of both,
# so a packet judged as a peer's never arrives and one from no peer always
# does. At the end, with S packets sent (S0, S1, S2 per destination):
#   - the anchors' receiver got nothing: a packet from an address that stays
#     in the peer sees the old record or the new one, never none;
#   - the controls' receiver got S2: no packet from an address outside every
#     peer was judged as a peer's;
#   - dropped.unauthenticated = p's dropped, dropped.revoked = q's dropped,
#     every other verdict counter 0: each packet counted under its peer's
#     one reason, in both the namespace and the peer counters;
#   - not_peer = what the movers' and the controls' receivers got, and
#     p + q dropped + the movers' receiver = S0 + S1: every packet of a
#     mover counted exactly once, as its peer's or as nobody's, whichever
#     it was when the packet came;
#   - so the verdicts sum to S: each packet received counted once;
#   - the first-seen events and counters do not move: a replacement with
#     the same certificate keeps the peer's seen bits.
# The peers hold their anchors before the first packet. One python3
# process drives netlink and starts the sender (a process start costs
# seconds on the debug kernel). REPLACE_OPS and REPLACE_PPS in lib.sh's
# scale table set the count and the packet rate.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-svrcert.sh"

OPS=$(scale REPLACE_OPS) || exit 1
RATE=$(scale REPLACE_PPS) || exit 1
WORK=$(mktemp -d)
SRC=10.9.0.100
DST2=10.9.0.2
DST3=10.9.0.3
# The per-CPU backlog veth delivers into (1000 packets by default; global,
# so two_routers_up cannot raise it from inside a namespace): a packet it
# dropped would never reach svrcert, and the sums would be off by it.
BACKLOG=$(sysctl -n net.core.netdev_max_backlog)
sysctl -qw net.core.netdev_max_backlog=100000
# (lib.sh's cleanup kills what runs in the namespaces and deletes them)
on_exit 'rm -rf "$WORK"; sysctl -qw net.core.netdev_max_backlog=$BACKLOG'

# Any certificate does (the peers are judged by their state): one
# self-signed, one openssl run rather than lib-pki's CA and seven.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$WORK/peer.key" -subj "/O=svrcert test/CN=peer" -days 2 \
	-outform DER -out "$WORK/peer.der" 2>/dev/null
t_ok $? "peer certificate"
klog_mark
two_routers_up
t_ok $? "two routers joined by veth"
# Two more destinations on the router, static neighbours on the sender's
# side (an ARP queue could drop a packet); two_routers_up's fixed MAC.
printf 'addr add %s/24 dev vb\naddr add %s/24 dev vb\n' "$DST2" "$DST3" |
	ip -n "$NS_B" -batch - &&
printf 'neigh replace %s lladdr 02:09:00:00:00:0b dev va nud permanent\n' \
	"$DST2" "$DST3" | ip -n "$NS_A" -batch -
t_ok $? "destinations $B4, $DST2, $DST3"

# The data path exists from the first configuration on: every packet sent
# after this is judged.
ctl set peer-validation on failure-mode fail-hard self-state valid
t_ok $? "fail-hard, peers validated"

# python3 is the receiver too (three sockets it drains) and starts the
# sender (in $NS_A) once the peers hold their anchors.
t0=$(date +%s)
PYTHONPATH=$here ip netns exec "$NS_B" python3 - "$WORK/peer.der" "$T_N" "$WORK/count" "$OPS" \
	"$SRC" "ip netns exec $NS_A $TOOLS/udpsend -S $SRC -n 24 -d $B4 -N 3 -p $PORT -r $RATE" \
	"$PORT" "$B4 $DST2 $DST3" <<'EOF'
import ipaddress, random, socket, struct, subprocess, sys, time

from svrcert_genl import Genl, attrs, nla, u64

(cert_path, tap_n, count_file, ops, src, sender, port, dsts) = sys.argv[1:]
cert = open(cert_path, "rb").read()
ok_n, fail_n, ops = int(tap_n), 0, int(ops)

# A receiver per destination, deep enough to hold every packet of the run
# until it is drained (root may force the size).
rcv, counts = [], [0, 0, 0]
for d in dsts.split():
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)       # SO_RCVBUFFORCE
    r.bind((d, int(port)))
    r.setblocking(False)
    rcv.append(r)

def drain():
    for k, r in enumerate(rcv):
        while True:
            try:
                r.recv(2048)
            except BlockingIOError:
                break
            counts[k] += 1
    return list(counts)

def udp_errors():
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    return dict(zip(lines[0][1:], lines[1][1:]))
rng = random.Random(46)

def tap(good, desc, diag=""):
    global ok_n, fail_n
    ok_n += 1
    print(("ok" if good else "not ok"), ok_n, "-", desc, flush=True)
    if not good:
        fail_n += 1
        for line in str(diag).splitlines():
            print("#", line, flush=True)

nl = Genl()
base = ipaddress.IPv4Address(src)
addr = [base + i for i in range(24)]
anchors = {"p": [addr[i] for i in (0, 6, 12, 18)],
           "q": [addr[i] for i in (3, 9, 15, 21)]}
movers = [addr[i] for i in range(1, 24, 3)]

def peer_msg(name, addrs, with_cert=False):
    p = nla(1, name.encode() + b"\0")
    if with_cert:
        # state 0 = UNKNOWN (unauthenticated), 3 = REVOKED
        p += nla(2, cert) + nla(6, bytes(32)) + nla(3, bytes([3 if name == "q" else 0]))
    p += nla(4 | 0x8000, b"".join(nla(1, a.packed) for a in addrs))
    return nla(9 | 0x8000, p)

def get_peer(name):
    err, msgs = nl.xfer(14, nla(9 | 0x8000, nla(1, name.encode() + b"\0")))
    assert err == 0, f"GET_PEERS {name}: {err}"
    p = attrs(attrs(msgs[0])[9])
    a, off = [], 0
    while off + 4 <= len(p[4]):
        n, _ = struct.unpack_from("HH", p[4], off)
        a.append(ipaddress.IPv4Address(p[4][off + 4:off + n]))
        off += (n + 3) & ~3
    return {"addrs": sorted(a), "rx_acc": u64(p[11]), "rx_drop": u64(p[12]),
            "tx_acc": u64(p[14]), "tx_drop": u64(p[15])}

REASONS = ["unspec", "ok", "disabled", "self_invalid", "unauthenticated",
           "invalid", "revoked", "not_yet_valid", "expired", "unprotected"]

def stats():
    err, msgs = nl.xfer(15)
    assert err == 0, f"GET_STATS: {err}"
    s = attrs(attrs(msgs[0])[10])
    out = {}
    for key, t in (("acc", 1), ("drop", 2), ("tx_acc", 15), ("tx_drop", 16)):
        for r, v in attrs(s[t]).items():
            if r:
                name = REASONS[r] if r < len(REASONS) else f"reason{r}"
                out[f"{key}.{name}"] = u64(v)
    for key, t in (("not_peer", 3), ("seen_expired", 4), ("seen_invalid", 5),
                   ("seen_revoked", 6), ("events_sent", 12),
                   ("events_suppressed", 13)):
        out[key] = u64(s[t])
    out["rx_total"] = sum(v for k, v in out.items()
                          if k.startswith(("acc.", "drop."))) + out["not_peer"]
    return out

def poll(secs, cond):
    end = time.monotonic() + secs
    while not cond() and time.monotonic() < end:
        time.sleep(0.2)
    return cond()

# The replacements, planned before any packet flows (python is slow under
# TCG): peer p or q (alternately) gets a random new subset of the movers
# it has or nobody has, at most 6. Always a change: at least one mover in
# or out. Sent BATCH requests to a write (the kernel handles them one by
# one, each under the config lock, an ack each): the kernel's work, not
# python's, fills the time the traffic flows.
# A set of movers is a bit mask; each peer's request for each mask is
# built once.
BATCH = 10
def request(name, mask):
    a = anchors[name] + [m for b, m in enumerate(movers) if mask >> b & 1]
    return peer_msg(name, a)
req = {n: [request(n, mask) for mask in range(256)] for n in "pq"}
mine, plan, moved = {"p": 0, "q": 0}, [], 0
for i in range(ops):
    name = "pq"[i % 2]
    free = 0xff & ~mine["q" if name == "p" else "p"]
    new = rng.getrandbits(8) & free
    # at most 6 of the 8: the other peer always leaves 2 to pick from
    while new.bit_count() > 6:
        new &= new - 1
    if new == mine[name]:
        can_add = free & ~new if new.bit_count() < 6 else 0
        new ^= (can_add or new) & -(can_add or new)
    moved += (new ^ mine[name]).bit_count()
    plan.append(nl.build(12, req[name][new]))
    mine[name] = new
plan = [b"".join(plan[b:b + BATCH]) for b in range(0, ops, BATCH)]
last = {n: sorted(anchors[n] + [m for b, m in enumerate(movers)
                                if mine[n] >> b & 1]) for n in "pq"}

# The peers, each with its anchors and none of the movers yet, before any
# packet; then the traffic and its first packets: three events (p
# dropped, q revoked and dropped), once.
errs = [nl.xfer(11, peer_msg(n, anchors[n], True))[0] for n in ("p", "q")]
tap(errs == [0, 0], "peers p and q hold their anchors", errs)
send = subprocess.Popen(sender.split(), stdout=subprocess.PIPE, text=True)
tap(poll(60, lambda: stats()["not_peer"] > 0 and stats()["events_sent"] == 3),
    "traffic reaches the router; the peers' first packets gave three events",
    stats())
seen0 = stats()
drain()

t0, bad, i = time.monotonic(), [], 0
for buf in plan:
    nl.sk.send(buf)
    for _ in range(min(BATCH, ops - i)):
        err, _ = nl.recv()
        if err and len(bad) < 5:
            bad.append(f"replace {i}: {err}")
        i += 1
took = time.monotonic() - t0
drain()
tap(not bad, f"{ops} REPLACE_PEER, {moved} addresses added or removed, "
    f"in {took:.1f} s ({ops / took:.0f}/s)", "\n".join(bad))
pp, qq = get_peer("p"), get_peer("q")
tap(pp["addrs"] == last["p"] and qq["addrs"] == last["q"],
    "each peer holds exactly its last address set", f"{pp} {qq} {mine}")

# Stop the sender; every packet it handed to the kernel is judged soon.
send.terminate()
res = dict(kv.split("=") for kv in send.communicate()[0].split())
sent, failed = int(res["sent"]), int(res["failed"])
tap(failed == 0 and sent > 0, f"sender: {sent} packets, none failed", res)
per_dst = [len(range(c, sent, 3)) for c in range(3)]
tap(poll(60, lambda: stats()["rx_total"] >= sent) and stats()["rx_total"] == sent,
    f"the verdicts add up to the {sent} packets sent", stats())

st = stats()
poll(60, lambda: sum(drain()[1:]) >= st["not_peer"])
rx = drain()
pp, qq = get_peer("p"), get_peer("q")
tap(rx[0] == 0, f"anchors: 0 of {per_dst[0]} packets got through", rx)
tap(rx[2] == per_dst[2], f"controls: all {per_dst[2]} packets got through",
    f"{rx} {udp_errors()}")
tap(0 < rx[1] < per_dst[1],
    f"movers: {rx[1]} of {per_dst[1]} packets got through (they were in "
    "and out of the peers)", rx)
moved_c = {k: v for k, v in st.items()
           if v and k not in ("drop.unauthenticated", "drop.revoked",
                              "not_peer", "rx_total") and not k.startswith(
                                  ("seen_", "events_", "tx_acc.", "tx_drop."))}
tx = {k: v for k, v in st.items() if v and k.startswith(("tx_acc.", "tx_drop."))}
tap(not moved_c and not tx, "no verdict but dropped.unauthenticated, "
    "dropped.revoked and not_peer", f"{moved_c} {tx}")
tap(st.get("drop.unauthenticated", 0) == pp["rx_drop"] and
    st.get("drop.revoked", 0) == qq["rx_drop"] and
    pp["rx_acc"] == qq["rx_acc"] == 0 and
    pp["tx_acc"] + pp["tx_drop"] + qq["tx_acc"] + qq["tx_drop"] == 0,
    f"peer counters = namespace counters: p {pp['rx_drop']} unauthenticated, "
    f"q {qq['rx_drop']} revoked", f"{st} p {pp} q {qq}")
tap(st["not_peer"] == rx[1] + rx[2],
    f"not_peer {st['not_peer']} = movers' and controls' packets received",
    f"{st['not_peer']} vs {rx}")
tap(pp["rx_drop"] + qq["rx_drop"] + rx[1] == per_dst[0] + per_dst[1],
    "every anchor and mover packet counted once: as a peer's or as nobody's",
    f"p {pp['rx_drop']} + q {qq['rx_drop']} + movers received {rx[1]} vs "
    f"{per_dst[0]} + {per_dst[1]} sent")
keys = ("seen_expired", "seen_invalid", "seen_revoked", "events_sent",
        "events_suppressed")
tap(all(st[k] == seen0[k] for k in keys) and st["seen_revoked"] == 1,
    "no event and no first-seen count from the replacements",
    f"{ {k: seen0[k] for k in keys} } -> { {k: st[k] for k in keys} }")
open(count_file, "w").write(f"{ok_n} {fail_n}\n")
EOF
t_diag "python: $(( $(date +%s) - t0 )) s"
if read -r n failed <"$WORK/count"; then
	T_N=$n
	T_FAILED=$((T_FAILED + failed))
else
	tap_not_ok "replacements ran to the end"
fi
t_is "$(klog_bad)" "" "kernel log clean (no KASAN, lockdep, WARN, oops)"
t_done
