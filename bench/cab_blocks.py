#!/usr/bin/env python3
"""Write an uncompressed cabinet of many tiny CFDATA blocks (the worst case
for signgate's cabinet structure check, which reads every block header).

    cab_blocks.py BLOCKS OUT.cab [BLOCK_BYTES]     # BLOCK_BYTES default 1

Folders of at most 65535 blocks (a CFFOLDER counts them in 16 bits), one
file per folder holding all its bytes. The layout is what MS-CAB describes
(CFHEADER, CFFOLDER entries, CFFILE entries, then each folder's CFDATA
blocks); checksums are 0 ("not computed", which MS-CAB allows).
"""
import struct
import sys


def main():
    blocks = int(sys.argv[1])
    out = sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    per = 65535
    folders = [min(per, blocks - i) for i in range(0, blocks, per)]
    names = [b"f%05d.bin\0" % i for i in range(len(folders))]
    header_len = 36
    folders_at = header_len
    files_at = folders_at + 8 * len(folders)
    data_at = files_at + sum(16 + len(n) for n in names)
    block_len = 8 + size
    total = data_at + blocks * block_len
    if total >= 1 << 32:
        sys.exit("cab_blocks: the cabinet would be 4 GiB or more")
    with open(out, "wb") as f:
        f.write(struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, total, 0, files_at, 0, 3, 1,
                            len(folders), len(names), 0, 0, 0))
        at = data_at
        for n in folders:
            f.write(struct.pack("<IHH", at, n, 0))  # coffCabStart, cCFData, no compression
            at += n * block_len
        for i, n in enumerate(folders):
            # cbFile, uoffFolderStart, iFolder, date, time, attribs, name
            f.write(struct.pack("<IIHHHH", n * size, 0, i, 0x5a21, 0, 0x20) + names[i])
        payload = b"x" * size
        one = struct.pack("<IHH", 0, size, size) + payload
        chunk = one * 4096
        left = blocks
        while left:
            k = min(left, 4096)
            f.write(chunk if k == 4096 else one * k)
            left -= k
    print(f"{out}: {blocks} blocks of {size} byte(s) in {len(folders)} folders, {total} bytes")


if __name__ == "__main__":
    main()
