/*
 * PowerShell scripts: the Authenticode digest (SHA-256) of a script's text,
 * converted to UTF-16LE, as osslsigncode and jsign compute it; see
 * format_script.h. The text is checked again while it is hashed, with the
 * checks sg_script_parse() uses (format_script.c, script_internal.h).
 */
#include "format_script.h"
#include "format_ops.h"
#include "script_internal.h"
#include "signgate/error.h"

#include <stdlib.h>

#include <openssl/evp.h>

/*
 * UTF-16LE code units on their way into a digest, a buffer at a time: the
 * UTF-8 check (sg_script_check_utf8()) feeds it, so the digest never covers text the
 * check would refuse.
 */
struct u16_sink {
	EVP_MD_CTX *ctx;
	size_t o;
	int failed;
	unsigned char out[8192];
};

static void sink_unit(struct u16_sink *w, unsigned long u)
{
	if (w->o + 2 > sizeof(w->out)) {
		if (!EVP_DigestUpdate(w->ctx, w->out, w->o))
			w->failed = 1;
		w->o = 0;
	}
	w->out[w->o++] = (unsigned char)u;
	w->out[w->o++] = (unsigned char)(u >> 8);
}

/* The code point `c` (checked: at most U+10FFFF, no surrogate) as UTF-16LE. */
void sg_script_sink_char(struct u16_sink *w, unsigned long c)
{
	if (!w)
		return;
	if (c >= 0x10000) {
		sink_unit(w, 0xd800 + ((c - 0x10000) >> 10));
		c = 0xdc00 + (c & 0x3ff);
	}
	sink_unit(w, c);
}

/* ---- the digest -------------------------------------------------------------- */

/*
 * The text [0, l->text_end) of `buf` checked as sg_script_parse() checks it
 * (byte order mark, encoding, no signature marker) while it is hashed: the
 * digest never covers bytes the parse would refuse, whoever laid it out.
 */
static int check_and_hash(EVP_MD_CTX *ctx, const unsigned char *buf, const sg_script_layout *l,
			  const char *name)
{
	struct text t = { .p = buf,
			  .unit = l->encoding == SG_SCRIPT_UTF16LE ? 2 : 1,
			  .name = name };
	struct u16_sink *w = NULL;
	struct marks m;
	int error;

	t.n = l->text_end / t.unit;
	t.bom = l->encoding == SG_SCRIPT_UTF16LE ? 1 : l->encoding == SG_SCRIPT_UTF8BOM ? 3 : 0;
	if (l->text_end % t.unit || t.n <= t.bom ||
	    (t.bom == 1 && (buf[0] != 0xff || buf[1] != 0xfe)) ||
	    (t.bom == 3 && (buf[0] != 0xef || buf[1] != 0xbb || buf[2] != 0xbf)))
		return sg_format_refuse(name,
					"the text does not start with the byte order mark of "
					"%s, or is empty",
					sg_script_encoding_name(l->encoding));
	sg_script_find_marks(&m, &t);
	if (m.n_begin || m.n_end)
		return sg_format_refuse(name, "a signature marker in the text before the block");
	if (t.unit == 2) {
		if ((error = sg_script_check_utf16(&t)) != SG_OK)
			return error;
		return EVP_DigestUpdate(ctx, buf, l->text_end) ? SG_OK : SG_ERR_CRYPTO;
	}
	if (!(w = malloc(sizeof(*w))))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	w->ctx = ctx;
	w->o = 0;
	w->failed = 0;
	if (t.bom)
		sg_script_sink_char(w, 0xfeff);
	error = sg_script_check_utf8(&t, l->encoding, w);
	if (!error && (w->failed || !EVP_DigestUpdate(ctx, w->out, w->o)))
		error = SG_ERR_CRYPTO;
	free(w);
	return error;
}

int sg_script_digest_text(unsigned char md[SG_SCRIPT_DIGEST_LEN], const unsigned char *buf,
			  const sg_script_layout *l, const char *name)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned int md_len = 0;
	int error = SG_ERR_CRYPTO;

	if ((l->encoding != SG_SCRIPT_ASCII && l->encoding != SG_SCRIPT_UTF8BOM &&
	     l->encoding != SG_SCRIPT_UTF16LE) ||
	    l->text_end > l->size)
		return sg_error_set(SG_ERR_USAGE,
				    "sg_script_digest_buffer: not a checked script layout");
	if (!(ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto done;
	if ((error = check_and_hash(ctx, buf, l, name)) != SG_OK)
		goto done;
	if (!EVP_DigestFinal_ex(ctx, md, &md_len) || md_len != SG_SCRIPT_DIGEST_LEN)
		error = SG_ERR_CRYPTO;
done:
	EVP_MD_CTX_free(ctx);
	if (error == SG_ERR_CRYPTO)
		return sg_error_set(error, "the script digest failed (SHA-256)");
	return error;
}

int sg_script_digest_buffer(unsigned char md[SG_SCRIPT_DIGEST_LEN], const unsigned char *buf,
			    const sg_script_layout *l)
{
	return sg_script_digest_text(md, buf, l, "(script)");
}

int sg_script_digest(unsigned char md[SG_SCRIPT_DIGEST_LEN], int fd, const char *name)
{
	sg_script_layout l;
	unsigned char *buf = NULL;
	int error = sg_script_load(&buf, &l, fd, name);

	if (!error)
		error = sg_script_digest_text(md, buf, &l, name ? name : "(unnamed)");
	free(buf);
	return error;
}
