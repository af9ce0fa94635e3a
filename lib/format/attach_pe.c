/*
 * A PE signed in place, without a key and without osslsigncode; see
 * include/signgate/attach.h. The bytes written are those `osslsigncode sign`
 * 2.9 writes (pe.c: pe_append_pkcs7, pe_update_data_size, pe_calc_checksum),
 * so that a file signed by either with the same signature is the same file.
 */
#include "attach.h"
#include "format_ops.h"
#include "pe_digest.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WIN_CERT_REV_2_0 0x0200
#define WIN_CERT_PKCS7   0x0002
#define SUM_BLOCK        (1u << 15) /* fits the L1/L2 caches: faster than larger reads */

static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* What sg_attach_pe() may do with `info` and `der`; SG_OK or SG_ERR_USAGE with the reason. */
static int check_request(const sg_format_info *info, const unsigned char *der, size_t der_len,
			 const char *name)
{
	uint64_t end = info && info->has_signature ? info->sig_offset : info ? info->size : 0;

	if (!info || !sg_format_info_is(info, &sg_format_pe_ops) || info->pe.checksum_offset == 0 ||
	    info->pe.checksum_offset + 4 > info->pe.certdir_offset ||
	    info->pe.certdir_offset + 8 > end || end > info->size ||
	    (info->has_signature && info->sig_offset + info->sig_size != info->size))
		return sg_error_set(SG_ERR_USAGE, "%s: not an inspected PE image", name);
	/* One DER signature and nothing after it: the table must hide nothing. */
	if (!der || sg_format_der_len(der, der_len) != der_len)
		return sg_error_set(SG_ERR_USAGE,
				    "%s: the signature to attach is not one DER element", name);
	/* The directory entry and dwLength hold 32 bits; so does osslsigncode's file end. */
	if (round8(end) + round8(8 + (uint64_t)der_len) > UINT32_MAX)
		return sg_error_set(SG_ERR_USAGE,
				    "%s: a certificate table of %zu bytes at offset %" PRIu64
				    " would end beyond 4 GiB, the limit of the PE format",
				    name, der_len, round8(end));
	return SG_OK;
}

static uint32_t le32_at(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* one load; lets the compiler vectorize the sum */
	return v;
#else
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

/* The sum of the little-endian 32-bit words of `p` (`len` a multiple of 4). */
static uint64_t sum_le32(const unsigned char *p, size_t len)
{
	uint64_t acc[4] = { 0, 0, 0, 0 };
	size_t i = 0;

	/* Independent accumulators: the loop runs at memory speed. */
	for (; i + 16 <= len; i += 16)
		for (int k = 0; k < 4; k++)
			acc[k] += le32_at(p + i + 4 * k);
	for (; i + 4 <= len; i += 4)
		acc[0] += le32_at(p + i);
	return acc[0] + acc[1] + acc[2] + acc[3];
}

/*
 * The PE CheckSum of the first `len` bytes (a multiple of 8) of `fd`, the
 * 4 bytes at `field` taken as zero: the 16-bit one's complement sum of the
 * little-endian words, plus `len`. osslsigncode folds the carry after each
 * word; since 2^16 = 1 modulo 0xffff, summing 32-bit words in 64 bits and
 * reducing once gives the same value (0 only when every word is 0, else
 * 1..0xffff). Returns 0 or an errno.
 */
static int pe_checksum(uint32_t *out, int fd, uint64_t len, uint64_t field)
{
	unsigned char *buf = malloc(SUM_BLOCK);
	uint64_t sum = 0;
	int err = 0;

	if (!buf)
		return ENOMEM;
	for (uint64_t off = 0; off < len && !err;) {
		size_t n = len - off < SUM_BLOCK ? (size_t)(len - off) : SUM_BLOCK;
		ssize_t got = pread(fd, buf, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % 4 != 0) {
			/* A short read of a regular file ends at its end: an error here. */
			err = got < 0 ? errno : EIO;
			break;
		}
		for (uint64_t at = field; at < field + 4; at++)
			if (at >= off && at < off + (uint64_t)got)
				buf[at - off] = 0;
		sum += sum_le32(buf, (size_t)got);
		off += (uint64_t)got;
	}
	free(buf);
	if (sum != 0)
		sum = sum % 0xffff ? sum % 0xffff : 0xffff;
	*out = (uint32_t)(sum + len);
	return err;
}

/*
 * The file cut to `table`, padded with zeros up to it, and the table written
 * there. `what` names the file in messages.
 */
static int write_table(int fd, uint64_t table, const unsigned char *der, size_t der_len,
		       const char *what)
{
	static const unsigned char zeros[8];
	uint32_t entry = (uint32_t)round8(8 + (uint64_t)der_len);
	unsigned char hdr[8];
	int error;

	put_le32(hdr, entry);
	hdr[4] = WIN_CERT_REV_2_0 & 0xff;
	hdr[5] = WIN_CERT_REV_2_0 >> 8;
	hdr[6] = WIN_CERT_PKCS7;
	hdr[7] = 0;
	/* Cuts an old table off, or pads an unsigned file with zeros. */
	if (ftruncate(fd, (off_t)table) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot cut the file: %s", what,
				    strerror(errno));
	if ((error = sg_pwrite_all(fd, hdr, sizeof(hdr), table, what)) != SG_OK ||
	    (error = sg_pwrite_all(fd, der, der_len, table + 8, what)) != SG_OK)
		return error;
	return sg_pwrite_all(fd, zeros, entry - 8 - der_len, table + 8 + der_len, what);
}

/* `fd` must still be the regular file of the inspected size. */
static int check_copy(int fd, const char *path, const sg_format_info *info, const char *name)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != info->size)
		return sg_error_set(SG_ERR_IO,
				    "%s: %s is not the regular file of %" PRIu64
				    " bytes that was inspected",
				    name, path, info->size);
	return SG_OK;
}

/*
 * The table, the directory entry and the CheckSum, written through `fd`.
 * Failures read "NAME: attaching the signature to PATH: REASON".
 */
static int write_all(int fd, const sg_format_info *info, const unsigned char *der, size_t der_len,
		     const char *path, const char *name)
{
	uint64_t table = round8(info->has_signature ? info->sig_offset : info->size);
	uint64_t end = table + round8(8 + (uint64_t)der_len);
	size_t cap = strlen(name) + strlen(path) + sizeof(": attaching the signature to ");
	char *what = malloc(cap);
	unsigned char field[8];
	uint32_t sum = 0;
	int err, error;

	if (!what)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	snprintf(what, cap, "%s: attaching the signature to %s", name, path);
	put_le32(field, (uint32_t)table);
	put_le32(field + 4, (uint32_t)(end - table));
	error = write_table(fd, table, der, der_len, what);
	if (!error)
		error = sg_pwrite_all(fd, field, 8, info->pe.certdir_offset, what);
	if (!error && (err = pe_checksum(&sum, fd, end, info->pe.checksum_offset)) != 0)
		error = sg_error_set(err == ENOMEM ? SG_ERR_NOMEM : SG_ERR_IO,
				     "%s: cannot compute the CheckSum: %s", what, strerror(err));
	if (!error) {
		put_le32(field, sum);
		error = sg_pwrite_all(fd, field, 4, info->pe.checksum_offset, what);
	}
	free(what);
	return error;
}

int sg_attach_pe_fd(int fd, const char *path, const sg_format_info *info, const unsigned char *der,
		    size_t der_len, const char *name)
{
	int error;

	if ((error = check_request(info, der, der_len, name)) != SG_OK ||
	    (error = check_copy(fd, path, info, name)) != SG_OK)
		return error;
	return write_all(fd, info, der, der_len, path, name);
}

int sg_attach_pe(const char *path, const sg_format_info *info, const unsigned char *der,
		 size_t der_len, const char *name)
{
	int fd, error;

	if ((error = check_request(info, der, der_len, name)) != SG_OK)
		return error;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot open %s to sign it: %s", name, path,
				    strerror(errno));
	if ((error = check_copy(fd, path, info, name)) != SG_OK) {
		close(fd);
		return error;
	}
	error = write_all(fd, info, der, der_len, path, name);
	if (close(fd) != 0 && !error)
		error = sg_error_set(SG_ERR_IO,
				     "%s: attaching the signature to %s: cannot write: %s", name,
				     path, strerror(errno));
	return error;
}
