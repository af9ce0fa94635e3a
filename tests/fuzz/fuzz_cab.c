/*
 * Cabinets (.cab): the structure check (lib/format_cab.c), the Authenticode
 * digest with SHA-256 and SHA-1 and the reading of the signature blob
 * (lib/cab_digest.c). The input is the whole file (a memfd). What must
 * hold: two digests of one file agree; a cabinet the check passes has a
 * digest, and a signature blob of the size the check says; and an unsigned
 * cabinet the check passes, laid out as signing lays it out (the 24-byte
 * reserve inserted, offsets moved, a signature blob appended), passes the
 * check too and has the same digest: the digest signed is the one the
 * signed file carries.
 */
#include "fuzz_common.h"
#include "cab_digest.h"
#include "signgate/format.h"

#include <openssl/obj_mac.h>

#define SHIFT 24u /* cbCFHeader, cbCFFolder, cbCFData and the 20-byte reserve */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The unsigned cabinet `data` as it is once signed, with an 8-byte DER blob; NULL if too large. */
static uint8_t *as_signed(const uint8_t *data, size_t len, size_t *out_len)
{
	unsigned folders = (unsigned)(data[26] | data[27] << 8);
	uint8_t *s;

	if (len > UINT32_MAX - SHIFT - 8 || !(s = malloc(len + SHIFT + 8)))
		return NULL;
	memcpy(s, data, 36);
	put32(s + 8, get32(data + 8) + SHIFT);
	put32(s + 16, get32(data + 16) + SHIFT);
	s[30] |= 0x04;
	memset(s + 36, 0, SHIFT);
	s[36] = 20;
	s[42] = 0x10;
	put32(s + 44, (uint32_t)len + SHIFT);
	put32(s + 48, 8);
	memcpy(s + 36 + SHIFT, data + 36, len - 36);
	for (unsigned i = 0; i < folders; i++) {
		uint8_t *f = s + 36 + SHIFT + 8 * (size_t)i;

		put32(f, get32(f) + SHIFT);
	}
	/* the blob: one DER SEQUENCE of 8 bytes, as the structure check wants it */
	memset(s + len + SHIFT, 0, 8);
	s[len + SHIFT] = 0x30;
	s[len + SHIFT + 1] = 6;
	*out_len = len + SHIFT + 8;
	return s;
}

static void check_signed_form(const uint8_t *data, size_t len, const unsigned char *md,
			      size_t md_len)
{
	unsigned char md2[SG_CAB_DIGEST_MAX];
	size_t slen = 0, md2_len = 0;
	sg_format_info info;
	uint8_t *s = as_signed(data, len, &slen);
	int fd;

	if (!s)
		return;
	fd = fuzz_memfd(s, slen);
	fuzz_require(sg_format_inspect(&info, fd, "signed.cab") == SG_OK &&
			     info.kind == sg_format_by_name("cab") && info.has_signature &&
			     info.sig_offset == len + SHIFT && info.sig_size == 8,
		     "the cabinet laid out as signed does not pass the check: %s", sg_error_last());
	fuzz_require(sg_cab_digest(md2, &md2_len, fd, NID_sha256, "signed.cab") == SG_OK &&
			     md2_len == md_len && memcmp(md, md2, md_len) == 0,
		     "the digest of the cabinet laid out as signed is not the one signed");
	close(fd);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char a[SG_CAB_DIGEST_MAX], b[SG_CAB_DIGEST_MAX], *sig = NULL;
	size_t a_len = 0, b_len = 0, sig_len = 0;
	sg_format_info info;
	int fd = fuzz_memfd(data, len), inspected, error;

	inspected = sg_format_inspect(&info, fd, "input.cab") == SG_OK &&
		    info.kind == sg_format_by_name("cab");
	sg_error_clear();
	/* The digest reads any cabinet header, not only a file the check passed. */
	error = sg_cab_digest(a, &a_len, fd, NID_sha256, "input.cab");
	fuzz_trace("inspected %d, signed %d, digest %d", inspected, inspected && info.has_signature,
		   error);
	fuzz_require(!inspected || error == SG_OK, "a checked cabinet has no digest: %s",
		     sg_error_last());
	if (error == SG_OK) {
		fuzz_require(a_len == 32, "a SHA-256 digest of %zu bytes", a_len);
		fuzz_require(sg_cab_digest(b, &b_len, fd, NID_sha256, "input.cab") == SG_OK &&
				     a_len == b_len && memcmp(a, b, a_len) == 0,
			     "two digests of one file differ");
	}
	sg_error_clear();
	if (sg_cab_digest(b, &b_len, fd, NID_sha1, "input.cab") != SG_OK)
		sg_error_clear();
	if (sg_cab_signature_read(&sig, &sig_len, fd, 1u << 20, "input.cab") == SG_OK)
		fuzz_require(!inspected || (info.has_signature && sig_len == info.sig_size),
			     "the signature blob holds %zu bytes, the check says %llu", sig_len,
			     (unsigned long long)info.sig_size);
	free(sig);
	sg_error_clear();
	if (inspected && !info.has_signature && error == SG_OK)
		check_signed_form(data, len, a, a_len);
	close(fd);
	sg_error_clear();
	return 0;
}
