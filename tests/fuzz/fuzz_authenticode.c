/*
 * The PKCS#7 Authenticode check (lib/authenticode.c), made with OpenSSL on
 * the signature extracted from a signed file: the signer and its signed
 * attributes, the SpcIndirectDataContent, nested signatures, an RFC 3161
 * token, the chain (to tests/fuzz/data/authenticode-ca.pem, the roots the
 * seed signatures were made under, loaded once as sg_trust), the
 * exact-signature rule; and counting
 * nested signatures (sg_authenticode_count).
 *
 * The first input byte picks the options: bits 0-1 the index (0, 1, -1,
 * 0), bit 2 MSI rather than PE, bit 3 exact_attributes, bit 4 expect_der
 * the input itself, bit 5 a cabinet (over bit 2). The rest is the DER.
 */
#include "fuzz_common.h"
#include "authenticode.h"
#include "signgate/authenticode_sign.h"
#include "signgate/format.h"

static char *sig_path, *ca_path;
static sg_trust *trust; /* loaded once, as a run loads it */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	sig_path = fuzz_path("signature.der");
	ca_path = sg_path_join(SG_FUZZ_DATA_DIR, "authenticode-ca.pem");
	fuzz_require(ca_path != NULL, "out of memory");
	fuzz_require(sg_trust_load(&trust, &(sg_trust_files){ ca_path, ca_path, NULL, 1 }) == SG_OK,
		     "cannot load the trust: %s", sg_error_last());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const int indexes[] = { 0, 1, -1, 0 };
	sg_authenticode_opts o = { 0 };
	sg_authenticode_result out;
	unsigned char primary[32];
	int count = 0, error;

	if (len < 1)
		return 0;
	o.trust = trust;
	o.index = indexes[data[0] & 3];
	o.kind = data[0] & 32  ? sg_format_by_name("cab")
		 : data[0] & 4 ? sg_format_by_name("msi")
			       : sg_format_by_name("pe");
	o.exact_attributes = !!(data[0] & 8);
	if (data[0] & 16) {
		o.expect_der = data + 1;
		o.expect_der_len = len - 1;
	}
	fuzz_write(sig_path, data + 1, len - 1);
	error = sg_authenticode_check(&out, &o, sig_path);
	fuzz_trace("check %d, %d signatures, reason \"%s\"", error, out.n_signatures, out.reason);
	fuzz_require(error == SG_OK || error == SG_ERR_NOMEM || error == SG_ERR_IO ||
			     (error == SG_ERR_VERIFY && out.reason[0]),
		     "the check returned %d", error);
	if (error == SG_OK)
		fuzz_require(out.n_signatures >= 1 && strlen(out.file_digest) == 64,
			     "a valid signature without its file digest");
	sg_error_clear();
	if (sg_authenticode_count(&count, primary, data + 1, len - 1) == SG_OK)
		fuzz_require(count >= 1, "a SignedData with %d signatures", count);
	sg_error_clear();
	return 0;
}
