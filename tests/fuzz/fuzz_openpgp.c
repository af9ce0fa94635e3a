/*
 * OpenPGP (lib/openpgp.c): a vendor's keyring, ASCII-armored (an Apache
 * KEYS file: armor blocks with their CRC-24 among free text) or binary
 * packets, as signgate reads it before gpgv sees it; and gpgv's status
 * lines about a hostile signature and key (a user id is the key's text).
 * gpgv itself is not run: the file's static parsers are reached by
 * compiling lib/openpgp.c into this harness, unchanged.
 *
 * The first input byte picks: even, the rest is a keyring file; odd, the
 * rest is gpgv's stdout, its exit status the byte / 2 % 4, its stderr the
 * same text.
 */
#include "fuzz_common.h"

#include "openpgp.c"

static char *keyring_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	keyring_path = fuzz_path("KEYS");
	return 0;
}

static void keyring(const uint8_t *data, size_t len)
{
	unsigned char *bin = NULL;
	size_t bin_len = 0;

	fuzz_write(keyring_path, data, len);
	int error = keyring_load(&bin, &bin_len, keyring_path);

	fuzz_trace("keyring %d, %zu bytes of packets", error, bin_len);
	if (error == SG_OK)
		fuzz_require(bin_len > 0 && (bin[0] & 0x80), "a keyring that is no packet");
	free(bin);
}

static void status_lines(const uint8_t *data, size_t len, int exit_status)
{
	sg_openpgp_result out;
	sg_proc_result r = { .exited = 1, .exit_status = exit_status };
	char *text = fuzz_strndup(data, len);

	r.out = r.err = text;
	r.out_len = r.err_len = strlen(text);
	memset(&out, 0, sizeof(out));
	int error = judge(&out, &r, SG_GPGV_DEFAULT, "KEYS", "a.asc: OpenPGP signature of a.exe");

	fuzz_trace("status %d, key %s", error, out.fingerprint);
	if (error == SG_OK) {
		fuzz_require(fingerprint_valid(out.fingerprint), "a good signature without a key");
		for (const char *p = out.uid; *p; p++)
			fuzz_require((unsigned char)*p >= 0x20 && *p != 0x7f,
				     "a control character in the user id");
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	if (data[0] % 2 == 0)
		keyring(data + 1, len - 1);
	else
		status_lines(data + 1, len - 1, data[0] / 2 % 4);
	sg_error_clear();
	return 0;
}
