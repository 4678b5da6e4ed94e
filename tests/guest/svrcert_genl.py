# SPDX-License-Identifier: GPL-2.0
"""svrcert's generic netlink family from python, for the guest tests that
drive it with one process (a process start costs seconds on the debug
kernel): attribute encoding and parsing, and a socket that resolves the
family and exchanges requests with their acks. Imported by 25-faults.sh and
46-replace.sh (PYTHONPATH=tests/guest); the command and attribute numbers
are include/uapi/linux/svrcert.h's, written by the tests themselves."""
import socket
import struct


def nla(t, data):
    n = 4 + len(data)
    return struct.pack("HH", n, t) + data + b"\0" * (-n % 4)


def nest(t, data):
    return nla(t | 0x8000, data)


def attrs(buf):
    """{type: payload} of the attributes in buf (the first of each type)."""
    out, off = {}, 0
    while off + 4 <= len(buf):
        n, t = struct.unpack_from("HH", buf, off)
        if n < 4:
            break
        out.setdefault(t & 0x3fff, buf[off + 4:off + n])
        off += (n + 3) & ~3
    return out


def u64(b):
    return struct.unpack("Q", b)[0]


class Genl:
    def __init__(self):
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.sk.bind((0, 0))
        self.seq = 0
        self.fam = 0x10
        _, msgs = self.xfer(3, nla(2, b"svrcert\0"))  # CTRL_CMD_GETFAMILY
        self.fam = struct.unpack("H", attrs(msgs[0])[1][:2])[0]

    def build(self, cmd, payload=b"", dump=False):
        self.seq += 1
        flags = 1 | 4 | (0x300 if dump else 0)
        body = struct.pack("BBH", cmd, 1, 0) + payload
        return struct.pack("IHHII", 16 + len(body), self.fam, flags,
                           self.seq, 0) + body

    def recv(self):
        """(errno or 0, genl payloads); 'lost' when the ack never came."""
        msgs = []
        while True:
            try:
                buf = self.sk.recv(1 << 20)
            except OSError as e:
                return ("lost", msgs) if e.errno == 105 else (-e.errno, msgs)
            off = 0
            while off + 16 <= len(buf):
                n, typ, flags, seq, _ = struct.unpack_from("IHHII", buf, off)
                if typ == 2:        # NLMSG_ERROR: 0 is the ack
                    return struct.unpack_from("i", buf, off + 16)[0], msgs
                if typ == 3:        # NLMSG_DONE
                    return 0, msgs
                msgs.append(buf[off + 20:off + n])
                off += (n + 3) & ~3

    def xfer(self, cmd, payload=b"", dump=False):
        msg = self.build(cmd, payload, dump)
        try:
            self.sk.send(msg)
        except OSError as e:
            return -e.errno, []
        return self.recv()
