import sys
import struct
d=bytearray(open(sys.argv[1],'rb').read())
so,ss=struct.unpack_from('<II',d,44)
blob=bytes(d[so:]); 
hdr=blob[:4]; L=struct.unpack('>H',blob[2:4])[0]; der=blob[:4+L]; pad=blob[4+L:]
print(len(d),so,ss,len(der),len(pad))
def cab(sig):
    out=bytearray(d[:so])+sig
    struct.pack_into('<I',out,48,len(sig))
    return out
V={'base':cab(der+pad),'nopad':cab(der),'pad15':cab(der+b'\0'*(len(pad)+8)),
   'ber':cab(b'\x30\x83\x00'+der[2:]+b'\0'*((len(pad)-1)%8)),
   'trail_nz':cab(der+b'\x01'+b'\0'*(len(pad)-1) if pad else der+b'\x01'),
   'inner_junk':cab(b'\x30\x82'+struct.pack('>H',L+16)+der[4:]+b'\x04\x0eHIDDENHIDDEN!!'+pad)}
for k,v in V.items(): open(sys.argv[2]+'/c_%s.cab'%k,'wb').write(v)
