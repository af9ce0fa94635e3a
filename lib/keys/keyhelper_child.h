/*
 * Internal: the key helper's replies and its hello, shared by the parent
 * side (keyhelper_proc.c) and the helper itself (keyhelper_child.c). The
 * request is in include/signgate/keyhelper.h.
 *
 * A reply and the hello have the same 16-byte header:
 *   0   4  magic: "SGKR" for a reply, "SGKI" for the hello
 *   4   1  version, 1
 *   5   1  status: reply 0 signed, 1 refused, 2 failed;
 *              hello 0 ready, 2 cannot sign
 *   6   2  zero
 *   8   4  reply: the signature count; hello: 0 when ready, else the
 *          sg_status of the failed step, negated (1..11) (big-endian)
 *  12   4  payload length p (big-endian)
 *  16   p  reply: the DER PKCS#7 (status 0) or a message;
 *          hello: the DER signing certificate followed by the DER
 *          certificates of its chain (ready), or the message of the error
 *          (cannot sign), exactly as sg_signer_load() words it.
 *
 * Right before the hello the helper says what confinement it applied, a
 * message with the same header ("SGKC", status 0, word 0) and 9 bytes:
 * Landlock ABI, seccomp, named, no network, own network namespace,
 * rlimits, forced, no files once the key is open, network allowed (each 0
 * or 1 but the ABI).
 */
#ifndef SIGNGATE_LIB_KEYHELPER_INTERNAL_H
#define SIGNGATE_LIB_KEYHELPER_INTERNAL_H

#include <stddef.h>

#include <sys/types.h>

#include "signgate/confine.h"
#include "signgate/config.h"

#define SG_KH_REPLY_MAGIC    "SGKR"
#define SG_KH_HELLO_MAGIC    "SGKI"
#define SG_KH_CONF_MAGIC     "SGKC" /* sent right before the hello */
#define SG_KH_CONF_LEN       9
#define SG_KH_MSG_HEADER     16
#define SG_KH_MSG_MAX        (1024 * 1024) /* a reply or hello, header included */
#define SG_KH_STATUS_OK      0
#define SG_KH_STATUS_REFUSED 1
#define SG_KH_STATUS_FAILED  2
#define SG_KH_CHILD_FD       3 /* the helper's end of the socket, in the helper */

/* Fill a 16-byte header. */
void sg_kh_header(unsigned char *h, const char *magic, int status, unsigned long word,
		  size_t payload_len);

/* In a forked helper: signals as a fresh process has them (default handlers, none blocked). */
void sg_kh_reset_signals(void);

/*
 * In a forked helper: move `sock` to SG_KH_CHILD_FD, put /dev/null on
 * stdout (and on stdin unless `keep_stdin`), close every other descriptor
 * above stderr but those of `keep` (n_keep entries, -1 ignored). Returns
 * the socket, or -1.
 */
int sg_kh_isolate_fds(int sock, int keep_stdin, const int *keep, size_t n_keep);

/*
 * The Landlock ruleset descriptor of a prepared confinement, to keep open
 * until it is applied; in the child, sg_kh_keep_ruleset() first moves it
 * off SG_KH_CHILD_FD (in the child's own copy of `p`).
 */
int sg_kh_ruleset_fd(const sg_confine_prepared *p);
void sg_kh_keep_ruleset(const sg_confine_prepared *p);

/*
 * The helper: runs in the child of fork() and never returns. `sock` is its
 * end of the socketpair, `other` the parent's (closed here); `parent` is
 * the parent's pid. `identify_only`: open the key material, say hello with
 * its certificates without checking them (which certificate signs, for pinning a verification), and exit.
 * It confines itself (lib/key_allow.c) before it reads its secret or key
 * (after the secret when it asks for it on the terminal: its own session
 * would have none), and once its key is open takes all file access away
 * where the key source needs none. Its confinement is built in the child,
 * so that signgate never names the key material, not even to make a
 * Landlock rule (the parent is single-threaded when it forks).
 */
__attribute__((noreturn)) void sg_kh_child_run(int sock, int other, const sg_config *cfg,
					       unsigned long max_signatures, int identify_only,
					       pid_t parent);

#endif
