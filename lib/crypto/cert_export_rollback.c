/*
 * cert export, part 6: whether an export would roll the folder's CRLs back
 * (signgate/cert_export.h). Every entry of the folder is looked at, not only
 * the names export writes: a CRL under any name that is newer than every CRL
 * of its CA that export writes makes the export a rollback. Entries are opened relative to the
 * folder's descriptor without following a link; only regular files are read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_export_internal.h"
#include "signgate/error.h"
#include "signgate/util.h"

/*
 * -1, 0 or 1 as `a` is older than, as new as or newer than `b` (one issuer):
 * by CRL number when both have one, else by thisUpdate.
 */
static int crl_cmp(const X509_CRL *a, const X509_CRL *b)
{
	ASN1_INTEGER *na = X509_CRL_get_ext_d2i(a, NID_crl_number, NULL, NULL);
	ASN1_INTEGER *nb = X509_CRL_get_ext_d2i(b, NID_crl_number, NULL, NULL);
	int c = na && nb ? ASN1_INTEGER_cmp(na, nb)
			 : ASN1_TIME_compare(X509_CRL_get0_lastUpdate(a),
					     X509_CRL_get0_lastUpdate(b));

	ASN1_INTEGER_free(na);
	ASN1_INTEGER_free(nb);
	ERR_clear_error();
	return c < 0 ? -1 : c > 0;
}

int export_crl_older(const X509_CRL *crl, const X509_CRL *than)
{
	return X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_CRL_get_issuer(than)) == 0 &&
	       crl_cmp(crl, than) < 0;
}

/* The name export gives a CRL, "crl-*.crl": such an entry must be readable as a CRL. */
static int crl_named(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && strncmp(name, "crl-", 4) == 0 && strcmp(name + n - 4, ".crl") == 0;
}

static int blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Only whitespace from `p` to `end`. */
static int blank_to(const unsigned char *p, const unsigned char *end)
{
	while (p < end && blank(*p))
		p++;
	return p == end;
}

/*
 * The file starts as DER: a SEQUENCE's tag first, and a control byte that is
 * no whitespace in it. Every DER CRL holds one (its tags); no text file does,
 * so thumbprint.txt, whose hex may start with "0" (0x30), is read as text.
 */
static int starts_der(const unsigned char *buf, size_t len)
{
	if (len == 0 || buf[0] != 0x30)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((buf[i] < 0x20 && !blank(buf[i])) || buf[i] == 0x7f)
			return 1;
	return 0;
}

/* `crl` pushed onto `out` (which owns it then): 1, or -1 out of memory (freed). */
static int push(STACK_OF(X509_CRL) * out, X509_CRL *crl)
{
	if (sk_X509_CRL_push(out, crl) > 0)
		return 1;
	X509_CRL_free(crl);
	return -1;
}

/*
 * The DER object at *p (before `end`), moved past: a CRL into `out`, a
 * PKCS#7 (its CRLs into `out`) or a certificate (no CRL; export writes
 * them). 1; 0 when it is none of these (*p unchanged); -1 out of memory.
 */
static int der_next(STACK_OF(X509_CRL) * out, const unsigned char **p, const unsigned char *end)
{
	long len = (long)(end - *p);
	X509_CRL *crl = d2i_X509_CRL(NULL, p, len);
	PKCS7 *p7;
	X509 *x;
	int got = 1;

	if (crl)
		return push(out, crl);
	if ((x = d2i_X509(NULL, p, len)) != NULL) {
		X509_free(x);
		return 1;
	}
	if (!(p7 = d2i_PKCS7(NULL, p, len)))
		return 0;
	if (PKCS7_type_is_signed(p7) && p7->d.sign)
		for (int i = 0; got > 0 && i < sk_X509_CRL_num(p7->d.sign->crl); i++) {
			crl = sk_X509_CRL_value(p7->d.sign->crl, i);
			got = X509_CRL_up_ref(crl) ? push(out, crl) : -1;
		}
	PKCS7_free(p7);
	return got;
}

/*
 * DER objects one after another (a bundle of CRLs), then only whitespace,
 * as `openssl crl -inform DER` reads the first of them. Anything else after
 * them cannot be checked: SG_ERR_FORMAT, why into `why`.
 */
static int der_crls(STACK_OF(X509_CRL) * out, char *why, size_t size, const unsigned char *buf,
		    size_t len)
{
	const unsigned char *p = buf, *end = buf + len;
	int got = 1;

	while (got > 0 && !blank_to(p, end))
		got = der_next(out, &p, end);
	if (got < 0)
		return SG_ERR_NOMEM;
	if (got > 0)
		return SG_OK;
	if (p == buf)
		snprintf(why, size, "starts as DER but is no DER CRL, certificate or PKCS#7");
	else
		snprintf(why, size,
			 "a DER CRL bundle followed by bytes that are neither whitespace nor a "
			 "DER CRL (from byte %zu of %zu)",
			 (size_t)(p - buf), len);
	return SG_ERR_FORMAT;
}

/*
 * The CRLs of one PEM block: "X509 CRL" a CRL, "PKCS7" or "CMS" a signed
 * data's CRLs (and certificates, skipped), anything else none. 1 when read
 * (or nothing to read), 0 when a block that may hold CRLs does not parse,
 * -1 out of memory.
 */
static int pem_block(STACK_OF(X509_CRL) * out, const char *name, const unsigned char *data,
		     long len)
{
	const unsigned char *p = data;

	if (strcmp(name, PEM_STRING_X509_CRL) == 0) {
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, len);

		return crl ? push(out, crl) : 0;
	}
	if (strcmp(name, PEM_STRING_PKCS7) == 0 || strcmp(name, PEM_STRING_CMS) == 0 ||
	    strcmp(name, PEM_STRING_PKCS7_SIGNED) == 0)
		return der_next(out, &p, data + len);
	return 1;
}

/*
 * Every PEM block of `buf`, whatever its name, read in turn: the CRLs of
 * each (pem_block()). Each "-----BEGIN " in `buf` must start a block that
 * reads, and a block that may hold CRLs must parse: else the file cannot be
 * checked (SG_ERR_FORMAT, why into `why`), so that a broken block cannot
 * hide a newer CRL after it.
 */
static int pem_crls(STACK_OF(X509_CRL) * out, char *why, size_t size, const unsigned char *buf,
		    size_t len)
{
	static const char mark[] = "-----BEGIN ";
	const unsigned char *p = buf, *end = buf + len;
	size_t marks = 0, n = 0;
	int got = 1;
	BIO *bio;

	while ((p = memmem(p, (size_t)(end - p), mark, sizeof(mark) - 1)) != NULL) {
		marks++;
		p += sizeof(mark) - 1;
	}
	if (marks == 0)
		return SG_OK;
	if (len > INT_MAX || !(bio = BIO_new_mem_buf(buf, (int)len)))
		return SG_ERR_NOMEM;
	while (got > 0 && n < marks) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long data_len = 0;

		if (!PEM_read_bio(bio, &name, &header, &data, &data_len)) {
			got = 0;
			snprintf(why, size,
				 "holds %zu \"%s\" but only %zu PEM block(s) that read", marks,
				 mark, n);
			break;
		}
		got = pem_block(out, name, data, data_len);
		if (got == 0)
			snprintf(why, size, "its PEM block %zu (\"%s\") does not parse", n + 1,
				 name);
		n += got > 0;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	BIO_free(bio);
	if (got < 0)
		return SG_ERR_NOMEM;
	return got == 0 ? SG_ERR_FORMAT : SG_OK;
}

/*
 * The CRLs of `buf` into `out`, as OpenSSL's tools read a CRL file: DER
 * (starts_der()) or else PEM. SG_OK (none: not a CRL file); SG_ERR_FORMAT
 * when it looks like CRLs that cannot all be read (why into `why`);
 * SG_ERR_NOMEM.
 */
static int crls_of(STACK_OF(X509_CRL) * out, char *why, size_t size, const unsigned char *buf,
		   size_t len)
{
	int error = starts_der(buf, len) ? der_crls(out, why, size, buf, len)
					 : pem_crls(out, why, size, buf, len);

	ERR_clear_error();
	return error;
}

/*
 * Whether a file too large to read may hold CRLs, from its first 4 KiB: DER
 * of a long SEQUENCE (0x30 and a long-form length) or a PEM block.
 */
static int looks_like_crls(int fd)
{
	unsigned char head[4096];
	ssize_t n = pread(fd, head, sizeof(head), 0);

	if (n < 2)
		return 0;
	return (head[0] == 0x30 && (head[1] & 0x80)) ||
	       memmem(head, (size_t)n, "-----BEGIN ", 11) != NULL;
}

/*
 * The CRLs of the folder's entry `name` into `*out` (none: an empty stack).
 * SG_OK; SG_ERR_CONFIG with why it cannot be read into `why` (a link, not a
 * regular file, unreadable, over 16 MiB and not like CRLs): the caller decides whether that
 * matters; SG_ERR_FORMAT with why its CRLs cannot be read (crls_of());
 * SG_ERR_NOMEM.
 */
static int entry_crls(STACK_OF(X509_CRL) * *out, char *why, size_t size, int dfd, const char *dir,
		      const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	unsigned char *buf = NULL;
	size_t len = 0;
	char *path = NULL;
	struct stat st;
	int error = SG_ERR_CONFIG;

	*out = NULL;
	if (fd < 0)
		snprintf(why, size, "%s",
			 errno == ELOOP ? "a symbolic link (never followed)" : strerror(errno));
	else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		snprintf(why, size, "not a regular file (never read)");
	else if (!(path = sg_path_join(dir, name)) || !(*out = sk_X509_CRL_new_null()))
		error = SG_ERR_NOMEM;
	else if ((size_t)st.st_size > EXPORT_FILE_MAX && looks_like_crls(fd)) {
		snprintf(why, size, "larger than %u bytes and may hold CRLs", EXPORT_FILE_MAX);
		error = SG_ERR_FORMAT;
	} else if (sg_read_fd(&buf, &len, fd, path, EXPORT_FILE_MAX, NULL) != SG_OK)
		snprintf(why, size, "%s", sg_message_without_name(sg_error_last(), path));
	else
		error = crls_of(*out, why, size, buf, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	sg_error_clear();
	return error == SG_ERR_NOMEM ? sg_error_set(SG_ERR_NOMEM, "out of memory") : error;
}

typedef struct findings {
	sg_export_diff *v;
	size_t n;
} findings;

static int add(findings *f, const char *name, sg_export_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int add(findings *f, const char *name, sg_export_status st, const char *fmt, ...)
{
	sg_export_diff *e;
	va_list ap;

	va_start(ap, fmt);
	e = export_diff_vadd(&f->v, &f->n, name, st, fmt, ap);
	va_end(ap);
	return e ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}


/*
 * The newest CRL export writes of `was`'s issuer (crl_cmp()) when `was` is
 * newer than every one of them (export_crl_older()): a rollback. NULL when
 * export writes no CRL of that issuer, or one as new as `was`: the same set
 * exported again (CRL 1 beside CRL 2 of one CA) rolls nothing back.
 */
static X509_CRL *rolled_back(const sg_export *ex, const X509_CRL *was, int *n_same)
{
	X509_CRL *newest = NULL;

	*n_same = 0;
	for (int j = 0; j < sk_X509_CRL_num(ex->crls); j++) {
		X509_CRL *now = sk_X509_CRL_value(ex->crls, j);

		if (X509_NAME_cmp(X509_CRL_get_issuer(now), X509_CRL_get_issuer(was)) != 0)
			continue;
		if (!export_crl_older(now, was))
			return NULL;
		++*n_same;
		if (!newest || crl_cmp(now, newest) > 0)
			newest = now;
	}
	return newest;
}

/* The first CRL among `old` newer than every CRL of its issuer export writes, as a finding. */
static int compare(findings *f, const sg_export *ex, const char *name, STACK_OF(X509_CRL) * old)
{
	for (int i = 0; i < sk_X509_CRL_num(old); i++) {
		X509_CRL *was = sk_X509_CRL_value(old, i), *now;
		export_crl_facts a, b;
		int n_same;

		if (!(now = rolled_back(ex, was, &n_same)))
			continue;
		export_crl_facts_of(&a, was);
		export_crl_facts_of(&b, now);
		return add(f, name, SG_EXPORT_CHANGED,
			   "holds a newer CRL of \"%s\" (number %s, this update %s) than the "
			   "%sone export would write (number %s, this update %s)",
			   a.issuer, a.number[0] ? a.number : "(none)", a.this_update,
			   n_same > 1 ? "newest " : "", b.number[0] ? b.number : "(none)",
			   b.this_update);
	}
	return SG_OK;
}

/*
 * One entry of the folder: its CRLs compared; or why it cannot be checked:
 * CRLs it seems to hold but that cannot all be read, or a "crl-*.crl" that
 * cannot be read at all or holds no CRL.
 */
static int look_at(findings *f, const sg_export *ex, int dfd, const char *dir, const char *name)
{
	STACK_OF(X509_CRL) *old = NULL;
	char why[1000] = "";
	int error = entry_crls(&old, why, sizeof(why), dfd, dir, name);

	if (error == SG_ERR_FORMAT)
		error = add(f, name, SG_EXPORT_UNSAFE, "cannot be checked: %s", why);
	else if (error == SG_ERR_CONFIG || (!error && sk_X509_CRL_num(old) == 0))
		error = crl_named(name) ? add(f, name, SG_EXPORT_UNSAFE, "cannot be checked: %s",
					      why[0] ? why : "not a DER or PEM CRL")
					: SG_OK;
	else if (!error)
		error = compare(f, ex, name, old);
	sk_X509_CRL_pop_free(old, X509_CRL_free);
	return error;
}

int sg_export_newer_crls(sg_export_diff **out, size_t *n, const sg_export *ex, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = dfd >= 0 ? dup(dfd) : -1;
	DIR *dh = fd >= 0 ? fdopendir(fd) : NULL;
	findings f = { 0 };
	struct dirent *de;
	int error = SG_OK;

	*out = NULL;
	*n = 0;
	if (!dh) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot open the folder: %s", dir,
				     strerror(errno));
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		return error;
	}
	while (!error && (de = readdir(dh)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			error = look_at(&f, ex, dfd, dir, de->d_name);
	closedir(dh);
	close(dfd);
	if (error) {
		free(f.v);
		return error;
	}
	*out = f.v;
	*n = f.n;
	return SG_OK;
}

int sg_export_check_crl_rollback(const sg_export *ex, const char *dir)
{
	sg_export_diff *d = NULL;
	size_t n = 0;
	char *path;
	int error = sg_export_newer_crls(&d, &n, ex, dir), newer;

	if (error || n == 0) {
		free(d);
		return error;
	}
	newer = d[0].status == SG_EXPORT_CHANGED;
	if (!(path = sg_path_join(dir, d[0].name)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	else
		error = sg_error_set(
			SG_ERR_CONFIG, "%s: %s; %snothing replaced (%s)%s%s%s", path, d[0].reason,
			newer ? "a rollback, " : "",
			!newer                   ? "remove it, or --allow-older-crl exports anyway"
			: export_writes(ex, d[0].name) ? "--allow-older-crl replaces it"
						 : "--allow-older-crl exports anyway; export "
						   "never removes this file",
			n > 1 ? "; also " : "", n > 1 ? d[1].name : "", n > 2 ? " and more" : "");
	free(path);
	free(d);
	return error;
}
