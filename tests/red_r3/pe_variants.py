import struct,sys
d=bytearray(open(sys.argv[1],'rb').read())
nt=struct.unpack_from('<I',d,0x3c)[0]; opt=nt+24; dirat=opt+96+8*4
co,cs=struct.unpack_from('<II',d,dirat)
head=bytes(d[:co]); der=bytes(d[co+8:co+8+7715])
def pe(table, dw=None):
    out=bytearray(head)+table
    struct.pack_into('<II',out,dirat,co,len(table))
    return out
def ent(body, dw=None):
    return struct.pack('<IHH', dw if dw is not None else 8+len(body), 0x200, 2)+body
def pad8(b): return b+b'\0'*((-len(b))%8)
V={}
V['base']=pe(pad8(ent(der)))
V['dw_nopad']=pe(ent(der, 8+len(der))+b'\0'*5)
V['dw_pad']=pe(ent(der+b'\0'*5))
V['extra8zero']=pe(ent(der+b'\0'*13))
V['two_entries']=pe(pad8(ent(der))+pad8(ent(der)))
# inner: grow outer SEQUENCE by 16 bytes of junk inside
body=der[4:]; junk=b'\x04\x0eHIDDENHIDDEN!!'
der2=b'\x30\x82'+struct.pack('>H',len(body)+len(junk))+body+junk
V['inner_junk']=pe(pad8(ent(der2)))
# trailing junk after DER but within dwLength, nonzero
V['trail_nonzero']=pe(ent(der+b'\x01\0\0\0\0'))
# BER leading zero length
der3=b'\x30\x83\x00'+der[2:]
V['ber_len']=pe(pad8(ent(der3)))
# dwLength smaller than DER (DER truncated by dwLength), table bigger
V['dw_short']=pe(ent(der+b'\0'*5, 8+len(der)-16))
# cert table size not multiple of 8 (no padding at all)
V['nopad_end']=pe(ent(der))
for k,v in V.items(): open(sys.argv[2]+'/v_%s.exe'%k,'wb').write(v)
print(list(V))
