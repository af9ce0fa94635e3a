/*
 * cert export, part 4: `cert export --check DIR` (signgate/cert_export.h):
 * a folder compared with what export would write now, file by file. Every
 * entry is opened relative to the folder's descriptor without following a
 * link; only regular files are read.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_export_internal.h"
#include "signgate/error.h"
#include "signgate/util.h"


typedef struct diffs {
	sg_export_diff *v;
	size_t n, differ;
} diffs;

sg_export_diff *export_diff_vadd(sg_export_diff **v, size_t *n, const char *name,
				 sg_export_status st, const char *fmt, va_list ap)
{
	sg_export_diff *e = realloc(*v, (*n + 1) * sizeof(*e));

	if (!e)
		return NULL;
	*v = e;
	e += (*n)++;
	memset(e, 0, sizeof(*e));
	sg_export_escape(e->name, sizeof(e->name), name);
	e->status = st;
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	return e;
}

static sg_export_diff *add(diffs *d, const char *name, sg_export_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static sg_export_diff *add(diffs *d, const char *name, sg_export_status st, const char *fmt, ...)
{
	sg_export_diff *e;
	va_list ap;

	va_start(ap, fmt);
	e = export_diff_vadd(&d->v, &d->n, name, st, fmt, ap);
	va_end(ap);
	if (e)
		d->differ += st != SG_EXPORT_UNCHANGED;
	return e;
}

const char *sg_export_status_name(sg_export_status s)
{
	switch (s) {
	case SG_EXPORT_UNCHANGED: return "unchanged";
	case SG_EXPORT_CHANGED: return "changed";
	case SG_EXPORT_MISSING: return "missing";
	case SG_EXPORT_EXTRA: return "extra";
	case SG_EXPORT_UNSAFE: return "unsafe";
	}
	return "?";
}

static int folder_finding(char *out, size_t size, const struct stat *st)
{
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return snprintf(out, size, "owned by uid %u, not by this account or root",
				(unsigned)st->st_uid) > 0;
	if (st->st_mode & 022)
		return snprintf(out, size,
				"others may write this folder (mode %04o): whoever can change "
				"these files decides what Windows trusts (chmod go-w)",
				(unsigned)(st->st_mode & 07777)) > 0;
	return 0;
}

int sg_export_check_folder(const char *dir)
{
	char why[300];
	struct stat st;

	if (stat(dir, &st) != 0)
		return sg_error_set(SG_ERR_IO, "%s: cannot read the folder: %s", dir,
				    strerror(errno));
	if (folder_finding(why, sizeof(why), &st))
		return sg_error_set(SG_ERR_CONFIG, "%s: %s", dir, why);
	/* The folders above it: whoever may rename them may swap the whole folder. */
	return sg_workdir_check_parent(dir, "export folder ");
}

/*
 * What the change is: a signer of the same name and issuer is renewed (a new
 * key is usual); a CA of the same name is renewed only with the same key, and
 * with another key it is a look-alike until proven otherwise.
 */
static const char *renewal(X509 *old, const sg_export_file *f, const char *other)
{
	int same_name =
		X509_NAME_cmp(X509_get_subject_name(old), X509_get_subject_name(f->cert)) == 0 &&
		X509_NAME_cmp(X509_get_issuer_name(old), X509_get_issuer_name(f->cert)) == 0;
	int same_key = EVP_PKEY_eq(X509_get0_pubkey(old), X509_get0_pubkey(f->cert)) == 1;

	ERR_clear_error();
	if (!same_name)
		return other;
	if (f->kind == SG_EXPORT_SIGNER)
		return "a renewed signer";
	if (same_key)
		return f->kind == SG_EXPORT_ROOT ? "a renewed root" : "a renewed intermediate CA";
	return f->kind == SG_EXPORT_ROOT ? "another root of the same name (another key)"
					 : "another intermediate CA of the same name (another key)";
}

/* "a renewed signer: old ... -> new ..." for two certificates. */
static void cert_reason(char *out, size_t size, const sg_export_file *f, const unsigned char *old,
			size_t len)
{
	static const char *const what[] = { [SG_EXPORT_ROOT] = "another root",
					    [SG_EXPORT_INTERMEDIATE] = "another intermediate CA",
					    [SG_EXPORT_SIGNER] = "another signer" };
	const unsigned char *p = old;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	sg_cert_info a, b;
	char sa[300], sb[300];
	const char *kind = what[f->kind];

	if (!x || p != old + len || sg_cert_info_from_x509(&a, x) ||
	    sg_cert_info_from_x509(&b, f->cert)) {
		snprintf(out, size, "not the DER certificate export writes now (%s %s)",
			 f->kind == SG_EXPORT_SIGNER ? "signer" : "thumbprint",
			 sg_cert_info_from_x509(&b, f->cert) ? "?" : b.sha1_thumbprint);
		X509_free(x);
		ERR_clear_error();
		return;
	}
	kind = renewal(x, f, kind);
	sg_export_escape(sa, sizeof(sa), a.subject);
	sg_export_escape(sb, sizeof(sb), b.subject);
	snprintf(out, size,
		 "%s: old \"%s\" thumbprint %s valid to %s; new \"%s\" thumbprint %s valid to %s",
		 kind, sa, a.sha1_thumbprint, a.not_after, sb, b.sha1_thumbprint, b.not_after);
	X509_free(x);
	ERR_clear_error();
}

static void crl_reason(char *out, size_t size, const sg_export_file *f, const unsigned char *old,
		       size_t len)
{
	const unsigned char *p = old;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	export_crl_facts a, b;

	export_crl_facts_of(&b, f->crl);
	if (!crl || p != old + len) {
		snprintf(out, size, "not the DER CRL export writes now (\"%s\", number %s)",
			 b.issuer, b.number[0] ? b.number : "(none)");
	} else {
		export_crl_facts_of(&a, crl);
		snprintf(out, size,
			 "%s: number %s -> %s, this update %s -> %s, next update %s -> %s%s%s%s",
			 strcmp(a.issuer, b.issuer) ? "another CA's CRL"
			 : export_crl_older(f->crl, crl)
				 ? "an OLDER CRL of the same CA (a rollback: it may not list a "
				   "certificate revoked since; export --force refuses it)"
				 : "a new CRL",
			 a.number[0] ? a.number : "(none)", b.number[0] ? b.number : "(none)",
			 a.this_update, b.this_update, a.next_update[0] ? a.next_update : "(none)",
			 b.next_update[0] ? b.next_update : "(none)",
			 strcmp(a.issuer, b.issuer) ? "; issuer was \"" : "",
			 strcmp(a.issuer, b.issuer) ? a.issuer : "",
			 strcmp(a.issuer, b.issuer) ? "\"" : "");
	}
	X509_CRL_free(crl);
	ERR_clear_error();
}

/*
 * `old` is `cur` followed by one signature block as signers append it (an
 * optional blank line, "# SIG # Begin signature block", lines "# BASE64",
 * "# SIG # End signature block", and nothing after): what PowerShell runs
 * of it is exactly `cur`.
 */
static int signed_copy(const unsigned char *old, size_t olen, const unsigned char *cur, size_t clen)
{
	static const char begin[] = "# SIG # Begin signature block\r\n";
	static const char end[] = "# SIG # End signature block\r\n";
	const char *p = (const char *)old + clen, *stop = (const char *)old + olen;
	int n = 0;

	if (olen < clen || memcmp(old, cur, clen) != 0)
		return 0;
	if (stop - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if ((size_t)(stop - p) < sizeof(begin) - 1 || memcmp(p, begin, sizeof(begin) - 1) != 0)
		return 0;
	p += sizeof(begin) - 1;
	while ((size_t)(stop - p) >= sizeof(end) - 1 && memcmp(p, end, sizeof(end) - 1) != 0) {
		const char *q = p + 2;
		if (p[0] != '#' || p[1] != ' ')
			return 0;
		while (q < stop &&
		       strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
			      *q) &&
		       *q)
			q++;
		if (q == p + 2 || stop - q < 2 || q[0] != '\r' || q[1] != '\n')
			return 0;
		p = q + 2;
		n++;
	}
	return n > 0 && (size_t)(stop - p) == sizeof(end) - 1 &&
	       memcmp(p, end, sizeof(end) - 1) == 0;
}

static void text_reason(char *out, size_t size, const sg_export_file *f, const unsigned char *old,
			size_t len)
{
	char was[200], now[200];

	switch (f->kind) {
	case SG_EXPORT_THUMBPRINT:
		snprintf(was, sizeof(was), "%.*s", (int)(len < 64 ? len : 64), (const char *)old);
		was[strcspn(was, "\r\n")] = '\0';
		sg_export_escape(now, sizeof(now), was);
		snprintf(out, size, "holds \"%s\", the signer's thumbprint is %.40s", now,
			 (const char *)f->data);
		break;
	case SG_EXPORT_P7B:
		snprintf(out, size, "not the chain export writes now (leaf, intermediates, roots)");
		break;
	case SG_EXPORT_SCRIPT:
		snprintf(out, size,
			 "not the script export writes now, nor a signed copy of it "
			 "(what precedes its signature block differs, or more follows)");
		break;
	default: snprintf(out, size, "not the text export writes now"); break;
	}
}

/*
 * What makes a file of the folder unsafe although its bytes may be right:
 * another account owns it (it may chmod it), group or others may write it,
 * or it has another name (a hard link: whoever holds that name rewrites it).
 */
static int file_finding(char *out, size_t size, const struct stat *st)
{
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return snprintf(out, size, "owned by uid %u, not by this account or root",
				(unsigned)st->st_uid) > 0;
	if (st->st_mode & 022)
		return snprintf(out, size,
				"others may write this file (mode %04o): whoever can change it "
				"decides what Windows trusts (chmod go-w)",
				(unsigned)(st->st_mode & 07777)) > 0;
	if (st->st_nlink > 1)
		return snprintf(out, size,
				"a hard link (%lu names): whoever holds another name may rewrite it",
				(unsigned long)st->st_nlink) > 0;
	return 0;
}

/* A file export writes, but unsafe: the finding, then what its content is. */
static sg_export_diff *add_unsafe(diffs *d, const char *name, const char *why,
				  const sg_export_diff *content)
{
	return add(d, name, SG_EXPORT_UNSAFE, "%s; its content %s%s", why,
		   content->status == SG_EXPORT_UNCHANGED ? "is what export writes now"
							  : "differs: ",
		   content->status == SG_EXPORT_UNCHANGED ? "" : content->reason);
}

/* One file export writes, against the folder's entry of that name. */
static int check_file(diffs *d, int dfd, const char *dir, const sg_export_file *f)
{
	unsigned char *old = NULL;
	size_t len = 0;
	char reason[1024], why[300], *path;
	struct stat st;
	int fd = openat(dfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	sg_export_diff *e, content;

	if (fd < 0 && errno == ENOENT)
		return add(d, f->name, SG_EXPORT_MISSING, "%s", "") ? SG_OK : SG_ERR_NOMEM;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int link = fd < 0 && errno == ELOOP;
		e = add(d, f->name, link || fd >= 0 ? SG_EXPORT_UNSAFE : SG_EXPORT_CHANGED, "%s",
			link     ? "a symbolic link, not the file (never followed)"
			: fd < 0 ? strerror(errno)
				 : "not a regular file (never read)");
		if (fd >= 0)
			close(fd);
		return e ? SG_OK : SG_ERR_NOMEM;
	}
	path = sg_path_join(dir, f->name);
	if (!path || sg_read_fd(&old, &len, fd, path, EXPORT_FILE_MAX, NULL) != SG_OK) {
		snprintf(reason, sizeof(reason), "%s", path ? sg_error_last() : "out of memory");
		e = add(d, f->name, SG_EXPORT_CHANGED, "cannot read it: %s",
			sg_message_without_name(reason, path ? path : ""));
	} else if (len == f->len && memcmp(old, f->data, len) == 0)
		e = add(d, f->name, SG_EXPORT_UNCHANGED, "%s", "");
	else if (f->kind == SG_EXPORT_SCRIPT && signed_copy(old, len, f->data, f->len))
		e = add(d, f->name, SG_EXPORT_UNCHANGED,
			"a signed copy of the current script (its signature is not checked here: "
			"signgate verify does that)");
	else {
		if (f->cert)
			cert_reason(reason, sizeof(reason), f, old, len);
		else if (f->crl)
			crl_reason(reason, sizeof(reason), f, old, len);
		else
			text_reason(reason, sizeof(reason), f, old, len);
		e = add(d, f->name, SG_EXPORT_CHANGED, "%s", reason);
	}
	if (e && file_finding(why, sizeof(why), &st)) {
		content = *e;
		d->n--;
		d->differ -= content.status != SG_EXPORT_UNCHANGED;
		e = add_unsafe(d, f->name, why, &content);
	}
	close(fd);
	free(old);
	free(path);
	return e ? SG_OK : SG_ERR_NOMEM;
}

/* What a hidden file of sg_export_publish() is, when a killed export left it. */
static const char left_over[] =
	"left by an export that was interrupted (\".new-NAME\": a file it had not moved in "
	"yet; \".old-NAME\": the file it was replacing at NAME): compare, then remove it; a file";

/* Every entry export would not write. */
static int check_extra(diffs *d, int dfd, const sg_export *ex)
{
	int fd = dup(dfd);
	DIR *dh = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;
	int error = SG_OK;

	if (!dh) {
		if (fd >= 0)
			close(fd);
		return sg_error_set(SG_ERR_IO, "cannot list the folder: %s", strerror(errno));
	}
	while (!error && (de = readdir(dh)) != NULL) {
		const char *kind = "a file";
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    export_writes(ex, de->d_name))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			kind = S_ISLNK(st.st_mode)   ? "a symbolic link"
			       : S_ISDIR(st.st_mode) ? "a folder"
			       : S_ISREG(st.st_mode) ? "a file"
						     : "a special file";
		if (strncmp(de->d_name, SG_EXPORT_HIDDEN_PREFIX, strlen(SG_EXPORT_HIDDEN_PREFIX)) ==
		    0)
			kind = left_over;
		if (!add(d, de->d_name, SG_EXPORT_EXTRA, "%s export would not write", kind))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	closedir(dh);
	return error;
}

int sg_export_check(sg_export_diff **out, size_t *n, size_t *n_differ, const sg_export *ex,
		    const char *dir)
{
	diffs d = { 0 };
	char why[300];
	struct stat st;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), error = SG_OK;

	*out = NULL;
	*n = *n_differ = 0;
	if (dfd < 0 || fstat(dfd, &st) != 0) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot open the folder: %s", dir,
				     strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return error;
	}
	if (folder_finding(why, sizeof(why), &st)) {
		if (!add(&d, ".", SG_EXPORT_UNSAFE, "%s", why))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	} else if (sg_workdir_check_parent(dir, "export folder ") == SG_ERR_CONFIG &&
		   !add(&d, ".", SG_EXPORT_UNSAFE, "%s", sg_error_last()))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !error && i < ex->n_files; i++)
		if (check_file(&d, dfd, dir, &ex->files[i]) != SG_OK)
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error)
		error = check_extra(&d, dfd, ex);
	close(dfd);
	if (error) {
		free(d.v);
		return error;
	}
	*out = d.v;
	*n = d.n;
	*n_differ = d.differ;
	return SG_OK;
}
