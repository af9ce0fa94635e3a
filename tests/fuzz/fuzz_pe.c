/*
 * PE installers: the structure check (lib/format.c, lib/format_pe.c) and
 * the Authenticode digest (lib/pe_digest.c) read from the file, and the
 * same digest streamed as the private copy is written (sg_pe_stream), fed
 * in chunks whose size the first input byte picks. When the stream gives a
 * digest, it must be sg_pe_digest()'s (pe_digest.h promises it), else the
 * harness aborts. The input is the whole file (a memfd).
 */
#include "fuzz_common.h"
#include "signgate/format.h"
#include "pe_digest.h"

static const size_t chunks[] = { 65536, 4096, 1, 7, 512, 65535, 65537, 1u << 20 };

static void stream(const uint8_t *data, size_t len, const sg_format_info *info,
		   const unsigned char *want)
{
	size_t chunk = chunks[len ? data[len - 1] % (sizeof(chunks) / sizeof(chunks[0])) : 0];
	unsigned char got[SG_PE_DIGEST_LEN];
	sg_pe_stream *d = malloc(sizeof(*d));
	int error;

	fuzz_require(d && sg_pe_stream_init(d) == SG_OK, "cannot start the stream");
	for (size_t off = 0; off < len; off += chunk)
		sg_pe_stream_update(d, data + off, len - off < chunk ? len - off : chunk, off);
	error = sg_pe_stream_finish(d, got, info);
	fuzz_trace("PE digest %s, stream %d (chunks of %zu)", want ? "ok" : "failed", error, chunk);
	fuzz_require(error == SG_OK || error == SG_ERR_USAGE, "the stream failed with %d", error);
	if (error == SG_OK)
		fuzz_require(want && memcmp(got, want, sizeof(got)) == 0,
			     "the streamed digest is not sg_pe_digest's (%s)",
			     want ? "they differ" : "which failed");
	sg_pe_stream_free(d);
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char md[SG_PE_DIGEST_LEN];
	sg_format_info info;
	int fd = fuzz_memfd(data, len), ok = 0;

	if (sg_format_inspect(&info, fd, "input.exe") == SG_OK &&
	    info.kind == sg_format_by_name("pe")) {
		fuzz_require(info.size == len, "inspect saw %llu bytes of %zu",
			     (unsigned long long)info.size, len);
		ok = sg_pe_digest(md, fd, &info, "input.exe") == SG_OK;
		stream(data, len, &info, ok ? md : NULL);
	}
	close(fd);
	sg_error_clear();
	return 0;
}
