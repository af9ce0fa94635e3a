#!/usr/bin/env python3
"""MITM TSA proxy: forwards the query to UPSTREAM, then adds an unsigned
attribute (OID 1.3.6.1.4.1.311.2.4.1, nested-signature OID, with PAYLOAD bytes)
to the token's SignerInfo, re-encoding every length up the chain."""
import http.server, sys, urllib.request

upstream, portfile, mode = sys.argv[1], sys.argv[2], sys.argv[3]

def hdr(b, off):
    tag, first = b[off], b[off + 1]
    if first < 0x80:
        return tag, off + 2, first
    n = first & 0x7F
    return tag, off + 2 + n, int.from_bytes(b[off + 2:off + 2 + n], "big")

def enc_len(n):
    if n < 0x80:
        return bytes([n])
    s = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(s)]) + s

def tlv(tag, content):
    return bytes([tag]) + enc_len(len(content)) + content

def children(b, off, end):
    out = []
    while off < end:
        t, c, n = hdr(b, off)
        out.append((t, off, c, n))
        off = c + n
    return out

def rebuild(b, path, edit):
    """path: list of child indexes from the top TLV at 0; edit(content)->content of the target."""
    def rec(off, depth):
        t, c, n = hdr(b, off)
        if depth == len(path):
            return tlv(t, edit(b[c:c + n], t))
        kids = children(b, c, c + n)
        parts = []
        for i, (kt, ko, kc, kn) in enumerate(kids):
            parts.append(rec(ko, depth + 1) if i == path[depth] else b[ko:kc + kn])
        return tlv(t, b"".join(parts))
    return rec(0, 0)

OID = bytes.fromhex("060a2b0601040182370204 01".replace(" ", ""))
def add_unsigned(si, tag):
    kids = children(si, 0, len(si))
    payload = b"SMUGGLED-BY-MITM-" * 256
    attr = tlv(0x30, OID + tlv(0x31, tlv(0x04, payload)))
    return si + tlv(0xA1, attr)

def patch(resp):
    b = bytes(resp)
    # TimeStampResp SEQ -> [1] token ContentInfo -> [1] [0]EXPLICIT -> [0] SignedData
    top = children(b, *(lambda t, c, n: (c, c + n))(*hdr(b, 0)))
    ci_off = top[1][1]
    t, c, n = hdr(b, ci_off)
    ci_kids = children(b, c, c + n)
    ex_t, ex_o, ex_c, ex_n = ci_kids[1]
    sd_t, sd_c, sd_n = hdr(b, ex_c)[0], hdr(b, ex_c)[1], hdr(b, ex_c)[2]
    sd_kids = children(b, sd_c, sd_c + sd_n)
    si_set_index = len(sd_kids) - 1
    # signerInfos SET -> first SignerInfo
    return rebuild(b, [1, 1, 0, si_set_index, 0], add_unsigned)

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_POST(self):
        q = self.rfile.read(int(self.headers["Content-Length"]))
        req = urllib.request.Request(upstream, data=q, headers={"Content-Type": "application/timestamp-query"})
        r = urllib.request.urlopen(req).read()
        out = patch(r) if mode == "unsigned" else r
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        sys.stderr.write("mitm: " + (a[0] % a[1:]) + "\n")

s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile, "w").write(str(s.server_address[1]))
s.serve_forever()
