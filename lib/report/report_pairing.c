/*
 * The policy's revocations as the report matches them (report_pairing.h):
 * sorted tables of digests, built once per report, so that judging a
 * signing or an approval is a few binary searches, never revocations x
 * approvals.
 */
#include "report_pairing.h"

#include "signgate/error.h"
#include "signgate/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int table_add(struct rp_digest_table *t, const char *hex, const sg_revocation *r,
		     const sg_approval *a)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct rp_digest_ref *grown = realloc(t->v, cap * sizeof(*grown));

		if (!grown)
			return SG_ERR_NOMEM;
		t->v = grown;
		t->cap = cap;
	}
	t->v[t->n++] = (struct rp_digest_ref){ hex, r, a };
	return SG_OK;
}

static int ref_hex_cmp(const void *x, const void *y)
{
	return strcmp(((const struct rp_digest_ref *)x)->hex,
		      ((const struct rp_digest_ref *)y)->hex);
}

/* By digest, then by place in the policy: the same reason every time. */
static int ref_cmp(const void *x, const void *y)
{
	const struct rp_digest_ref *a = x, *b = y;
	int c = ref_hex_cmp(a, b);

	if (c == 0)
		c = ((uintptr_t)a->r > (uintptr_t)b->r) - ((uintptr_t)a->r < (uintptr_t)b->r);
	if (c == 0)
		c = ((uintptr_t)a->a > (uintptr_t)b->a) - ((uintptr_t)a->a < (uintptr_t)b->a);
	return c;
}

static void table_sort(struct rp_digest_table *t)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), ref_cmp);
}

/* The first entry for `hex`, or NULL (also for `hex` NULL). */
static const struct rp_digest_ref *table_find(const struct rp_digest_table *t, const char *hex)
{
	const struct rp_digest_ref key = { hex, NULL, NULL };
	const struct rp_digest_ref *hit;

	if (!hex || t->n == 0)
		return NULL;
	hit = bsearch(&key, t->v, t->n, sizeof(*t->v), ref_hex_cmp);
	while (hit && hit > t->v && strcmp(hit[-1].hex, hex) == 0)
		hit--;
	return hit;
}

static void table_free(struct rp_digest_table *t)
{
	free(t->v);
	*t = (struct rp_digest_table){ 0 };
}

void rp_pairing_free(struct rp_pairing *g)
{
	if (!g)
		return;
	table_free(&g->rev256);
	table_free(&g->rev512);
	table_free(&g->pair256);
	table_free(&g->pair512);
	table_free(&g->via256);
	table_free(&g->via512);
	g->unpaired256 = g->unpaired512 = 0;
}

/* The revocations by each digest, and the approvals that name both. */
static int add_named(struct rp_pairing *g, const sg_policy *p)
{
	int error = SG_OK;

	for (size_t i = 0; !error && i < p->n_revoked; i++) {
		const sg_revocation *r = &p->revoked[i];

		if (r->sha256)
			error = table_add(&g->rev256, r->sha256, r, NULL);
		if (!error && r->sha512)
			error = table_add(&g->rev512, r->sha512, r, NULL);
	}
	for (size_t i = 0; !error && i < p->n_approvals; i++) {
		const sg_approval *a = &p->approvals[i];

		if (!a->sha256 || !a->sha512)
			continue;
		error = table_add(&g->pair256, a->sha256, NULL, a);
		if (!error)
			error = table_add(&g->pair512, a->sha512, NULL, a);
	}
	table_sort(&g->rev256);
	table_sort(&g->rev512);
	table_sort(&g->pair256);
	table_sort(&g->pair512);
	return error;
}

/*
 * Each approval naming both digests carries a revocation of either one over
 * to the other: a revocation by SHA-512 (whether or not it names a SHA-256
 * too) revokes the SHA-256 it is paired with, and the mirror.
 */
static int add_via(struct rp_pairing *g)
{
	int error = SG_OK;

	for (size_t i = 0; !error && i < g->pair256.n; i++) {
		const sg_approval *a = g->pair256.v[i].a;
		const struct rp_digest_ref *by512 = table_find(&g->rev512, a->sha512);
		const struct rp_digest_ref *by256 = table_find(&g->rev256, a->sha256);

		if (by512)
			error = table_add(&g->via256, a->sha256, by512->r, a);
		if (!error && by256)
			error = table_add(&g->via512, a->sha512, by256->r, a);
	}
	table_sort(&g->via256);
	table_sort(&g->via512);
	return error;
}

int rp_pairing_build(struct rp_pairing *g, const sg_policy *p)
{
	*g = (struct rp_pairing){ 0 };
	if (add_named(g, p) != SG_OK || add_via(g) != SG_OK) {
		rp_pairing_free(g);
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < g->rev512.n; i++)
		g->unpaired512 += table_find(&g->pair512, g->rev512.v[i].hex) == NULL;
	for (size_t i = 0; i < g->rev256.n; i++)
		g->unpaired256 += table_find(&g->pair256, g->rev256.v[i].hex) == NULL;
	return SG_OK;
}

/*
 * The first entry of `t` for `hex` whose pair agrees with what the subject
 * holds of the other digest (`other`, NULL when it holds none): a pair that
 * gives another digest than the subject's own is wrong for this file, and a
 * revocation reached through it is not this file's. NULL when none.
 */
static const struct rp_digest_ref *via_find(const struct rp_digest_table *t, const char *hex,
					    const char *other, int other_is_512)
{
	const struct rp_digest_ref *hit = table_find(t, hex), *end;

	if (!hit)
		return NULL;
	for (end = t->v + t->n; hit < end && strcmp(hit->hex, hex) == 0; hit++)
		if (!other || strcmp(other, other_is_512 ? hit->a->sha512 : hit->a->sha256) == 0)
			return hit;
	return NULL;
}

const struct rp_digest_ref *rp_pairing_revoked(const struct rp_pairing *g,
					       const struct rp_subject *s)
{
	const struct rp_digest_ref *hit = table_find(&g->rev256, s->sha256);

	if (!hit)
		hit = table_find(&g->rev512, s->sha512);
	if (!hit)
		hit = via_find(&g->via256, s->sha256, s->sha512, 1);
	if (!hit)
		hit = via_find(&g->via512, s->sha512, s->sha256, 0);
	return hit;
}

const char *rp_pairing_other(const struct rp_pairing *g, const char *hex, int bits)
{
	const struct rp_digest_ref *hit = table_find(bits == 256 ? &g->pair256 : &g->pair512, hex);

	return !hit ? NULL : bits == 256 ? hit->a->sha512 : hit->a->sha256;
}

size_t rp_pairing_unknown(const struct rp_pairing *g, const struct rp_subject *s, int *bits)
{
	*bits = 0;
	if (g->unpaired512 && !s->sha512 && !table_find(&g->pair256, s->sha256)) {
		*bits = 512;
		return g->unpaired512;
	}
	if (g->unpaired256 && !s->sha256 && !table_find(&g->pair512, s->sha512)) {
		*bits = 256;
		return g->unpaired256;
	}
	return 0;
}
