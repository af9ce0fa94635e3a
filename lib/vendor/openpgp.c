/* Vendor OpenPGP detached signatures checked with gpgv; see include/signgate/openpgp.h. */
#include "signgate/openpgp.h"
#include "signgate/error.h"
#include "signgate/hash.h"
#include "proc.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#define ARMOR_BEGIN "-----BEGIN PGP PUBLIC KEY BLOCK-----"
#define ARMOR_END   "-----END PGP PUBLIC KEY BLOCK-----"
#define STATUS_TAG  "[GNUPG:] "

/* What gpgv's status lines said; see GnuPG doc/DETAILS, "Format of the --status-fd output". */
typedef struct status {
	int newsig, goodsig, validsig, nodata;
	char *goodsig_args;  /* "<keyid> <uid>" of the GOODSIG line */
	char *validsig_args; /* the arguments of the VALIDSIG line */
	char *bad_kw;        /* the first refusing keyword (BADSIG, ERRSIG, ...) */
	char *bad_args;      /* and its arguments */
} status;

/* Write `buf` to a new file `name` in the private folder `dir`; its path into `out`. */
static int write_into(char **out, const char *dir, const char *name, const void *buf, size_t len)
{
	char *path = sg_path_join(dir, name);
	int error = path ? sg_write_private(path, buf, len)
			 : sg_error_set(SG_ERR_NOMEM, "out of memory");

	if (error)
		free(path);
	*out = error ? NULL : path;
	return error;
}

/* The OpenPGP armor checksum (RFC 4880, 6.1). */
static uint32_t crc24(const unsigned char *p, size_t len)
{
	uint32_t crc = 0xB704CEu;

	while (len--) {
		crc ^= (uint32_t)*p++ << 16;
		for (int i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

static int line_is(const char *line, size_t len, const char *text)
{
	size_t tlen = strlen(text);

	while (len > tlen &&
	       (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	return len == tlen && memcmp(line, text, tlen) == 0;
}

static int line_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

/*
 * Decode one armored block whose body starts at `p` (after the BEGIN line),
 * appending its bytes to `bin`. Sets `*next` past the END line.
 */
static int dearmor_block(unsigned char *bin, size_t *bin_len, const char *p, const char *end,
			 const char **next, const char *keyring, int block)
{
	char *b64 = malloc((size_t)(end - p) + 1), crc_text[8] = "";
	size_t b64_len = 0;
	int in_headers = 1, closed = 0;
	long n;

	if (!b64)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (p < end && !closed) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		/*
		 * Armor headers ("Version: ...", "Comment: ...") end at a blank
		 * line. Base64 has no ':', so a block pasted without that blank
		 * line still decodes.
		 */
		if (in_headers && !line_blank(p, len) && !memchr(p, ':', len))
			in_headers = 0;
		if (line_is(p, len, ARMOR_END)) {
			closed = 1;
		} else if (in_headers) {
			in_headers = !line_blank(p, len);
		} else if (p[0] == '=' && len >= 5) {
			/* A body line never starts with padding: this is the checksum. */
			snprintf(crc_text, sizeof(crc_text), "%.4s", p + 1);
		} else {
			for (size_t i = 0; i < len; i++)
				if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
					b64[b64_len++] = p[i];
		}
		p = eol ? eol + 1 : end;
	}
	*next = p;
	n = closed ? sg_base64_decode(bin + *bin_len, b64, b64_len, 0) : -1;
	free(b64);
	if (!closed)
		return sg_error_set(SG_ERR_CONFIG, "%s: armored key block %d has no END line",
				    keyring, block);
	if (n <= 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: armored key block %d is not valid base64",
				    keyring, block);
	if (crc_text[0]) {
		unsigned char crc[4];
		if (sg_base64_decode(crc, crc_text, 4, 0) != 3 ||
		    crc24(bin + *bin_len, (size_t)n) !=
			    ((uint32_t)crc[0] << 16 | (uint32_t)crc[1] << 8 | crc[2]))
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: armored key block %d fails its CRC-24 checksum",
					    keyring, block);
	}
	*bin_len += (size_t)n;
	return SG_OK;
}

/*
 * Decode every public key block of an ASCII-armored keyring (an Apache KEYS
 * file mixes them with listings and prose) into one binary keyring.
 */
static int dearmor(unsigned char **out, size_t *out_len, const char *text, size_t len,
		   const char *keyring)
{
	const char *p = text, *end = text + len;
	unsigned char *bin = malloc(len / 4 * 3 + 3); /* base64 never decodes to more */
	size_t bin_len = 0;
	int blocks = 0, error = SG_OK;

	if (!bin)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	while (p < end && error == SG_OK) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t llen = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *next = eol ? eol + 1 : end;

		if (line_is(p, llen, ARMOR_BEGIN))
			error = dearmor_block(bin, &bin_len, next, end, &next, keyring, ++blocks);
		else if (llen > 15 && memcmp(p, "-----BEGIN PGP ", 15) == 0)
			error = sg_error_set(SG_ERR_CONFIG,
					     "%s: holds \"%.*s\"; a keyring holds public key "
					     "blocks only",
					     keyring, (int)(llen > 60 ? 60 : llen), p);
		p = next;
	}
	if (error == SG_OK && blocks == 0)
		error = sg_error_set(SG_ERR_CONFIG, "%s: no \"%s\" in it", keyring, ARMOR_BEGIN);
	if (error != SG_OK) {
		free(bin);
		return error;
	}
	*out = bin;
	*out_len = bin_len;
	return SG_OK;
}

/*
 * Walk the OpenPGP packets of a binary keyring (RFC 4880, 4.2): the framing
 * must hold to the last byte, there must be a public key and no secret key
 * (which has no business in a policy folder).
 */
static int check_packets(const unsigned char *p, size_t len, const char *keyring)
{
	size_t off = 0;
	int keys = 0;

	while (off < len) {
		unsigned b = p[off], tag;
		size_t hdr, body;

		if (!(b & 0x80))
			return sg_error_set(
				SG_ERR_CONFIG,
				"%s: not OpenPGP key data (byte %zu is no packet header)", keyring,
				off);
		if (b & 0x40) {
			unsigned o1 = off + 1 < len ? p[off + 1] : 0;
			tag = b & 0x3f;
			if (off + 2 > len || (o1 >= 224 && o1 < 255))
				goto bad;
			if (o1 < 192) {
				hdr = 2, body = o1;
			} else if (o1 < 224) {
				if (off + 3 > len)
					goto bad;
				hdr = 3, body = ((size_t)(o1 - 192) << 8) + p[off + 2] + 192;
			} else {
				if (off + 6 > len)
					goto bad;
				hdr = 6, body = (size_t)p[off + 2] << 24 |
						(size_t)p[off + 3] << 16 | (size_t)p[off + 4] << 8 |
						p[off + 5];
			}
		} else {
			unsigned ltype = b & 3, n = ltype == 0 ? 1 : ltype == 1 ? 2 : 4;
			tag = (b >> 2) & 0xf;
			if (ltype == 3 || off + 1 + n > len)
				goto bad;
			hdr = 1 + n, body = 0;
			for (unsigned i = 0; i < n; i++)
				body = body << 8 | p[off + 1 + i];
		}
		if (body > len - off - hdr)
			goto bad;
		if (tag == 5 || tag == 7)
			return sg_error_set(SG_ERR_CONFIG,
					    "%s: holds a secret key; keep only public keys there "
					    "(gpg --export)",
					    keyring);
		keys += tag == 6;
		off += hdr + body;
	}
	if (keys == 0)
		return sg_error_set(SG_ERR_CONFIG, "%s: holds no OpenPGP public key", keyring);
	return SG_OK;
bad:
	return sg_error_set(SG_ERR_CONFIG, "%s: truncated or malformed OpenPGP packet at byte %zu",
			    keyring, off);
}

/* The keyring as binary OpenPGP packets, whatever form it came in. */
static int keyring_load(unsigned char **out, size_t *out_len, const char *keyring)
{
	unsigned char *buf, *bin = NULL;
	size_t len, bin_len = 0, bom;
	int error;

	/* The keyring is configuration: missing, no file or too big is SG_ERR_CONFIG. */
	error = sg_read_file(&buf, &len, keyring, SG_OPENPGP_KEYRING_MAX, "keyring",
			     SG_READ_CONFIG);
	if (error != SG_OK)
		return error;
	if (len == 0) {
		free(buf);
		return sg_error_set(SG_ERR_CONFIG, "%s: the keyring is empty", keyring);
	}
	if (len >= 12 && memcmp(buf + 8, "KBXf", 4) == 0) {
		free(buf);
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: a GnuPG keybox, which signgate does not read; export "
				    "the keys with gpg --export (or --armor --export)",
				    keyring);
	}
	/* A binary packet header has the top bit set; armor is text, maybe after a UTF-8 BOM. */
	bom = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	if ((buf[0] & 0x80) && !bom) {
		bin = buf, bin_len = len;
	} else {
		error = dearmor(&bin, &bin_len, (const char *)buf + bom, len - bom, keyring);
		free(buf);
		if (error != SG_OK)
			return error;
	}
	error = check_packets(bin, bin_len, keyring);
	if (error != SG_OK) {
		free(bin);
		return error;
	}
	*out = bin;
	*out_len = bin_len;
	return SG_OK;
}

static void status_free(status *st)
{
	free(st->goodsig_args);
	free(st->validsig_args);
	free(st->bad_kw);
	free(st->bad_args);
	memset(st, 0, sizeof(*st));
}

static int keep(char **slot, const char *text, size_t len)
{
	if (*slot)
		return SG_OK; /* the first one tells the story */
	*slot = strndup(text, len);
	return *slot ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

static int word_is(const char *kw, size_t kw_len, const char *word)
{
	return kw_len == strlen(word) && memcmp(kw, word, kw_len) == 0;
}

/* Read gpgv's status lines ("[GNUPG:] KEYWORD ARGS"); unknown keywords are ignored. */
static int status_parse(status *st, const char *text)
{
	static const char *const refusing[] = { "BADSIG",    "ERRSIG",    "EXPSIG",
						"EXPKEYSIG", "REVKEYSIG", "NO_PUBKEY" };
	const size_t tag_len = strlen(STATUS_TAG);
	int error = SG_OK;

	memset(st, 0, sizeof(*st));
	for (const char *p = text, *eol; *p && error == SG_OK; p = *eol ? eol + 1 : eol) {
		const char *kw, *args;
		size_t kw_len, args_len;

		eol = strchrnul(p, '\n');
		if (strncmp(p, STATUS_TAG, tag_len) != 0)
			continue;
		kw = p + tag_len;
		kw_len = strcspn(kw, " \n");
		args = kw[kw_len] == ' ' ? kw + kw_len + 1 : kw + kw_len;
		args_len = (size_t)(eol - args);
		if (word_is(kw, kw_len, "NEWSIG")) {
			st->newsig++;
		} else if (word_is(kw, kw_len, "NODATA")) {
			st->nodata++;
		} else if (word_is(kw, kw_len, "GOODSIG")) {
			st->goodsig++;
			error = keep(&st->goodsig_args, args, args_len);
		} else if (word_is(kw, kw_len, "VALIDSIG")) {
			st->validsig++;
			error = keep(&st->validsig_args, args, args_len);
		}
		for (size_t i = 0; i < sizeof(refusing) / sizeof(refusing[0]); i++) {
			if (error == SG_OK && !st->bad_kw && word_is(kw, kw_len, refusing[i])) {
				error = keep(&st->bad_kw, kw, kw_len);
				if (error == SG_OK)
					error = keep(&st->bad_args, args, args_len);
			}
		}
	}
	if (error != SG_OK)
		status_free(st);
	return error;
}

/*
 * A user id from a status line: %XX-escaped UTF-8. Control characters
 * become '?' so that a hostile key cannot break a one-line message or
 * record; the result is cut at a character boundary to fit `size`.
 */
static void uid_decode(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++) {
		unsigned c = (unsigned char)*in;
		unsigned hi, lo;
		if (c == '%' && sscanf(in + 1, "%1x%1x", &hi, &lo) == 2) {
			c = hi << 4 | lo;
			in += 2;
		}
		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (*in && n > 0) {
		size_t lead = n - 1, need;
		unsigned char b;
		while (lead > 0 && ((unsigned char)out[lead] & 0xC0) == 0x80)
			lead--;
		b = (unsigned char)out[lead];
		need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
		if (lead + need > n)
			n = lead;
	}
	out[n] = '\0';
}

/* The key id (first argument) and decoded user id (the rest) of a *SIG line. */
static void sig_args(const char *args, char *keyid, size_t keyid_size, char *uid, size_t uid_size)
{
	size_t klen = strcspn(args, " ");

	snprintf(keyid, keyid_size, "%.*s", (int)klen, args);
	uid_decode(uid, uid_size, args[klen] ? args + klen + 1 : "");
}

/* The last line gpgv wrote to stderr about itself, without "gpgv: ". */
static void last_gpgv_line(char *out, size_t size, const char *err)
{
	const char *found = NULL;

	for (const char *p = err; (p = strstr(p, "gpgv: ")) != NULL; p++)
		if (p == err || p[-1] == '\n')
			found = p + strlen("gpgv: ");
	snprintf(out, size, "%.*s", found ? (int)strcspn(found, "\n") : 0, found ? found : "");
	if (!out[0])
		snprintf(out, size, "gpgv said nothing");
}

/* Why gpgv refused the signature, in words, from the first refusing status line. */
static void refusal_reason(char *out, size_t size, const status *st, const char *err,
			   const char *keyring)
{
	char keyid[72], uid[256], line[256];
	const char *kw = st->bad_kw ? st->bad_kw : "";
	unsigned hash = 0, rc = 0;

	/* ERRSIG <keyid> <pkalgo> <hashalgo> <sig_class> <time> <rc> <fpr> */
	if (!strcmp(kw, "ERRSIG"))
		sscanf(st->bad_args, "%*s %*u %u %*s %*s %u", &hash, &rc);
	sig_args(st->bad_args ? st->bad_args : "", keyid, sizeof(keyid), uid, sizeof(uid));
	if (!strcmp(kw, "BADSIG")) {
		snprintf(out, size,
			 "bad signature from key %s \"%s\" (the data or the signature was changed)",
			 keyid, uid);
	} else if (!strcmp(kw, "NO_PUBKEY") || (!strcmp(kw, "ERRSIG") && rc == 9)) {
		snprintf(out, size, "made by key %s, which is not in the keyring %s", keyid,
			 keyring);
	} else if (!strcmp(kw, "ERRSIG")) {
		last_gpgv_line(line, sizeof(line), err);
		if (hash == 1 || hash == 2 || hash == 3)
			snprintf(out, size, "made by key %s with the weak digest %s (%s)", keyid,
				 hash == 1   ? "MD5"
				 : hash == 2 ? "SHA-1"
					     : "RIPEMD-160",
				 line);
		else
			snprintf(out, size, "cannot check the signature by key %s (%s)", keyid,
				 line);
	} else if (!strcmp(kw, "EXPKEYSIG")) {
		snprintf(out, size, "made by key %s \"%s\", which has expired", keyid, uid);
	} else if (!strcmp(kw, "REVKEYSIG")) {
		snprintf(out, size, "made by key %s \"%s\", which has been revoked", keyid, uid);
	} else if (!strcmp(kw, "EXPSIG")) {
		snprintf(out, size, "the signature by key %s \"%s\" has expired", keyid, uid);
	} else if (st->nodata && !st->newsig) {
		snprintf(out, size, "it holds no OpenPGP signature");
	} else {
		last_gpgv_line(line, sizeof(line), err);
		snprintf(out, size, "gpgv found no good signature (%s)", line);
	}
}

static int fingerprint_valid(const char *fpr)
{
	size_t len = strspn(fpr, "0123456789ABCDEF");

	/* v4 keys have 40 hex digits, v5 keys 64; gpg prints them upper-case. */
	return fpr[len] == '\0' && (len == 40 || len == 64);
}

/* The GOODSIG key id names the VALIDSIG key: its low (v4) or high (v5) 64 bits, or all of it. */
static int keyid_matches(const char *keyid, const char *fpr)
{
	size_t klen = strlen(keyid), flen = strlen(fpr);

	return klen >= 16 && klen <= flen &&
	       (strcasecmp(fpr + flen - klen, keyid) == 0 || strncasecmp(fpr, keyid, klen) == 0);
}

static long long parse_time(const char *text)
{
	struct tm tm = { 0 };
	char *end;
	long long t;

	/* DETAILS: a time is Unix seconds or, when it holds a 'T', ISO 8601. */
	if (strchr(text, 'T')) {
		end = strptime(text, "%Y%m%dT%H%M%S", &tm);
		return end && *end == '\0' ? (long long)timegm(&tm) : -1;
	}
	errno = 0;
	t = strtoll(text, &end, 10);
	return errno || end == text || *end || t < 0 ? -1 : t;
}

/*
 * Fill `out` from the one good signature:
 * VALIDSIG <fpr> <date> <sig-timestamp> <expire> <version> <reserved>
 *          <pubkey-algo> <hash-algo> <sig-class> [<primary-key-fpr>]
 */
static int good_signature(sg_openpgp_result *out, const status *st, const char *gpgv,
			  const char *who)
{
	char args[512], *f[12], *save = NULL, keyid[72], uid[256];
	int n = 0, hash;

	snprintf(args, sizeof(args), "%s", st->validsig_args);
	for (char *t = strtok_r(args, " ", &save); t && n < 12; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 9 || !fingerprint_valid(f[0]) || (n > 9 && !fingerprint_valid(f[9])) ||
	    parse_time(f[2]) < 0)
		return sg_error_set(SG_ERR_TOOL, "%s: unexpected VALIDSIG line for %s: %s", gpgv,
				    who, st->validsig_args);
	sig_args(st->goodsig_args, keyid, sizeof(keyid), uid, sizeof(uid));
	if (!keyid_matches(keyid, f[0]))
		return sg_error_set(SG_ERR_TOOL,
				    "%s: GOODSIG names key %s but VALIDSIG key %s for %s", gpgv,
				    keyid, f[0], who);
	/* gpgv --weak-digest already refuses these; this is the second lock on the door. */
	hash = atoi(f[7]);
	if (hash == 1 || hash == 2 || hash == 3)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s rejected: made with a weak digest (algorithm %d)", who,
				    hash);
	/* 00 signs a binary document, 01 a text document; anything else is not a file signature. */
	if (strcmp(f[8], "00") != 0 && strcmp(f[8], "01") != 0)
		return sg_error_set(SG_ERR_VERIFY,
				    "%s rejected: signature class %s is not a document signature",
				    who, f[8]);
	snprintf(out->fingerprint, sizeof(out->fingerprint), "%s", f[0]);
	snprintf(out->primary_fingerprint, sizeof(out->primary_fingerprint), "%s",
		 n > 9 ? f[9] : f[0]);
	snprintf(out->uid, sizeof(out->uid), "%s", uid);
	out->sig_time = parse_time(f[2]);
	return SG_OK;
}

/* Judge what gpgv said; `who` is "SIG: OpenPGP signature of DATA" for messages. */
static int judge(sg_openpgp_result *out, const sg_proc_result *r, const char *gpgv,
		 const char *keyring, const char *who)
{
	char how[64], reason[768];
	status st;
	int error;

	if (r->timed_out || !r->exited) {
		sg_proc_describe(r, SG_OPENPGP_TIMEOUT_SEC, how, sizeof(how));
		return sg_error_set(SG_ERR_TOOL, "%s: %s while checking %s", gpgv, how, who);
	}
	if (r->exit_status > 2) {
		last_gpgv_line(reason, sizeof(reason), r->err);
		return sg_error_set(SG_ERR_TOOL, "%s: exited with status %d while checking %s: %s",
				    gpgv, r->exit_status, who, reason);
	}
	error = status_parse(&st, r->out);
	if (error != SG_OK)
		return error;
	if (!st.bad_kw && st.goodsig == 0 && r->exit_status == 0) {
		/* gpgv exits 0 only after checking a signature: silence is a broken tool. */
		error = sg_error_set(SG_ERR_TOOL,
				     "%s: exited with status 0 but reported no "
				     "signature while checking %s",
				     gpgv, who);
	} else if (st.bad_kw || st.goodsig == 0 || st.validsig == 0) {
		refusal_reason(reason, sizeof(reason), &st, r->err, keyring);
		error = sg_error_set(SG_ERR_VERIFY, "%s rejected: %s", who, reason);
	} else if (st.newsig > 1 || st.goodsig > 1 || st.validsig > 1) {
		error = sg_error_set(SG_ERR_VERIFY,
				     "%s rejected: the file holds %d signatures; signgate accepts "
				     "exactly one",
				     who, st.newsig > st.goodsig ? st.newsig : st.goodsig);
	} else {
		error = good_signature(out, &st, gpgv, who);
	}
	if (error == SG_OK && r->exit_status != 0)
		error = sg_error_set(SG_ERR_TOOL,
				     "%s: reported a good signature but exited with status %d "
				     "while checking %s",
				     gpgv, r->exit_status, who);
	status_free(&st);
	return error;
}

static int run_gpgv(sg_proc_result *r, const char *gpgv, const char *home, const char *keyring,
		    const char *sig, const char *data)
{
	const char *argv[] = {
		gpgv,
		"--homedir",
		home, /* empty: no trustedkeys.kbx, no gpg.conf of the user's */
		"--status-fd",
		"1", /* the machine-readable verdict, on stdout */
		"--weak-digest",
		"SHA1", /* gpgv 2.2 accepts SHA-1 signatures by default */
		"--weak-digest",
		"RIPEMD160",
		"--keyring",
		keyring, /* a path with a '/' is taken as is, not from homedir */
		"--",    /* a data path starting with '-' is still a file */
		sig,
		data,
		NULL,
	};
	/* NULL: proc's minimal environment, PATH=/usr/bin:/bin and LC_ALL=C. */
	sg_proc_spec spec = { argv, NULL, NULL, 0, SG_OPENPGP_TIMEOUT_SEC };
	/* It reads its folder (keyring, signature) and the data; it writes nothing. */
	const char *reads[] = { home, data, NULL };
	sg_confine_spec cs = { .name = "gpgv", .read_paths = reads, .system_files = 1 };
	sg_proc_confine pc = { &cs, NULL, 0, NULL };

	return sg_proc_run_confined(r, &spec, &pc);
}

static int check_data(const char *data_path)
{
	struct stat st;

	if (stat(data_path, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read the signed file: %s", data_path,
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sg_error_set(SG_ERR_IO, "%s: the signed file is not a regular file",
				    data_path);
	return SG_OK;
}

int sg_openpgp_verify(sg_openpgp_result *out, const char *gpgv, const char *keyring,
		      const char *sig_path, const char *data_path)
{
	unsigned char *kr = NULL, *sig = NULL;
	size_t kr_len = 0, sig_len = 0;
	sg_workdir wd = SG_WORKDIR_INIT;
	char *home = NULL, *kr_copy = NULL, *sig_copy = NULL, *who = NULL;
	sg_proc_result r = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	if (!keyring || !sig_path || !data_path)
		return sg_error_set(SG_ERR_USAGE, "sg_openpgp_verify: a path is missing");
	if (!gpgv)
		gpgv = SG_GPGV_DEFAULT;
	error = keyring_load(&kr, &kr_len, keyring);
	if (error == SG_OK) {
		/* Too big is SG_ERR_FORMAT: that file cannot be a detached signature. */
		error = sg_read_file(&sig, &sig_len, sig_path, SG_OPENPGP_SIG_MAX, "signature file",
				     0);
	}
	if (error == SG_OK)
		error = check_data(data_path);
	if (error == SG_OK)
		error = sg_sha256_hex(out->sig_sha256, sig, sig_len);
	if (error == SG_OK &&
	    asprintf(&who, "%s: OpenPGP signature of %s", sig_path, data_path) < 0)
		who = NULL, error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (error == SG_OK)
		error = sg_workdir_create(&wd);
	home = wd.path;
	/* gpgv checks exactly the bytes read and hashed here, in a folder only we can write. */
	if (error == SG_OK)
		error = write_into(&kr_copy, home, "keyring.gpg", kr, kr_len);
	if (error == SG_OK)
		error = write_into(&sig_copy, home, "signature", sig, sig_len);
	if (error == SG_OK)
		error = run_gpgv(&r, gpgv, home, kr_copy, sig_copy, data_path);
	if (error == SG_OK)
		error = judge(out, &r, gpgv, keyring, who);
	sg_proc_result_free(&r);
	sg_workdir_remove(&wd);
	free(kr_copy);
	free(sig_copy);
	free(who);
	free(kr);
	free(sig);
	if (error != SG_OK)
		memset(out, 0, sizeof(*out));
	return error;
}
