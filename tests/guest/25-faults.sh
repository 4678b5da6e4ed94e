#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures, injected one at a time at every slab allocation an
# operation makes (failslab through /proc/thread-self/fail-nth): peer add,
# peer replace, a bulk-load chunk and commit, and a namespace's first
# configuration (which sets up its data path); and (the task filter on
# svrcert's event thread) event delivery. Every
# failure must leave the peer table and the live set exactly as before
# (or, when only the reply was lost, exactly as after), and the run must
# end without a splat or a kmemleak report (the rig checks both). One
# python3 process drives it all over one netlink socket: under the debug
# kernel a process start costs seconds.
#
# Needs fault injection (the debug kernel); elsewhere it skips.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/lib-pki.sh"
. "$here/lib-svrcert.sh"

FI=/sys/kernel/debug/failslab
if [ ! -d "$FI" ] || [ ! -e /proc/thread-self/fail-nth ]; then
	tap_skip "allocation failures injected into svrcert" \
		"no failslab/fail-nth in this kernel (the debug kernel has them)"
	t_done
	exit 0
fi

WORK=$(mktemp -d)
on_exit 'rm -rf "$WORK"; echo Y >$FI/ignore-gfp-wait'
klog_mark
pki_init "$WORK/pki" && pki_cert peer -3600 +86400
t_ok $? "peer certificate"

# Slab failures only, GFP_KERNEL included, silently (a stack dump per
# injected failure would read as a splat); page allocations never fail.
echo N >$FI/ignore-gfp-wait
echo 0 >$FI/verbose
echo 0 >$FI/probability
echo 0 >$FI/times
[ -d /sys/kernel/debug/fail_page_alloc ] &&
	echo 11 >/sys/kernel/debug/fail_page_alloc/min-order

PYTHONPATH=$here python3 - "$PKI/peer.der" "$T_N" "$WORK/count" <<'EOF'
import ctypes, fcntl, os, socket, struct, sys, time

from svrcert_genl import Genl, attrs, nest, nla

cert = open(sys.argv[1], "rb").read()
revkey = bytes(range(32))
ok_n = int(sys.argv[2])
fail_n = 0

def tap(good, desc, diag=""):
    global ok_n, fail_n
    ok_n += 1
    print(("ok" if good else "not ok"), ok_n, "-", desc, flush=True)
    if not good:
        fail_n += 1
        for line in str(diag).splitlines():
            print("#", line, flush=True)

nl = Genl()
fd = os.open("/proc/thread-self/fail-nth", os.O_RDWR)

def faulty(cmd, payload, g=None):
    """One request with the nth slab allocation of this thread failing:
    (errno, or 0, or "lost" when only the reply was; did it fire?)."""
    g = g or nl
    msg = g.build(cmd, payload)
    os.write(fd, str(faulty.n).encode())
    try:
        g.sk.send(msg)
        err, _ = g.recv()
    except OSError as e:
        err = -e.errno
    left = int(os.pread(fd, 32, 0) or b"0")
    os.write(fd, b"0")
    return err, left == 0

def peer(name, addrs=None, state=None, with_cert=False):
    p = nla(1, name.encode() + b"\0")
    if with_cert:
        # a certificate always comes with its revocation key (UAPI 2);
        # any 32 bytes do here: the sweep is about allocations
        p += nla(2, cert) + nla(6, revkey)
    if state is not None:
        p += nla(3, bytes([state]))
    if addrs is not None:
        p += nest(4, b"".join(nla(1, socket.inet_aton(a)) for a in addrs))
    return nest(9, p)

def get_peer(name):
    err, msgs = nl.xfer(14, peer(name))
    if err:
        return err
    p = attrs(attrs(msgs[0])[9])
    a = sorted(socket.inet_ntoa(v) for v in
               [x for x in split_all(p[4])])
    return (p[3][0], a)

def split_all(buf):
    off = 0
    while off + 4 <= len(buf):
        n, t = struct.unpack_from("HH", buf, off)
        yield buf[off + 4:off + n]
        off += (n + 3) & ~3

def stats():
    err, msgs = nl.xfer(15)
    s = attrs(attrs(msgs[0])[10])
    return struct.unpack("I", s[7])[0], struct.unpack("I", s[10])[0]

def sweep(desc, cmd, payload, before, after, state, undo=None, cap=400):
    """Fail allocation 1, 2, ... until the request goes through whole."""
    bad = []
    n = 0
    for n in range(1, cap + 1):
        faulty.n = n
        err, fired = faulty(cmd, payload)
        got = state()
        if not fired:
            if err != 0 or got != after:
                bad.append(f"no fault: err {err}, state {got}, want {after}")
            break
        want = after if err == 0 or err == "lost" else before
        if got != want:
            bad.append(f"fault {n}: err {err}, state {got}, want {want}")
        if got == after and undo:
            undo()
    else:
        bad.append(f"still failing after {cap} faults")
    if undo:
        undo()
    tap(not bad, f"{desc}: {n - 1} injected failures, each left the state whole",
        "\n".join(bad[:5]))

# A peer to replace, and ten live keys.
keys10 = os.urandom(32 * 10)
assert nl.xfer(11, peer("base", ["10.30.0.1", "10.30.0.2"], with_cert=True))[0] == 0
assert nl.xfer(3, nla(7, keys10))[0] == 0
stats0 = stats()

sweep("ADD_PEER", 11, peer("new", ["10.30.1.1", "10.30.1.2"], with_cert=True),
      -2, (0, ["10.30.1.1", "10.30.1.2"]), lambda: get_peer("new"),
      undo=lambda: nl.xfer(13, peer("new")))

base = get_peer("base")
new_base = (1, ["10.30.0.2", "10.30.0.3", "10.30.0.4"])
sweep("REPLACE_PEER adding and removing addresses", 12,
      peer("base", ["10.30.0.2", "10.30.0.3", "10.30.0.4"], state=1),
      base, new_base, lambda: get_peer("base"),
      undo=lambda: nl.xfer(12, peer("base", ["10.30.0.1", "10.30.0.2"], state=0)))
tap(stats() == stats0, "keys and peers counted as before", f"{stats()} {stats0}")

# A bulk load: a chunk that fails drops the load and the live set stays;
# a chunk that never reached svrcert (the failure was in netlink or
# genetlink before it) leaves an empty load, and its commit swaps in
# nothing. Never a partial set.
chunk = os.urandom(32 * 64)   # a key costs ~1 ms under KASAN
def chunk_sweep():
    bad, n = [], 0
    for n in range(1, 401):
        assert nl.xfer(7)[0] == 0               # LOAD_BEGIN
        faulty.n = n
        err, fired = faulty(8, nla(7, chunk))
        cerr, _ = nl.xfer(9)                    # LOAD_COMMIT
        live = stats()[0]
        if not fired:
            if err or cerr or live != 64:
                bad.append(f"no fault: chunk {err} commit {cerr} live {live}")
            break
        if err in (0, "lost"):
            good = cerr == 0 and live == 64
        else:
            good = (cerr == -2 and live == 10) or (cerr == 0 and live == 0)
        if not good:
            bad.append(f"fault {n}: chunk {err}, commit {cerr}, live {live}")
        if live != 10:                          # back to the ten keys
            nl.xfer(7); nl.xfer(8, nla(7, keys10)); nl.xfer(9)
    tap(not bad, f"LOAD_CHUNK: {n - 1} injected failures, never a partial live set",
        "\n".join(bad[:5]))
chunk_sweep()

# Namespace setup: a namespace gets svrcert's data path (event ring,
# hooks) at its first configuration. In a fresh namespace each time, fail
# each allocation of that first SET_POLICY in turn: the namespace must
# stay unconfigured (default policy) and take the next attempt; kmemleak
# checks every unwinding. (Failing allocations inside unshare() itself
# also fails other subsystems, some of which dump a stack trace.)
libc = ctypes.CDLL(None, use_errno=True)
home = os.open("/proc/self/ns/net", os.O_RDONLY)
bad, n = [], 0
for n in range(1, 201):
    if libc.unshare(0x40000000):
        bad.append(f"unshare: errno {ctypes.get_errno()}")
        break
    g = Genl()
    faulty.n = n
    err, fired = faulty(2, nla(2, b"\x01"), g)       # SET_POLICY validation on
    _, msgs = g.xfer(1)                               # GET_POLICY
    pv = attrs(msgs[0])[2][0]
    g.sk.close()
    libc.setns(home, 0x40000000)
    if not fired:
        if err or pv != 1:
            bad.append(f"no fault: err {err}, peer-validation {pv}")
        break
    want = 1 if err in (0, "lost") else 0
    if pv != want:
        bad.append(f"fault {n}: err {err}, peer-validation {pv}, want {want}")
tap(not bad, f"first configuration of a namespace: {n - 1} injected failures, "
    "each left it unconfigured", "\n".join(bad[:5]))


# Event delivery runs in svrcert's own thread ("svrcert_events"), where
# fail-nth (a task's own) cannot reach: failslab's task filter can. Only
# that thread is marked make-it-fail, and `space` picks which of its slab
# allocations fails: each allocation first spends its size from it, the
# first one that finds too little left fails, and `times` 1 makes that the
# only one. Stepping `space` by 128 bytes (less than any allocation of the
# path: the message, its trimmed copy, the clone for a second listener,
# kmemleak's records of each) fails every allocation of one delivery in
# turn, until a delivery goes through with nothing failed.
# Each step deletes and adds the peer (a new record: its first packet is
# news again), sends it one packet over loopback, and waits for the
# worker's verdict in the counters (an event the rate limit suppressed,
# nothing having failed, is tried again after a pause: the guest's clock
# under TCG can make the steps come faster than they look). What must
# hold, for each failure:
# the event was either never built (counted suppressed, no listener gets
# it) or multicast (counted sent, and each of two listeners gets it or
# ENOBUFS, netlink's word for a lost message); the next event with
# nothing failing reaches both; kmemleak (the rig) finds nothing.
def events_sweep():
    def comm(pid):
        try:
            return open(f"/proc/{pid}/comm").read().strip()
        except OSError:         # gone meanwhile
            return ""
    ev_pid = [d for d in os.listdir("/proc")
              if d.isdigit() and comm(d) == "svrcert_events"]
    if len(ev_pid) != 1:
        tap(False, "event delivery: one svrcert_events thread", ev_pid)
        return
    fi = "/sys/kernel/debug/failslab/"
    def fset(name, v):
        with open(fi + name, "w") as f:
            f.write(str(v))
    if libc.unshare(0x40000000):
        tap(False, "event delivery: unshare", ctypes.get_errno())
        return
    g = Genl()
    # lo up (SIOCSIFFLAGS, IFF_UP): 127.0.0.2 is the peer, and a packet to
    # it passes the outbound hook with the peer's address as destination
    sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fcntl.ioctl(sk, 0x8914, struct.pack("16sH22x", b"lo", 1))
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.2", 4800))
    fam, g.fam = g.fam, 0x10                        # the events group
    _, msgs = g.xfer(3, nla(2, b"svrcert\0"))
    g.fam = fam
    grp = None
    for gr in split_all(attrs(msgs[0])[7]):
        a = attrs(gr)
        if a[1].rstrip(b"\0") == b"events":
            grp = struct.unpack("I", a[2])[0]
    listeners = []
    for _ in range(2):
        ls = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        ls.bind((0, 0))
        ls.setsockopt(270, 1, grp)                      # ADD_MEMBERSHIP
        ls.setblocking(False)
        listeners.append(ls)
    assert g.xfer(2, nla(2, b"\x01") + nla(4, b"\x01"))[0] == 0  # validate, self valid
    def ev_counts():
        _, msgs = g.xfer(15)
        st = attrs(attrs(msgs[0])[10])
        return struct.unpack("Q", st[12])[0], struct.unpack("Q", st[13])[0]
    def heard(ls):
        """Events this listener got since last asked, or 'ENOBUFS'."""
        got = []
        while True:
            try:
                buf = ls.recv(65536)
            except BlockingIOError:
                return got
            except OSError as e:
                if e.errno != 105:
                    raise
                got.append("ENOBUFS")
                continue
            ev = attrs(attrs(buf[20:])[11])
            got.append(ev[2].rstrip(b"\0").decode())
    def one_event(step, arm):
        """Trigger one event; (sent, suppressed) moved, what each heard."""
        g.xfer(13, peer(name_of(step - 1)))
        p = nla(1, name_of(step).encode() + b"\0") + nla(2, cert) + \
            nla(6, revkey) + nla(3, b"\x02") + \
            nest(4, nla(1, socket.inet_aton("127.0.0.2")))
        assert g.xfer(11, nest(9, p))[0] == 0
        c0 = ev_counts()
        if arm:
            arm()
        sk.sendto(b"x", ("127.0.0.2", 4800))
        end = time.monotonic() + 60
        while ev_counts() == c0 and time.monotonic() < end:
            time.sleep(0.05)
        c1 = ev_counts()
        time.sleep(0.1)         # at most 20 events a second are sent
        return (c1[0] - c0[0], c1[1] - c0[1]), [heard(ls) for ls in listeners]
    def paced_event(arm):
        """one_event, again after a pause while the rate limit (not a
        failure: nothing fired) suppressed it; (moved, heard, fired)."""
        nonlocal step
        for _ in range(3):
            step += 1
            moved, got = one_event(step, arm)
            fired = open(fi + "times").read().strip() == "0"
            fset("times", 0)
            if fired or moved != (0, 1):
                break
            time.sleep(1.5)
        return moved, got, fired
    name_of = lambda n: f"ev{n}"
    mark = f"/proc/{ev_pid[0]}/make-it-fail"
    fset("times", 0)
    fset("probability", 100)
    fset("task-filter", "Y")
    with open(mark, "w") as f:
        f.write("1")
    bad, outcomes, step, space = [], {}, 0, 1
    try:
        while space < 65536:
            def arm():
                fset("space", space)
                fset("times", 1)
            moved, got, fired = paced_event(arm)
            me = name_of(step)
            if not fired:
                if moved != (1, 0) or got != [[me], [me]]:
                    bad.append(f"no fault: {moved} {got}")
                break
            if moved == (0, 1) and got == [[], []]:
                kind = "lost before sending, counted suppressed"
            elif moved == (1, 0) and all(h in ([me], ["ENOBUFS"]) for h in got):
                kind = ("sent" if got == [[me], [me]] else
                        "sent, a listener told ENOBUFS")
            else:
                kind = None
                bad.append(f"space {space}: counters {moved}, heard {got}")
            outcomes[kind] = outcomes.get(kind, 0) + 1
            # nothing failing: the next event reaches both listeners
            moved, got, _ = paced_event(None)
            if moved != (1, 0) or got != [[name_of(step)]] * 2:
                bad.append(f"after space {space}: {moved} {got}")
            space += 128
    finally:
        fset("times", 0)
        with open(mark, "w") as f:
            f.write("0")
        fset("task-filter", "N")
        fset("probability", 0)
        fset("space", 0)
    g.sk.close()
    for ls in listeners:
        ls.close()
    sk.close()
    sink.close()
    libc.setns(home, 0x40000000)
    if "lost before sending, counted suppressed" not in outcomes:
        bad.append("no failure ever lost an event")
    tap(not bad, f"event delivery: {sum(outcomes.values())} injected "
        f"failures: {outcomes}", "\n".join(bad[:5]))
events_sweep()

open(sys.argv[3], "w").write(f"{ok_n} {fail_n}\n")
EOF
if read -r n failed <"$WORK/count"; then
	T_N=$n
	T_FAILED=$((T_FAILED + failed))
else
	tap_not_ok "fault sweeps ran to the end"
fi
t_is "$(klog_bad)" "" "kernel log clean (no KASAN, lockdep, WARN, oops)"
t_done
