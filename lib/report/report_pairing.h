/*
 * Internal to lib/report: the policy's revocations as the report matches
 * them against what it knows of a file (report_pairing.c), one rule for a
 * signing record's input and for an approval.
 *
 * A subject (a record's input, or an approval) holds a SHA-256, a SHA-512
 * or both. Its known digests are those it holds plus those that the
 * policy's approvals naming both digests pair with them (such an approval
 * says the two are the same file's). It is
 * - revoked when a revocation names one of its known SHA-256s or one of its
 *   known SHA-512s (signing computes both digests when the policy names a
 *   SHA-512, and find_revocation() matches either);
 * - else it cannot be checked when it has no known SHA-512 and some
 *   revocation names a SHA-512 that no approval pairs with a SHA-256
 *   (whether or not it names a SHA-256 too), or, the mirror, when it has no
 *   known SHA-256 and some revocation names a SHA-256 that no approval pairs
 *   with a SHA-512: such a revocation may name its file.
 */
#ifndef SIGNGATE_LIB_REPORT_PAIRING_H
#define SIGNGATE_LIB_REPORT_PAIRING_H

#include <stddef.h>

struct sg_policy;
struct sg_revocation;
struct sg_approval;

/*
 * A digest (hex, the policy's own string) and what names it: a revocation
 * `r`, an approval `a` naming both digests, or both (a revocation reached
 * through approval `a`'s pair; `hex` is then the digest `a` gives beside
 * the one revoked).
 */
struct rp_digest_ref {
	const char *hex;
	const struct sg_revocation *r;
	const struct sg_approval *a;
};

/* Sorted by `hex` (then by position in the policy), looked up with bsearch. */
struct rp_digest_table {
	struct rp_digest_ref *v;
	size_t n, cap;
};

/*
 * Built once per report (O((n + m) log(n + m)) for n approvals and m
 * revocations); each lookup is O(log).
 */
struct rp_pairing {
	struct rp_digest_table rev256, rev512;   /* the revocations, by the digest they name */
	struct rp_digest_table pair256, pair512; /* approvals naming both, by each digest */
	/* A revocation by SHA-512 (SHA-256), by the SHA-256 (SHA-512) an approval pairs it with. */
	struct rp_digest_table via256, via512;
	size_t unpaired512; /* revocations naming a SHA-512 that no approval pairs with a SHA-256 */
	size_t unpaired256; /* revocations naming a SHA-256 that no approval pairs with a SHA-512 */
};

/* What a subject holds: a digest, or NULL when it holds none of that kind. */
struct rp_subject {
	const char *sha256, *sha512;
};

/*
 * Build `g` over the whole of `p` (its approvals and revocations arrays).
 * SG_OK, or SG_ERR_NOMEM (g is then empty). Free with rp_pairing_free().
 */
int rp_pairing_build(struct rp_pairing *g, const struct sg_policy *p);
void rp_pairing_free(struct rp_pairing *g);

/*
 * The revocation that names the subject's file, or NULL: one of its own
 * digests first (`a` NULL), else through a pair (`a` the approval, `hex`
 * the subject's digest it pairs). A subject that holds both digests uses
 * only a pair that gives its own other digest: a signing record that holds
 * its input's SHA-512 proves wrong a pair that gives another one for its
 * SHA-256, and is judged by what it holds (as signing the same bytes would
 * be).
 */
const struct rp_digest_ref *rp_pairing_revoked(const struct rp_pairing *g,
					       const struct rp_subject *s);

/*
 * The digest of the other kind that the first approval naming both gives
 * beside `hex` (a SHA-256 when `bits` is 256, else a SHA-512), or NULL.
 */
const char *rp_pairing_other(const struct rp_pairing *g, const char *hex, int bits);

/*
 * For a subject that is not revoked: how many revocations may name its file
 * by a digest of it that is not known (0: it is checked). `*bits` is set to
 * 512 when its SHA-512 is unknown, 256 when its SHA-256 is.
 */
size_t rp_pairing_unknown(const struct rp_pairing *g, const struct rp_subject *s, int *bits);

#endif
