import struct, sys
src, dst, new_nt = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
b = bytearray(open(src, "rb").read())
nt = struct.unpack_from("<I", b, 0x3c)[0]
opt = nt + 24
nsec = struct.unpack_from("<H", b, nt + 6)[0]
optsize = struct.unpack_from("<H", b, nt + 20)[0]
falign = struct.unpack_from("<I", b, opt + 36)[0]
hdrs = struct.unpack_from("<I", b, opt + 60)[0]
d1 = new_nt - nt
D = (d1 + falign - 1) // falign * falign
d2 = D - d1
sect = opt + optsize
for i in range(nsec):
    o = sect + 40 * i + 20
    p = struct.unpack_from("<I", b, o)[0]
    if p:
        struct.pack_into("<I", b, o, p + D)
struct.pack_into("<I", b, opt + 60, hdrs + D)
struct.pack_into("<I", b, 0x3c, new_nt)
out = b[:nt] + bytes(d1) + b[nt:hdrs] + bytes(d2) + b[hdrs:]
open(dst, "wb").write(out)
