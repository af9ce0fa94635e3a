/*
 * What the Windows side needs to trust signgate's signatures (`signgate cert
 * export`), made from certificates alone: the signing key is never opened
 * and no password or PIN is ever asked for.
 *
 * Where the certificates come from (sg_export_load()): "signing.certificate"
 * (the leaf first; further PEM certificates in it are intermediates),
 * "signing.cert_chain" (a PEM key's or a token's chain), and, only when
 * neither names the leaf, a PKCS#12 file's certificates where the file lets
 * them be read without its password (certificate bags that are not
 * encrypted, or encrypted with the empty password; the file's key bags are
 * never decrypted; with signing.certificate the file is not even opened).
 * Certificates read so are authenticated by nothing (a MAC keyed by the
 * empty password is one anyone can make): the leaf is taken only when
 * pinned by --expect-thumbprint (SHA-1 or SHA-256), and a file that mixes
 * certificates readable without the password with encrypted parts is
 * refused. Intermediates may be given apart (--chain). The leaf must be a
 * code-signing certificate (sg_cert_check_codesign(), as sign), must chain
 * to the trust anchors, checked against the CRLs when they are configured,
 * and when several sources name a leaf they must agree. Each CRL must be
 * signed by a CA of the signer's verified chain.
 *
 * The files (sg_export_build()): the root of the verified chain (not the
 * other anchors of ca_file), intermediates and signer as
 * DER .cer, the chain as one DER PKCS#7 (signgate-chain.p7b), each CRL as
 * DER (crl-N.crl), thumbprint.txt, import-signgate-trust.ps1 and README.txt
 * (CRLF, ASCII; the steps per Windows target). Every subject or name a
 * certificate carries is shown as ASCII with anything else escaped, never
 * as markup or a line of its own.
 *
 * sg_export_check() compares a folder with those files.
 */
#ifndef SIGNGATE_CERT_EXPORT_H
#define SIGNGATE_CERT_EXPORT_H

#include <stddef.h>

#include <openssl/x509.h>

#include "signgate/cert.h"

/* Where the certificates come from; NULL: not given. Paths as the config resolved them. */
typedef struct sg_export_input {
	const char *certificate; /* "signing.certificate" or --cert: the leaf, then intermediates */
	const char *certificate_what; /* how messages name it; NULL: "signing.certificate" */
	const char *cert_chain;       /* "signing.cert_chain": the leaf and its CAs */
	const char *pkcs12;           /* "signing.pkcs12": only its readable certificates */
	const char *chain;            /* --chain: more intermediates */
	const char *ca_file;          /* the trust anchors (required) */
	const char *crl_file; /* the CRLs: exported, and the chain is checked against them */
	int ignore_crl;       /* "trust.ignore_crl": export the CRLs, check nothing with them */
	int require_crl;      /* 1 (a config): as sign, a leaf naming CRL distribution points needs
				 crl_file or ignore_crl */
	const char *expect_thumbprint; /* NULL, or the leaf's SHA-1/SHA-256 thumbprint (hex) */
} sg_export_input;

typedef enum sg_export_kind {
	SG_EXPORT_ROOT,
	SG_EXPORT_INTERMEDIATE,
	SG_EXPORT_SIGNER,
	SG_EXPORT_P7B,
	SG_EXPORT_CRL,
	SG_EXPORT_THUMBPRINT,
	SG_EXPORT_SCRIPT,
	SG_EXPORT_README
} sg_export_kind;

typedef struct sg_export_file {
	char name[96]; /* only [A-Za-z0-9._-] */
	sg_export_kind kind;
	unsigned char *data;
	size_t len;
	X509 *cert;    /* the certificate of a .cer (borrowed from the export); else NULL */
	X509_CRL *crl; /* the CRL of a .crl (borrowed); else NULL */
} sg_export_file;

typedef struct sg_export {
	X509 *leaf;
	STACK_OF(X509) * intermediates; /* of the verified chain, leaf side first */
	STACK_OF(X509) * roots;         /* the anchor of the verified chain (one) */
	STACK_OF(X509_CRL) * crls;      /* of crl_file, in its order */
	sg_cert_info signer;
	char leaf_from[600];  /* where the leaf was read ("signing.certificate (PATH)") */
	char leaf_named[300]; /* the same for README.txt: "signing.certificate (BASENAME)" */
	int roots_left_out;   /* anchors of ca_file that are not the chain's: not exported */
	char note[1024];     /* "" or what the caller should say (a PKCS#12 read unauthenticated) */
	int unauthenticated; /* 1: certificates were read from a PKCS#12 whose MAC was not checked
			      */
	int pkcs12_unread;   /* 1: a PKCS#12 is configured and gave no intermediates (not opened, or
				its certificates encrypted) */
	sg_export_file *files; /* after sg_export_build() */
	size_t n_files;
} sg_export;

/*
 * Read the certificates of `in` into `out` (zeroed first) and verify the
 * leaf's chain to in->ca_file (with in->crl_file unless in->ignore_crl).
 * Returns SG_OK; SG_ERR_CONFIG (a file cannot be read, holds no
 * certificate, a PKCS#12 whose certificates are encrypted and nothing
 * else names the leaf: the message says to set "signing.certificate" or
 * use --cert; a PKCS#12 read unauthenticated and not pinned, or mixed; a
 * leaf that is not the --expect-thumbprint one; two sources that name
 * different leaves; no way to tell the leaf; require_crl unmet);
 * SG_ERR_VERIFY (the leaf may not sign code, the chain does not verify, a
 * CRL is not signed by a CA of the chain: the reason); SG_ERR_NOMEM.
 * Free with sg_export_free(), also on failure.
 */
int sg_export_load(sg_export *out, const sg_export_input *in);

/*
 * Build the files of `ex` (after sg_export_load()) in memory, in the order
 * they are written. Returns SG_OK, SG_ERR_CRYPTO or SG_ERR_NOMEM.
 */
int sg_export_build(sg_export *ex);

/* Free what `ex` holds; a zeroed one is accepted. */
void sg_export_free(sg_export *ex);

typedef enum sg_export_status {
	SG_EXPORT_UNCHANGED,
	SG_EXPORT_CHANGED,
	SG_EXPORT_MISSING,
	SG_EXPORT_EXTRA, /* a file export would not write */
	SG_EXPORT_UNSAFE /* "." (the folder) or a file: others may write it, another account
			    owns it, or it is a link or not a regular file */
} sg_export_status;

typedef struct sg_export_diff {
	char name[300]; /* the entry's name, escaped as README.txt escapes text */
	sg_export_status status;
	char reason[1024]; /* "" for a plain unchanged or missing file */
} sg_export_diff;

/*
 * Compare the folder `dir` with the files of `ex` (built), file by file,
 * into `*out` (`*n` entries, newly allocated; free()): each file export
 * writes is unchanged, changed (with the reason: a renewed or other
 * certificate with old and new thumbprint and expiry, a CRL's
 * thisUpdate/nextUpdate/number old and new), or missing; every other entry
 * of the folder is extra (a SG_EXPORT_HIDDEN_PREFIX file with the reason
 * that an interrupted export left it). The import script also counts as unchanged when
 * it is a signed copy of the current one (the text before its
 * "# SIG # Begin signature block" line is the script, and only a
 * well-formed signature block follows). Entries are opened without following
 * links; a link, a folder or anything but a regular file is never read
 * (at a name export writes it is "unsafe"). A file export writes that
 * another account than this one or root owns, that group or others may
 * write, or that has more than one name (st_nlink > 1) is "unsafe" with the
 * reason, then whether its content is what export writes now. A folder owned
 * by another account, or that group or others may write (or one above it
 * without the sticky bit: sg_workdir_check_parent()), gives an
 * SG_EXPORT_UNSAFE entry "." first. Returns SG_OK
 * (then *n_differ counts every entry that is not unchanged), SG_ERR_IO (the folder cannot be read)
 * or SG_ERR_NOMEM.
 */
int sg_export_check(sg_export_diff **out, size_t *n, size_t *n_differ, const sg_export *ex,
		    const char *dir);

/*
 * The CRLs of the folder `dir` that are newer than every CRL export writes
 * (`ex` built) of their issuer: every entry of the folder is read (a regular
 * file of at most 16 MiB, opened without following a link), as OpenSSL's
 * tools read a CRL file: DER objects one after another then whitespace when
 * it starts as DER (0x30 and a control byte that is no whitespace in it;
 * each a CRL, a certificate or a PKCS#7 whose CRLs count), else each PEM
 * block (an "X509 CRL", a "PKCS7" or "CMS" whose CRLs count; others none). Newer is a higher CRL number (both have one)
 * or a later thisUpdate. Into `*out` (`*n` entries, newly allocated;
 * free()), one per entry of the folder: SG_EXPORT_CHANGED "holds a newer CRL
 * of "ISSUER" (number, this update) than the [newest ]one export would write
 * (number, this update)", or SG_EXPORT_UNSAFE "cannot be checked: REASON" for
 * an entry that starts as DER but holds other bytes, one whose PEM blocks
 * do not all read, one over 16 MiB that starts like CRLs, or one named
 * "crl-*.crl" that is no readable CRL (a link, not a regular file,
 * unreadable, over 16 MiB, no CRL in it). Other
 * entries that hold no CRL are not listed. Returns SG_OK, SG_ERR_IO (the
 * folder cannot be read) or SG_ERR_NOMEM.
 */
int sg_export_newer_crls(sg_export_diff **out, size_t *n, const sg_export *ex, const char *dir);

/*
 * Whether writing `ex` (built) into `dir` would roll the folder's CRLs back:
 * sg_export_newer_crls() finds anything. Returns SG_OK (nothing), SG_ERR_CONFIG
 * naming the first file found and its reason (then "; a rollback, nothing
 * replaced (...)", or for a "crl-*.crl" that cannot be checked "; nothing
 * replaced (...)"), SG_ERR_IO or SG_ERR_NOMEM.
 */
int sg_export_check_crl_rollback(const sg_export *ex, const char *dir);

/*
 * The hidden names sg_export_publish() gives its files while it works:
 * ".signgate-export-TOKEN.new-NAME" (a new file not yet moved in) and
 * ".signgate-export-TOKEN.old-NAME" (what NAME held, swapped out). Only an
 * export that was killed leaves them; sg_export_check() lists them as extra
 * with that reason.
 */
#define SG_EXPORT_HIDDEN_PREFIX ".signgate-export-"

/*
 * Write the files of `ex` (built) into the folder `dir`, all or nothing; the
 * folder itself stays (the same inode). Every name is checked first:
 * absent, or with `force` a regular file or a symbolic link (the link is
 * replaced, never followed); else SG_ERR_EXISTS ("exists already", or a
 * folder or special file: "nothing replaced"). Then every new file is
 * written and fsynced under a hidden name beside its destination. Then,
 * name by name in order, the new file is swapped in (renameat2 with
 * RENAME_EXCHANGE, a link moved, never followed) and what was there renamed
 * to its ".old-" name; where the file system cannot swap, a hard link to it
 * is kept there first (linkat, not following a link) and the new file
 * renamed over it. A folder or special file found swapped out is swapped
 * back (SG_ERR_EXISTS); a name that was absent is never replaced (a file
 * that appeared since the check stays: SG_ERR_EXISTS). When a step fails every name done is put back (the kept
 * file renamed over the new one, or the new name removed), the hidden files
 * are removed and the message says "nothing replaced"; when putting back
 * fails too it says which names hold the new file, where their old one is
 * kept, and which are as before. On success the kept files are removed and
 * the folder fsynced; what of that failed (the files are in place) goes to
 * `warn` (`warn_size` bytes; "" when nothing). Returns SG_OK, SG_ERR_EXISTS,
 * SG_ERR_IO, SG_ERR_CRYPTO (no random bytes) or SG_ERR_NOMEM.
 */
int sg_export_publish(char *warn, size_t warn_size, const sg_export *ex, const char *dir,
		      int force);

/* The name of a status: "unchanged", "changed", "missing", "extra", "unsafe". */
const char *sg_export_status_name(sg_export_status s);

/*
 * Whether a folder export may write into: owned by the effective user or
 * root, and not writable by group or others; the folders above it pass
 * sg_workdir_check_parent(). Returns SG_OK, SG_ERR_CONFIG
 * ("DIR: others may write this folder (mode 0777): ...") or SG_ERR_IO.
 */
int sg_export_check_folder(const char *dir);

/*
 * `in` escaped into `out` (`size` bytes, NUL-terminated) as README.txt shows
 * text: '"' and every byte outside printable ASCII as \xNN (subjects come
 * RFC 2253-escaped already, sg_cert_info).
 */
void sg_export_escape(char *out, size_t size, const char *in);

#endif
