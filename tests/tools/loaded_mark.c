/*
 * A shared object that only says it was loaded: its constructor appends
 * "loaded <pid>" to the file $SG_LOADED_MARK_FILE. test_red_openssl_conf.sh
 * puts it where others may write and names it through OpenSSL's
 * configuration (a provider's "module", an engine's "dynamic_path", an
 * ".include"d file): signgate must never load it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void loaded_mark(void)
{
	const char *path = getenv("SG_LOADED_MARK_FILE");
	char line[64];
	int fd, n;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "loaded %d\n", (int)getpid());
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

/* Enough of a provider's entry point for OpenSSL to call it (and fail). */
int OSSL_provider_init(const void *handle, const void *in, const void **out, void **provctx);
int OSSL_provider_init(const void *handle, const void *in, const void **out, void **provctx)
{
	(void)handle;
	(void)in;
	(void)out;
	(void)provctx;
	return 0;
}
