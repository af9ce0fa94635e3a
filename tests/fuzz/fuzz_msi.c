/*
 * MSI installers and their family (MSP, MSM, MST: OLE compound files told
 * apart by the root class): the structure check (lib/format_msi.c, lib/cfb.c)
 * through the format table, with the name's extension agreeing or not, and the Authenticode digest
 * with and without the MsiDigitalSignatureEx pre-hash, with SHA-256 and SHA-1, and the reading of
 * the \x05DigitalSignature stream (lib/msi_digest.c). The input is the whole file (a memfd). Two
 * reads of one file must agree.
 */
#include "fuzz_common.h"
#include "signgate/format.h"
#include "msi_digest.h"

#include <openssl/obj_mac.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_msi_digest_result a, b;
	sg_format_info info, named;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int fd = fuzz_memfd(data, len), inspected, error;

	/* A name without an extension: the content's row, whichever class it has. */
	inspected = sg_format_inspect(&info, fd, "input") == SG_OK;
	fuzz_require(!inspected || info.kind == sg_format_by_name("msi") ||
			     info.kind == sg_format_by_name("msp") ||
			     info.kind == sg_format_by_name("mst"),
		     "a compound file taken as format %d", (int)info.kind);
	/* Named as a package: taken exactly when the class is a package's, with the same result. */
	if (sg_format_inspect(&named, fd, "input.msi") == SG_OK)
		fuzz_require(inspected && info.kind == sg_format_by_name("msi") &&
				     named.kind == sg_format_by_name("msi") &&
				     named.cfb.dse == info.cfb.dse &&
				     named.has_signature == info.has_signature &&
				     named.sig_size == info.sig_size,
			     "named .msi, the check says otherwise than unnamed");
	else
		fuzz_require(!inspected || info.kind != sg_format_by_name("msi"),
			     "a package refused when named .msi: %s", sg_error_last());
	/* The digest reads any compound file, not only one the check passed. */
	error = sg_msi_digest(&a, fd, NID_sha256, SG_MSI_DSE_AS_FILE, "input.msi");
	fuzz_trace("inspected %d, digest %d, dse %d, signature %d", inspected, error, a.has_dse,
		   a.has_signature);
	if (error == SG_OK) {
		fuzz_require(a.md_len == 32, "a SHA-256 digest of %zu bytes", a.md_len);
		fuzz_require(sg_msi_digest(&b, fd, NID_sha256, SG_MSI_DSE_AS_FILE, "input.msi") ==
					     SG_OK &&
				     a.md_len == b.md_len && memcmp(a.md, b.md, a.md_len) == 0 &&
				     a.has_dse == b.has_dse && a.dse_prepended == b.dse_prepended &&
				     a.has_signature == b.has_signature,
			     "two digests of one file differ");
		if (inspected)
			fuzz_require(a.has_dse == info.cfb.dse &&
					     a.has_signature == info.has_signature,
				     "the digest and the check disagree on the signature streams");
	}
	sg_error_clear();
	if (sg_msi_digest(&b, fd, NID_sha1, SG_MSI_DSE_WITH, "input.msi") != SG_OK)
		sg_error_clear();
	if (sg_msi_digest(&b, fd, NID_sha256, SG_MSI_DSE_WITHOUT, "input.msi") != SG_OK)
		sg_error_clear();
	if (sg_msi_signature_read(&sig, &sig_len, fd, 1u << 20, "input.msi") == SG_OK)
		fuzz_require(!inspected || !info.has_signature || sig_len == info.sig_size,
			     "the signature stream holds %zu bytes, the check says %llu", sig_len,
			     (unsigned long long)info.sig_size);
	free(sig);
	close(fd);
	sg_error_clear();
	return 0;
}
