/*
 * The approval policy: which vendor installers may be signed.
 *
 * A policy is one JSON file or a folder of *.json files (read in name
 * order and merged), each {"approvals": [...], "revoked": [...]}; the fields
 * are documented in policy/README.md and policy/approval.schema.json.
 * Decisions are default deny: a file is approved only when its digest equals
 * an approval's vendor value, that approval has not expired, the digest is
 * not revoked, the approval's "file" (when given) equals the input's base
 * name, and the approval's existing-signature rule allows the input.
 */
#ifndef SIGNGATE_POLICY_H
#define SIGNGATE_POLICY_H

#include "signgate/error.h"

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

typedef enum sg_existing_rule {
	SG_EXISTING_REFUSE = 0, /* an already signed input is denied (default) */
	SG_EXISTING_REPLACE,    /* the vendor signature is replaced by ours */
	SG_EXISTING_NEST,       /* ours is appended as a nested signature */
} sg_existing_rule;

typedef struct sg_approval {
	char *id, *product, *vendor, *version, *file;
	char *sha256, *sha512; /* lower-case hex; NULL when not given */
	char *source, *approved_by, *ticket, *approved_at, *expires;
	char *description, *url; /* what the Authenticode signature shows */
	sg_existing_rule existing;
	/* Why an unsigned file of a product listed as vendor-signed may be signed; NULL: it may not. */
	char *accept_unsigned;
	/* Why a product absent from a non-empty catalog may be signed; NULL: it may not. */
	char *not_in_catalog;
	/* "provenance" as canonical JSON text (what `policy approve` recorded); NULL when none. */
	char *provenance;
	char *origin;     /* the policy file it came from */
	size_t file_index; /* that file in sg_policy.files */
} sg_approval;

/* A product of the catalog: how its vendor ships it. */
typedef struct sg_product {
	char *product, *vendor;
	int vendor_signs; /* 1: its installers normally carry the vendor's signature */
	char *formats;    /* e.g. "msi, exe (NSIS)": for people */
	char *hashes;     /* where the vendor publishes its hash values: for people */
	char *origin;
} sg_product;

/* One policy file as it was read: the bytes every approval in it came from. */
typedef struct sg_policy_file {
	char *path;
	unsigned char *bytes;
	size_t len;
	char sha256[65];
	/* fstat() of the descriptor the bytes were read from, after reading them
	 * (the index records it: a file renamed over this one later differs) */
	struct stat st;
} sg_policy_file;

typedef struct sg_revocation {
	char *sha256, *sha512; /* lower-case hex; one at least */
	char *reason;
	char *origin;
} sg_revocation;

typedef struct sg_policy {
	sg_approval *approvals;
	size_t n_approvals;
	sg_revocation *revoked;
	size_t n_revoked;
	sg_product *products;
	size_t n_products;
	int require_cosign; /* some file says "require_cosign": true */
	int uses_sha512;    /* some approval or revocation names a SHA-512 */
	sg_policy_file *files;
	size_t n_files;
	/*
	 * NULL for a policy loaded in full. Set for a policy opened through its
	 * index (sg_policy_open()): then `approvals` and `revoked` are empty,
	 * sg_policy_decide() finds what it needs through the index, and a file
	 * in `files` has its path, SHA-256 and bytes only once a decision has
	 * needed it (always for the file of the approval a decision returns).
	 * Exception: a file larger than 1 MiB in a policy that does not require
	 * co-signatures is read only in the 64 KiB blocks a decision needs,
	 * each checked against the index; its `bytes` stay NULL, its `sha256`
	 * is the whole file's as the index recorded it. The products and the
	 * flags are complete either way.
	 */
	struct sg_policy_index *index;
} sg_policy;

/* What the decision needs to know about one input. */
typedef struct sg_policy_input {
	const char *name;       /* base name */
	const char *sha256_hex; /* lower-case */
	const char *sha512_hex; /* lower-case */
	int has_signature;      /* an Authenticode signature is already present */
	int format;             /* its sg_format_kind (format.h); 0 when not known */
} sg_policy_input;

#define SG_POLICY_MAX_REASONS 8

typedef struct sg_decision {
	int approved;
	const sg_approval
		*approval; /* the approval that allowed (or best explains a denial); may be NULL */
	size_t n_reasons;
	/*
	 * Each as long as any message (a reason quotes names a user chooses: a
	 * file name, an approval's file, a revocation's reason), so that it
	 * reaches the printed line and the audit record whole.
	 */
	char reasons[SG_POLICY_MAX_REASONS][SG_ERROR_MAX];
} sg_decision;

/*
 * Load the policy at `path` (a file or a folder of *.json files). Returns
 * SG_OK with a new policy in `out` (free with sg_policy_free()), SG_ERR_IO, or
 * SG_ERR_CONFIG naming the file, the approval and the field at fault. Errors,
 * besides a field that is missing, malformed or unknown: an approval id used
 * twice, a product listed twice in the catalog, two approvals of one digest
 * that disagree (product, version, existing_signature, or two different file
 * names), and an
 * approval whose recorded vendor values are MD5 or SHA-1 only. Each file is
 * read once; its bytes stay in `files` (a co-signature covers them).
 */
int sg_policy_load(sg_policy **out, const char *path);

/*
 * sg_policy_load(), except that a folder that holds no *.json file yet
 * loads as an empty policy: `policy approve` writes the first approval of a
 * new policy. Signing still refuses an empty folder.
 */
int sg_policy_load_for_approve(sg_policy **out, const char *path);

/* What sg_policy_open() did. */
typedef struct sg_policy_open_info {
	int indexed;      /* 1: opened through the policy's index */
	int index_exists; /* an index file was found (whether it was used or not) */
	char why[512];    /* when not indexed: why the index was not used */
} sg_policy_open_info;

/*
 * Open the policy at `path` for deciding, as signing does: through its
 * index (sg_policy_index_write()) when the index is present and still
 * describes the policy exactly, otherwise by sg_policy_load(). The index
 * only makes opening faster: every decision is the one the full load would
 * give. An index that is missing, from another signgate, damaged, or older
 * than any policy file (a file added, removed, renamed or changed since;
 * compared by name, device, inode, size, mtime and ctime, and by SHA-256 for
 * every file read) is not used and `info->why` says why. Returns as
 * sg_policy_load() does; `info` may be NULL. Free with sg_policy_free().
 * A decision on an indexed policy reads the policy files it concerns; when
 * one of them no longer has the bytes the index describes, the input is
 * denied with a reason that says so (the policy changed during the run).
 */
int sg_policy_open(sg_policy **out, const char *path, sg_policy_open_info *info);

/*
 * sg_policy_open() holding every policy file to the strict-mode rule
 * `strict` (strict.h, with SG_STRICT_GROUP; NULL: none), judged on the stat
 * of the descriptor its bytes were read from (full load), or on the stat the
 * index compares (a file that fails makes the index unused, and the full
 * load then fails). A file that fails: SG_ERR_CONFIG naming it, its mode and
 * owner.
 */
struct sg_strict_rule;
int sg_policy_open_strict(sg_policy **out, const char *path, const struct sg_strict_rule *strict,
			  sg_policy_open_info *info);

/*
 * Load the policy at `path` in full and write its index: for a folder
 * PATH/.signgate/index (a subfolder, so that writing the index leaves the
 * policy folder's own timestamps alone), for a single file PATH.sgindex;
 * replaced atomically (temporary file, fsync, rename, fsync of the folder),
 * with the owner (where allowed) and the mode, less execute bits, of the
 * policy folder or file. Nothing is written when the
 * policy does not load. `*loaded` tells the two failures apart: 0 when the
 * policy does not load (the load's error is returned, SG_ERR_CONFIG or
 * SG_ERR_IO), 1 when it loads but no index is written: SG_ERR_CONFIG when
 * the policy has a finding signing refuses (sg_policy_lint() error) or
 * differs from what the index would say of it, SG_ERR_IO when the index
 * cannot be written, SG_ERR_CRYPTO, SG_ERR_NOMEM; the code is the cause's
 * own, never relabelled.
 */
int sg_policy_index_write(const char *path, int *loaded);

/* The index file of the policy at `path` (a newly allocated string), or NULL when out of memory. */
char *sg_policy_index_path(const char *path);

/*
 * Decide on `in` at time `now`. Always fills `out`; never fails. The
 * reasons say why (for an approval: which approval and how the existing
 * signature is handled). Several threads may decide on one policy at once.
 */
void sg_policy_decide(sg_decision *out, const sg_policy *policy, const sg_policy_input *in,
		      time_t now);

/*
 * 1 when approval `a` of `policy`, taken alone, allows `in` at `now`: its
 * digests match and none of its conditions (expiry, file name, existing
 * signature, the catalog's rules) refuses it; else 0. Revocations are not
 * looked at (sg_policy_decide() does).
 */
int sg_policy_approval_allows(const sg_policy *policy, const sg_approval *a,
			      const sg_policy_input *in, time_t now);

/*
 * Product names (an approval's "product", a catalog entry's) are printable
 * ASCII and compared as sg_policy_product_same() says: ignoring case, with
 * leading and trailing spaces dropped and each run of spaces taken as one.
 * A look-alike name (a non-ASCII hyphen, a zero-width space) is a policy
 * error, and a name that differs otherwise is another product.
 */

/* 1 when `name` is a valid product name: printable ASCII, not only spaces. */
int sg_policy_product_valid(const char *name);

/* 1 when product names `a` and `b` name the same product. */
int sg_policy_product_same(const char *a, const char *b);

/* The catalog entry of `product` (sg_policy_product_same()), or NULL. */
const sg_product *sg_policy_product(const sg_policy *policy, const char *product);

typedef struct sg_policy_finding {
	int error;         /* 1: an error (the policy does not load); 0: a warning */
	const char *file;  /* the policy file concerned (owned by the policy) */
	const char *id;    /* the approval concerned, or NULL */
	char message[400];
} sg_policy_finding;

/*
 * What `policy lint` warns of in a loaded policy, at time `now`: expired
 * approvals, approvals expiring within `soon_days`, approvals of products
 * the catalog lists as vendor-signed, approvals without provenance, and
 * approvals of products missing from a non-empty catalog. Fills up to `max`
 * findings and returns how many there are in all.
 */
size_t sg_policy_lint(const sg_policy *policy, time_t now, int soon_days, sg_policy_finding *out,
		      size_t max);

/* "refuse", "replace" or "nest". */
const char *sg_existing_rule_name(sg_existing_rule rule);

/*
 * The one reading of an existing-signature rule's word ("refuse", "replace",
 * "nest"; the policy's "existing_signature", `policy approve
 * --existing-signature`): SG_OK with `*out` set; NULL is "refuse", the
 * default. Any other word is SG_ERR_USAGE ("\"WORD\" is not an
 * existing-signature rule: refuse, replace or nest"), `*out` left alone:
 * never taken for "refuse".
 */
int sg_existing_rule_parse(sg_existing_rule *out, const char *word);

/* Free a policy; NULL is accepted. */
void sg_policy_free(sg_policy *policy);

#endif
