/*
 * The empty per-run folder a confined child writes in: the only place its
 * Landlock rules let it create files. See include/signgate/confine.h.
 */
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sg_confine_outdir_create(char **out, const char *parent)
{
	char *templ = sg_path_join(parent, ".confined-XXXXXX");

	*out = NULL;
	if (!templ)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!mkdtemp(templ)) {
		int e = errno;
		free(templ);
		return sg_error_set(SG_ERR_IO, "%s: cannot create a folder for the output: %s",
				    parent, strerror(e));
	}
	*out = templ;
	return SG_OK;
}

void sg_confine_outdir_remove(const char *dir)
{
	int fd;
	DIR *d;
	struct dirent *e;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(fd, e->d_name, 0);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	rmdir(dir);
}

int sg_confine_outdir_collect(const char *dir, const char *name, const char *dest)
{
	char *src = sg_path_join(dir, name);
	sg_digests digests;
	struct stat st;
	int error = SG_OK;

	if (!src)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	else if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode))
		error = sg_error_set(SG_ERR_IO, "%s: no output as a regular file", src);
	else
		/*
		 * Copied, not renamed: a process the child left behind (its own
		 * session, no pipe of ours) may still hold the file open for
		 * writing, and would change the output after signgate checked it.
		 */
		error = sg_private_copy(&digests, src, dest, name, 0);
	free(src);
	sg_confine_outdir_remove(dir);
	return error;
}
