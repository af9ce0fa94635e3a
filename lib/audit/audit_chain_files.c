/*
 * The files of a rotated log's chain, found through its rotate records; see
 * sg_audit_chain_files() in include/signgate/audit.h. Used by the signing
 * map (audit_signings.c) and the audit report (lib/report).
 */
#include "signgate/audit.h"
#include "signgate/error.h"
#include "signgate/util.h"
#include "audit_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More archives than any real log has. */
#define MAX_ARCHIVES 10000

/*
 * The first record of the log file at `path` (unchecked: verify checks it),
 * or NULL; `read` is filled with what was read of the file, also when the line is bad.
 */
static int first_record(json_t **out, const char *path, sg_audit_file_read *read)
{
	struct sg_audit_reader r;
	const char *line = NULL;
	size_t len = 0;
	int torn = 0, more, error = sg_audit_reader_open(&r, path);

	*out = NULL;
	if (!error)
		error = sg_audit_reader_hash(&r);
	if (error) {
		sg_audit_reader_close(&r);
		return error;
	}
	more = sg_audit_reader_next(&r, &line, &len, &torn);
	if (more == 1)
		*out = json_loadb(line, len, 0, NULL);
	error = sg_audit_reader_digest(&r, read);
	sg_audit_reader_close(&r);
	if (error)
		json_decref(*out);
	return error ? error : more < 0 ? more : SG_OK;
}

/* The archive that the log file at `path` continues (its "rotate" record's), or NULL. */
static int archive_of(char **out, const char *path, sg_audit_file_read *read)
{
	json_t *rec = NULL;
	const char *action, *file;
	char *dir;
	int error = first_record(&rec, path, read);

	*out = NULL;
	if (error || !rec)
		return error;
	action = json_string_value(json_object_get(rec, "action"));
	file = json_string_value(json_object_get(json_object_get(rec, "previous"), "file"));
	/* Only a name beside the log: a record cannot send the reader elsewhere. */
	if (action && strcmp(action, "rotate") == 0 && file && *file && !strchr(file, '/') &&
	    strcmp(file, ".") != 0 && strcmp(file, "..") != 0) {
		dir = sg_path_dir(path);
		*out = dir ? sg_path_join(dir, file) : NULL;
		free(dir);
		if (!*out)
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	json_decref(rec);
	return error;
}

static int listed(char *const *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], path) == 0)
			return 1;
	return 0;
}

void sg_audit_chain_files_free(char **files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		free(files[i]);
	free(files);
}

/* Put `cur` first in the lists (the files are found newest first). */
static int prepend(char ***v, sg_audit_file_read **rd, size_t *n, char *cur)
{
	char **grown = realloc(*v, (*n + 1) * sizeof(**v));
	sg_audit_file_read *rgrown;

	if (!grown)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	*v = grown;
	rgrown = realloc(*rd, (*n + 1) * sizeof(**rd));
	if (!rgrown)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	*rd = rgrown;
	memmove(*v + 1, *v, *n * sizeof(**v));
	memmove(*rd + 1, *rd, *n * sizeof(**rd));
	(*v)[0] = cur;
	memset(&(*rd)[0], 0, sizeof(**rd));
	(*n)++;
	return SG_OK;
}

int sg_audit_chain_files(const char *log, char ***files, size_t *n, char *gap, size_t gap_size)
{
	sg_audit_file_read *read = NULL;
	int error = sg_audit_chain_files_read(log, files, &read, n, gap, gap_size, NULL);

	free(read);
	if (error == SG_ERR_TAMPER) {
		sg_audit_chain_files_free(*files, *n);
		*files = NULL;
		*n = 0;
	}
	return error;
}

int sg_audit_chain_files_read(const char *log, char ***files, sg_audit_file_read **read,
			      size_t *n, char *gap, size_t gap_size, char **missing)
{
	char **v = NULL, *cur = strdup(log), *prev = NULL;
	sg_audit_file_read *rd = NULL;
	int error = cur ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	*n = 0;
	if (gap_size)
		gap[0] = '\0';
	if (missing)
		*missing = NULL;
	while (!error && cur && *n < MAX_ARCHIVES) {
		error = prepend(&v, &rd, n, cur);
		if (error)
			break;
		error = archive_of(&prev, cur, &rd[0]);
		if (!error && prev && listed(v, *n, prev))
			error = sg_error_set(SG_ERR_TAMPER,
					     "%s: its rotate record names %s, which is already in "
					     "the chain of archives (a loop)",
					     cur, prev);
		if (!error && prev && !sg_path_exists(prev)) {
			if (gap_size)
				snprintf(gap, gap_size,
					 "%s continues the archive %s, which is not beside it", cur,
					 prev);
			if (missing)
				*missing = prev;
			else
				free(prev);
			prev = NULL;
		}
		cur = prev;
	}
	if (!error && cur)
		error = sg_error_set(SG_ERR_TAMPER,
				     "%s: more than %d archives in its chain of rotate records", log,
				     MAX_ARCHIVES);
	free(cur);
	if (error && missing) {
		free(*missing);
		*missing = NULL;
	}
	if (error && error != SG_ERR_TAMPER) {
		sg_audit_chain_files_free(v, *n);
		free(rd);
		v = NULL;
		rd = NULL;
		*n = 0;
	}
	*files = v;
	*read = rd;
	return error;
}
