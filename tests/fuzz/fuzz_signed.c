/*
 * The checks that a signed output is what signgate made (lib/verify.c):
 * the signature it carries must be, byte for byte, the DER signgate
 * attached (a PE's certificate table one WIN_CERTIFICATE of it with zero
 * padding, an MSI's \x05DigitalSignature stream exactly it), and counting
 * the signatures a file carries (nesting adds exactly one and keeps the
 * primary). The checks are static in lib/sign/verify.c: it is compiled into
 * this harness, unchanged; osslsigncode is never run.
 *
 * Input: a 2-byte big-endian length n, n bytes of the expected DER, then
 * the signed file.
 */
#include "fuzz_common.h"

#include "verify.c"

static char *file_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	file_path = fuzz_path("signed.bin");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_verify_opts o = { 0 };
	sg_verify_result out;
	struct opened f = { .fd = -1 };
	unsigned char primary[32];
	size_t n;
	int fd, count = 0, error;

	if (len < 2)
		return 0;
	n = (size_t)data[0] << 8 | data[1];
	if (n > len - 2)
		n = len - 2;
	o.expect_der = data + 2;
	o.expect_der_len = n;
	memset(&out, 0, sizeof(out));
	fuzz_write(file_path, data + 2 + n, len - 2 - n);
	/* As sg_verify_file() reads it: one descriptor, one structure check. */
	error = open_once(&f, file_path, "signed.bin");
	if (!error)
		error = check_container(&out, &o, 0, f.fd, f.ok, "signed.bin");
	if (f.fd >= 0)
		close(f.fd);
	free(f.refused);
	fuzz_trace("container check %d: %s", error, out.reason);
	fuzz_require(error == SG_OK || (error == SG_ERR_VERIFY && out.reason[0]) ||
			     error == SG_ERR_NOMEM,
		     "the container check returned %d", error);
	sg_error_clear();
	fd = fuzz_memfd(data + 2 + n, len - 2 - n);
	error = sg_verify_count_signatures(&count, primary, fd, "signed.bin");
	fuzz_trace("count %d: %d signatures", error, count);
	fuzz_require(error != SG_OK || count >= 0, "a negative count");
	close(fd);
	sg_error_clear();
	return 0;
}
