/*
 * Selecting audit records for review: every criterion that is set must hold.
 */
#ifndef SIGNGATE_AUDIT_QUERY_H
#define SIGNGATE_AUDIT_QUERY_H

#include <stddef.h>
#include <jansson.h>

typedef struct sg_audit_filter {
	const char *product;    /* approval.product, exact */
	const char *approval;   /* approval.id, exact */
	const char *sha256;     /* prefix of input.sha256 or output.sha256, any case */
	const char *thumbprint; /* signature.signer.sha1_thumbprint, any case */
	const char *actor;      /* actor.user, exact */
	const char *action;     /* one of sg_audit_actions */
	const char *decision;   /* one of sg_audit_decisions */
	const char *since;      /* time >= since ("YYYY-MM-DD" or a full UTC time) */
	const char *until;      /* time <= until; a bare date covers the whole day */
} sg_audit_filter;

/*
 * The words records carry as "action" and as "decision", NULL-terminated:
 * what a filter may ask for (sg_audit_filter_check) and what `audit show
 * --help` lists. A writer that records a new word adds it here.
 */
extern const char *const sg_audit_actions[];
extern const char *const sg_audit_decisions[];

/*
 * Are f->action and f->decision words of the tables (when set)? SG_OK, or
 * SG_ERR_USAGE naming the value and the words there are.
 */
int sg_audit_filter_check(const sg_audit_filter *f);

/* `words` (a NULL-terminated table) joined by `sep` into `buf`; returns buf. */
const char *sg_audit_words(char *buf, size_t len, const char *const *words, const char *sep);

/* 1 when `record` meets every criterion of `f` that is set, else 0. */
int sg_audit_filter_match(const sg_audit_filter *f, const json_t *record);

/*
 * 0 when no record on this raw line can meet `f` (it lacks the quoted bytes
 * of an exact-match value), else 1: a cheap test before parsing, for
 * sg_audit_foreach_where(). Lines holding any escape are always 1.
 */
int sg_audit_filter_might_match(const sg_audit_filter *f, const char *line, size_t len);

/* The string at a dotted path such as "approval.id", or NULL. */
const char *sg_audit_field(const json_t *record, const char *path);

#endif
