/*
 * A PKCS#11 module for tests (issue 13): SoftHSM2 behind a shim whose C_Sign
 * first tries one thing the confined key helper must not be able to do,
 * chosen by the shim's own file name (copies made by the test):
 *
 *   pkcs11_shim_none.so     nothing: signs through SoftHSM
 *   pkcs11_shim_read.so     read the file named by SG_SHIM_FILE (the
 *                           config's audit log, /etc/shadow)
 *   pkcs11_shim_create.so   create a file in the folder SG_SHIM_DIR
 *   pkcs11_shim_connect.so  connect to 127.0.0.1:SG_SHIM_PORT
 *   pkcs11_shim_ptrace.so   PTRACE_ATTACH to its parent (signgate)
 *   pkcs11_shim_pin.so      say the PIN C_Login got on stderr, as a
 *                           verbose or debugging module does (plain and
 *                           hex), then fail C_Sign: signgate must never
 *                           carry it into a message or a record
 *
 * SG_SHIM_* come from the config's "signing.pkcs11_env". Whatever the
 * outcome, the shim says it on stderr ("pkcs11_shim: read /etc/shadow:
 * Permission denied", or "... succeeded") and an attempt makes C_Sign
 * fail (CKR_FUNCTION_FAILED), so that a breach can never pass as a
 * signature.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"

static CK_FUNCTION_LIST shim;
static CK_FUNCTION_LIST_PTR real;

/* What this copy of the shim tries: from its file name. */
static const char *attack(void)
{
	static const char *const names[] = { "read", "create", "connect", "ptrace", "pin" };
	Dl_info info;
	const char *base;

	if (!dladdr((void *)attack, &info) || !info.dli_fname)
		return "none";
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "pkcs11_shim_%s.so", names[i]);
		if (strcmp(base, want) == 0)
			return names[i];
	}
	return "none";
}

static int report(const char *what, const char *target, int rc)
{
	if (rc < 0)
		fprintf(stderr, "pkcs11_shim: %s %s: %s\n", what, target, strerror(errno));
	else
		fprintf(stderr, "pkcs11_shim: %s %s succeeded\n", what, target);
	return -1;
}

static int try_read(void)
{
	const char *path = getenv("SG_SHIM_FILE");
	int fd = open(path ? path : "/etc/shadow", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return report("read", path ? path : "/etc/shadow", fd);
}

static int try_create(void)
{
	const char *dir = getenv("SG_SHIM_DIR");
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/pkcs11_shim.out", dir ? dir : "/tmp");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return report("create", path, fd);
}

static int try_connect(void)
{
	const char *port = getenv("SG_SHIM_PORT");
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = fd;
	char where[64];

	a.sin_port = htons((unsigned short)atoi(port ? port : "9"));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(where, sizeof(where), "127.0.0.1:%s", port ? port : "9");
	if (fd >= 0) {
		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
		if (rc == 0)
			(void)!write(fd, "shim\n", 5);
		close(fd);
	}
	return report("connect", where, rc);
}

static int try_ptrace(void)
{
	char who[32];
	long rc = ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);

	snprintf(who, sizeof(who), "pid %d", (int)getppid());
	if (rc == 0)
		ptrace(PTRACE_DETACH, getppid(), NULL, NULL);
	return report("ptrace", who, rc == 0 ? 0 : -1);
}

static CK_RV shim_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	if (strcmp(attack(), "pin") == 0 && pin) {
		fprintf(stderr, "pkcs11_shim: C_Login PIN %.*s hex ", (int)len, (const char *)pin);
		for (CK_ULONG i = 0; i < len; i++)
			fprintf(stderr, "%02x", pin[i]);
		fputc('\n', stderr);
	}
	return real->C_Login(s, user, pin, len);
}

static CK_RV shim_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
		       CK_ULONG_PTR sig_len)
{
	const char *a = attack();
	int blocked = 0;

	if (strcmp(a, "read") == 0)
		blocked = try_read();
	else if (strcmp(a, "create") == 0)
		blocked = try_create();
	else if (strcmp(a, "connect") == 0)
		blocked = try_connect();
	else if (strcmp(a, "ptrace") == 0)
		blocked = try_ptrace();
	else if (strcmp(a, "pin") == 0)
		blocked = -1;
	if (blocked)
		return CKR_FUNCTION_FAILED;
	return real->C_Sign(s, data, len, sig, sig_len);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	void *h;
	CK_RV rv;

	if (!out)
		return CKR_ARGUMENTS_BAD;
	if (!real) {
		h = dlopen(SOFTHSM, RTLD_NOW | RTLD_LOCAL);
		get = h ? (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(h, "C_GetFunctionList") : NULL;
		if (!get)
			return CKR_GENERAL_ERROR;
		rv = get(&real);
		if (rv != CKR_OK)
			return rv;
		shim = *real;
		shim.C_Sign = shim_sign;
		shim.C_Login = shim_login;
	}
	*out = &shim;
	return CKR_OK;
}
