/*
 * PowerShell scripts (lib/format_script.c): the structure check through
 * sg_format_inspect (a memfd named input.ps1), the digest and the
 * signature block. What must hold for a script it accepts:
 *   - the buffer parser and the file reader agree (kind, signed or not,
 *     where the block starts, the digest);
 *   - the script text alone, without the block, is an unsigned script of
 *     the same digest (the block is all the signature leaves out);
 *   - its block reads back, and is a function of its DER: the text,
 *     then the block written again from the DER in lines of 64 in the
 *     script's encoding, gives back the input byte for byte (verification
 *     compares DERs only because of this).
 * The input is the whole file.
 */
#include "fuzz_common.h"
#include "signgate/format.h"
#include "signgate/hash.h"
#include "format_script.h"

static const char *const name = "input.ps1";

/* Append the ASCII `s` to `out` in units of `unit` bytes (little-endian). */
static size_t put(unsigned char *out, size_t at, const char *s, size_t n, size_t unit)
{
	for (size_t i = 0; i < n; i++) {
		out[at++] = (unsigned char)s[i];
		if (unit == 2)
			out[at++] = 0;
	}
	return at;
}

/* The text, then the block for `der`, as signtool and osslsigncode write it. */
static void rebuild(const uint8_t *data, size_t len, const sg_script_layout *l,
		    const unsigned char *der, size_t der_len)
{
	size_t unit = l->encoding == SG_SCRIPT_UTF16LE ? 2 : 1, b64_len = (der_len + 2) / 3 * 4;
	char *b64 = malloc(b64_len + 1);
	unsigned char *out = malloc(l->text_end + unit * (b64_len + b64_len / 64 * 4 + 128));
	size_t at = l->text_end;
	static const char begin[] = "\r\n# SIG # Begin signature block\r\n",
			  end[] = "# SIG # End signature block\r\n";

	fuzz_require(b64 && out, "out of memory");
	fuzz_require(sg_base64_encode(b64, b64_len + 1, der, der_len) == SG_OK, "base64");
	memcpy(out, data, l->text_end);
	at = put(out, at, begin, sizeof(begin) - 1, unit);
	for (size_t i = 0; i < b64_len; i += 64) {
		size_t n = b64_len - i < 64 ? b64_len - i : 64;
		at = put(out, at, "# ", 2, unit);
		at = put(out, at, b64 + i, n, unit);
		at = put(out, at, "\r\n", 2, unit);
	}
	at = put(out, at, end, sizeof(end) - 1, unit);
	fuzz_require(at == len && memcmp(out, data, len) == 0,
		     "the block is not the one its DER (%zu bytes) makes", der_len);
	free(b64);
	free(out);
}

/* The text alone: an unsigned script with the same digest. */
static void text_alone(const uint8_t *data, const sg_script_layout *l, const unsigned char *md)
{
	sg_script_layout t;
	unsigned char again[SG_SCRIPT_DIGEST_LEN];

	fuzz_require(sg_script_parse(&t, data, l->text_end, name) == SG_OK,
		     "the text without its block is refused");
	fuzz_require(!t.has_signature && t.text_end == l->text_end && t.encoding == l->encoding,
		     "the text without its block reads differently");
	fuzz_require(sg_script_digest_buffer(again, data, &t) == SG_OK, "digest of the text");
	fuzz_require(memcmp(again, md, sizeof(again)) == 0, "the text alone hashes differently");
}

static void accepted(const uint8_t *data, size_t len, int fd, const sg_script_layout *l,
		     const sg_format_info *info)
{
	unsigned char md[SG_SCRIPT_DIGEST_LEN], from_file[SG_SCRIPT_DIGEST_LEN], *der = NULL;
	size_t der_len = 0;

	fuzz_require(info->kind == sg_format_by_name("powershell") &&
			     info->has_signature == l->has_signature &&
			     info->script.encoding == (int)l->encoding,
		     "inspect and parse disagree");
	fuzz_require(!l->has_signature || (info->sig_offset == l->text_end &&
					   info->sig_offset + info->sig_size == len),
		     "the block is not where parse put it");
	fuzz_require(sg_script_digest_buffer(md, data, l) == SG_OK, "digest of the buffer");
	fuzz_require(sg_script_digest(from_file, fd, name) == SG_OK, "digest of the file");
	fuzz_require(memcmp(md, from_file, sizeof(md)) == 0, "the two digests differ");
	if (l->has_signature)
		text_alone(data, l, md);
	if (l->has_signature) {
		/* The structure check decoded the block: reading it cannot fail now. */
		fuzz_require(sg_script_signature_read(&der, &der_len, fd, name) == SG_OK,
			     "an accepted block does not read back");
		fuzz_trace("signature block of %zu DER bytes", der_len);
		rebuild(data, len, l, der, der_len);
	}
	free(der);
}

/* 1 when a row with a magic number takes the file under a name no row owns. */
static int magic_taken(int fd)
{
	sg_format_info other;
	int error = sg_format_inspect(&other, fd, "input.bin");

	return error == SG_OK || !strstr(sg_error_last(), "not an installer signgate signs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_script_layout l;
	sg_format_info info;
	int fd = fuzz_memfd(data, len), parsed, inspected;

	parsed = sg_script_parse(&l, data, len, name);
	inspected = sg_format_inspect(&info, fd, name);
	fuzz_trace("parse %d, inspect %d", parsed, inspected);
	/*
	 * The magic goes first (test_script: "MZ-Tool" in mz.ps1): a text
	 * another row's detect() takes is that row's, and refused as such.
	 */
	if (parsed == SG_OK && inspected != SG_OK && magic_taken(fd)) {
		close(fd);
		sg_error_clear();
		return 0;
	}
	fuzz_require(parsed == inspected, "parse (%d) and inspect (%d) disagree", parsed,
		     inspected);
	if (parsed == SG_OK)
		accepted(data, len, fd, &l, &info);
	close(fd);
	sg_error_clear();
	return 0;
}
