/* Where the key's secret comes from; see include/signgate/secret.h. */
#include "signgate/secret.h"
#include "signgate/error.h"
#include "signgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

extern char **environ;

/* "pin" or "password": the prefix of the source's config keys. */
static const char *kind_of(const sg_secret_source *src)
{
	return src->name && strcmp(src->name, "PIN") == 0 ? "pin" : "password";
}

/*
 * Wipe the value of every NAME= entry, then unset NAME. execve() accepts
 * an environment that names a variable twice: getenv() returns the first,
 * and the other copy would stay in the environment block (and in cores).
 */
static void scrub_env(const char *name)
{
	size_t n = strlen(name);

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			OPENSSL_cleanse(*e + n + 1, strlen(*e + n + 1));
	unsetenv(name);
}

void sg_secret_scrub_env(const sg_secret_source *src)
{
	if (src->env)
		scrub_env(src->env);
}

static int from_env(sg_secret *out, const sg_secret_source *src, const char *cfg_path)
{
	const char *value = getenv(src->env);
	size_t len = value ? strlen(value) : 0;

	if (!value)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the environment variable %s (%s.%s_env) is not set",
				    cfg_path, src->env, src->section, kind_of(src));
	if (len == 0 || len > SG_SECRET_MAX || strchr(value, '\n'))
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the environment variable %s must hold one non-empty line",
				    cfg_path, src->env);
	out->data = OPENSSL_secure_zalloc(SG_SECRET_MAX + 1);
	if (!out->data)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	memcpy(out->data, value, len);
	out->len = len;
	/*
	 * Scrub our copy of the environment too: the bytes are what
	 * /proc/PID/environ shows for as long as signgate runs.
	 */
	scrub_env(src->env);
	return SG_OK;
}

/*
 * Show `prompt` and read one line from the terminal with echo off; the
 * terminal is restored. Echo goes off (and typeahead is dropped) before the
 * prompt appears, so nothing typed after the prompt is lost or echoed.
 */
static int ask_tty(char *buf, size_t cap, size_t *len, int fd, const char *prompt)
{
	struct termios old, quiet;
	sigset_t stop, saved;
	ssize_t n = 0;
	char c;

	/*
	 * Signals that would end us wait until the terminal is restored: a
	 * Ctrl-C at the prompt takes effect after Enter, never leaving echo off.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGQUIT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGTSTP);
	if (tcgetattr(fd, &old) != 0)
		return -1;
	sigprocmask(SIG_BLOCK, &stop, &saved);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return -1;
	}
	*len = 0;
	if (write(fd, prompt, strlen(prompt)) < 0)
		n = -1;
	while (n >= 0 && (n = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		if (*len < cap)
			buf[(*len)++] = c;
	OPENSSL_cleanse(&c, sizeof(c));
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		n = -1;
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return n < 0 ? -1 : 0;
}

static int from_prompt(sg_secret *out, const sg_secret_source *src, const char *cfg_path,
		       const char *what)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), error = SG_OK;
	char prompt[600];

	if (fd < 0)
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: %s.%s_prompt is set but there is no terminal to ask "
				    "on (%s)",
				    cfg_path, src->section, kind_of(src), strerror(errno));
	out->data = OPENSSL_secure_zalloc(SG_SECRET_MAX + 1);
	snprintf(prompt, sizeof(prompt), "signgate: %s for %s: ", src->name, what);
	if (!out->data)
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	else if (ask_tty(out->data, SG_SECRET_MAX, &out->len, fd, prompt) != 0)
		error = sg_error_set(SG_ERR_IO, "/dev/tty: cannot read the %s: %s", src->name,
				     strerror(errno));
	else if (out->len == 0)
		error = sg_error_set(SG_ERR_CONFIG, "no %s was entered", src->name);
	close(fd);
	return error;
}

int sg_secret_obtain_from(sg_secret *out, const sg_secret_source *src, const char *cfg_path,
			  const char *what)
{
	int error = SG_OK;

	memset(out, 0, sizeof(*out));
	if (src->file)
		error = sg_secret_read_file(&out->data, &out->len, src->file);
	else if (src->env)
		error = from_env(out, src, cfg_path);
	else if (src->prompt)
		error = from_prompt(out, src, cfg_path, what ? what : "the key");
	if (error)
		sg_secret_clear(out);
	return error;
}

int sg_secret_obtain(sg_secret *out, const sg_config *cfg)
{
	const char *what = cfg->pkcs11_module ? cfg->key : cfg->pkcs12 ? cfg->pkcs12 : cfg->key;

	return sg_secret_obtain_from(out, &cfg->secret, cfg->path, what ? what : "the signing key");
}

void sg_secret_clear(sg_secret *s)
{
	sg_secret_free(s->data);
	s->data = NULL;
	s->len = 0;
}

/*
 * OpenSSL's key decoders pass the password through buffers on the stack;
 * wiping below our frame does not depend on which of them OpenSSL wipes.
 */
#define STACK_SCRUB_BYTES (64 * 1024)

__attribute__((noinline)) void sg_secret_scrub_stack(void)
{
	unsigned char below[STACK_SCRUB_BYTES];

	OPENSSL_cleanse(below, sizeof(below));
}

/*
 * Locked, and excluded from core dumps (MADV_DONTDUMP): the secrets, and
 * the private keys OpenSSL decodes (their numbers are secure BIGNUMs).
 * 64 KiB fits the smallest common locked-memory limit (64 KiB).
 */
#define SECURE_HEAP_SIZE (64 * 1024)
#define SECURE_HEAP_MIN  32

static int secure_heap_failed(void)
{
	struct rlimit lock;

	CRYPTO_secure_malloc_done();
	if (getrlimit(RLIMIT_MEMLOCK, &lock) == 0 && lock.rlim_cur != RLIM_INFINITY &&
	    lock.rlim_cur < SECURE_HEAP_SIZE)
		return sg_error_set(SG_ERR_CONFIG,
				    "cannot lock OpenSSL's secure heap (%d KiB) into memory: the "
				    "locked-memory limit (RLIMIT_MEMLOCK) is %llu KiB; raise it "
				    "(ulimit -l %d, or LimitMEMLOCK=%dK in a systemd unit)",
				    SECURE_HEAP_SIZE / 1024,
				    (unsigned long long)lock.rlim_cur / 1024,
				    SECURE_HEAP_SIZE / 1024, SECURE_HEAP_SIZE / 1024);
	return sg_error_set(SG_ERR_IO,
			    "cannot set up OpenSSL's secure heap (%d KiB, locked and excluded "
			    "from core dumps): %s",
			    SECURE_HEAP_SIZE / 1024, strerror(errno));
}

int sg_secret_protect_process(void)
{
	const struct rlimit no_core = { 0, 0 };

	/*
	 * Not dumpable: no core file, no ptrace or /proc/PID/mem without
	 * CAP_SYS_PTRACE, even by our own account. The flag resets on exec; the
	 * zero core limit does not, so children (osslsigncode, which reads the
	 * secret) write no core file either.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return sg_error_set(SG_ERR_IO, "cannot make signgate non-dumpable: %s",
				    strerror(errno));
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		return sg_error_set(SG_ERR_IO, "cannot set the core file size limit to 0: %s",
				    strerror(errno));
	if (CRYPTO_secure_malloc_initialized())
		return SG_OK;
	errno = 0;
	/* 2 means the heap exists but mlock() or madvise() failed: not good enough. */
	if (CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, SECURE_HEAP_MIN) != 1)
		return secure_heap_failed();
	return SG_OK;
}
