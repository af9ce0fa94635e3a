/*
 * signgate watch: the inbox service. The watcher (this process) claims the
 * files dropped into INBOX and publishes their outcomes (lib/watch); each
 * pass's claims are decided and signed by a child that is one ordinary
 * signing run (key helper, timestamp fetcher, confinement, sg_batch_run),
 * with the config and the policy read afresh, so that a new approval counts
 * without a restart and no confinement outlives its run.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "signgate/batch.h"
#include "signgate/confine.h"
#include "signgate/error.h"
#include "signgate/pipeline.h"
#include "signgate/strict.h"
#include "signgate/util.h"
#include "signgate/watch.h"

static const char watch_help[] =
	"Usage: signgate watch [--config FILE] [--once] [--rejected DIR] INBOX OUTBOX\n"
	"\n"
	"The inbox service: each file dropped into INBOX is decided against the\n"
	"policy and signed into OUTBOX exactly as 'signgate sign' would, or moved to\n"
	"the rejected folder beside a NAME.reason file that says why and names the\n"
	"audit record. Every decision is recorded in the audit log.\n"
	"\n"
	"A file counts once it appears under its final name: write NAME.part (or a\n"
	"name starting with '.') and rename it to NAME. Names starting with '.' or\n"
	"ending in .part are never taken. A file is claimed by one rename into a\n"
	"private work folder (\"work\" beside INBOX) before it is read; links, files\n"
	"that are not regular, files with more than one hard link and files whose\n"
	"owner may not write INBOX are rejected unread. The dropper is the file's\n"
	"owner (uid), shown in the claimed path the audit record names.\n"
	"\n"
	"After a crash, the claims left in the work folder are finished at the next\n"
	"start: each file has exactly one outcome and one audit record.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE   signgate.json (default: $SIGNGATE_CONFIG, then\n"
	"                      /etc/signgate/signgate.json)\n"
	"      --once          process what is complete in INBOX now and exit\n"
	"      --rejected DIR  the rejected folder (default: \"rejected\" beside INBOX)\n"
	"  -h, --help          this text\n"
	"\n"
	"Without --once it keeps watching (inotify, and a rescan every 30 s) until\n"
	"SIGTERM or SIGINT, then finishes the file in hand and exits 0.\n"
	"\n"
	"Exit codes: 0 every file was handled (signed or rejected); 1 operational\n"
	"error (a file could not be handled; another watcher holds INBOX); 2 usage\n"
	"or configuration error (nothing is claimed).\n";

#define RESCAN_MS      30000
#define PASS_MAX       64

typedef struct watch_opts {
	const char *config, *rejected, *inbox, *outbox;
	int once;
} watch_opts;

static int parse(watch_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = { { "config", required_argument, NULL, 'c' },
						  { "once", no_argument, NULL, '1' },
						  { "rejected", required_argument, NULL, 'R' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case '1': o->once = 1; break;
		case 'R': o->rejected = optarg; break;
		case 'h': fputs(watch_help, stdout); return -1;
		default: return cli_usage_error("watch", "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("watch", "give INBOX and OUTBOX");
	o->inbox = argv[optind];
	o->outbox = argv[optind + 1];
	if (cli_config_lookup(&o->config, "watch") != CLI_EXIT_OK)
		return CLI_EXIT_USAGE;
	if (!o->config)
		return cli_usage_error("watch", "--config FILE is required (or SIGNGATE_CONFIG, or a "
						"config at " CLI_CONFIG_DEFAULT ")");
	return 0;
}

/* One pass's signing run, in the child: what `signgate sign` holds. */
typedef struct run_state {
	sg_context ctx;
	sg_config *cfg;
	sg_policy *policy;
	sg_keyhelper *keyhelper;
	sg_tsa *tsa;
	sg_audit_signings *signings;
} run_state;

static int load_config_and_policy(run_state *st, const char *config)
{
	int error = cli_decide_load(&st->ctx, config, &st->cfg, &st->policy, &st->signings);

	return error ? error : sg_context_load_trust(&st->ctx);
}

static int start_helpers(run_state *st, size_t n)
{
	int error;

	/* Its version goes into every record of the run (before the confinement mode). */
	if (cli_osslsigncode_check(st->cfg) != CLI_EXIT_OK)
		return sg_error_code();
	if ((error = cli_confine_setup(st->cfg)) != SG_OK)
		return error;
	if ((error = sg_keyhelper_start(&st->keyhelper, st->cfg, (unsigned long)n)) != SG_OK)
		return error;
	st->ctx.signer = sg_keyhelper_signer(st->keyhelper);
	st->ctx.keyhelper = st->keyhelper;
	error = sg_tsa_start(&st->tsa, st->cfg);
	st->ctx.tsa = st->tsa;
	return error;
}

static int confine(run_state *st, const sg_watch *w, const sg_watch_claim *c, size_t n)
{
	const char **inputs = calloc(n + 1, sizeof(*inputs));
	const char *outs[] = { sg_watch_outbox(w), sg_watch_work(w), NULL };
	sg_confine_self_run run = { st->cfg, inputs, 0, outs, NULL };
	char warn[512];
	int error;

	if (!inputs)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!c[i].refuse[0])
			inputs[run.n_inputs++] = c[i].input;
	error = sg_confine_self(&run, warn, sizeof(warn));
	if (error == SG_OK && warn[0])
		fprintf(stderr, "signgate: warning: %s\n", warn);
	free(inputs);
	return error;
}

static void free_state(run_state *st)
{
	sg_confine_self_end();
	sg_tsa_stop(st->tsa);
	sg_keyhelper_stop(st->keyhelper, NULL);
	sg_audit_signings_free(st->signings);
	sg_context_free_trust(&st->ctx);
	sg_policy_free(st->policy);
	sg_config_free(st->cfg);
}

/* What the child does with each outcome: write it beside the claim. */
typedef struct child_ctx {
	const sg_watch_claim *claim;
	int failed;
	int key_refused; /* the key helper refused the key: no more files this run */
} child_ctx;

static void outcome_done(const sg_outcome *r, const sg_job *job, size_t i, void *arg)
{
	child_ctx *cc = arg;

	(void)job;
	(void)i;
	if (r && r->key_refused)
		cc->key_refused = 1;
	if (!r || sg_watch_write_outcome(cc->claim, r) != SG_OK) {
		cli_error("%s", r ? sg_error_last() : "out of memory");
		cc->failed = 1;
	}
}

/* A claim refused unread: its "failed" record (status format), then its outcome. */
static void refuse_claim(run_state *st, child_ctx *cc)
{
	const sg_watch_claim *c = cc->claim;
	sg_job job = { SG_ACTION_SIGN, c->input, c->output, 0 };
	sg_outcome *r = calloc(1, sizeof(*r));

	if (!r) {
		cc->failed = 1;
		return;
	}
	/* FORMAT: the record's reasons carry the message (the file as dropped is unusable). */
	sg_error_set(SG_ERR_FORMAT, "%s: refused unread by signgate watch: %s", c->name, c->refuse);
	sg_pipeline_record_failure(r, &st->ctx, &job, SG_ERR_FORMAT);
	outcome_done(r, &job, 0, cc);
	free(r);
}

static int stop_pending(void)
{
	sigset_t p;

	return sigpending(&p) == 0 && (sigismember(&p, SIGTERM) || sigismember(&p, SIGINT));
}

/* The child: one signing run over the claims, one at a time; its exit status. */
static int child_run(const watch_opts *o, const sg_watch *w, sg_watch_claim *c, size_t n)
{
	run_state st;
	size_t n_run = 0;
	int failed = 0, error;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++)
		n_run += !c[i].refuse[0];
	error = load_config_and_policy(&st, o->config);
	if (!error && n_run)
		error = start_helpers(&st, n_run);
	if (!error)
		error = confine(&st, w, c, n);
	for (size_t i = 0; !error && i < n && !stop_pending(); i++) {
		child_ctx cc = { &c[i], 0, 0 };
		char *in[] = { c[i].input }, *out[] = { c[i].output };
		sg_batch_spec spec = { .ctx = &st.ctx,
				       .action = SG_ACTION_SIGN,
				       .inputs = in,
				       .outputs = out,
				       .n = 1,
				       .jobs = 1,
				       .fn = outcome_done,
				       .arg = &cc };

		if (sg_watch_mark_started(&c[i]) != SG_OK)
			error = sg_error_code();
		else if (c[i].refuse[0])
			refuse_claim(&st, &cc);
		else if (sg_batch_run(&spec) != SG_OK)
			error = sg_error_code();
		failed |= cc.failed;
		/* That file has its record; the others wait for a run with a new key helper. */
		if (!error && cc.key_refused)
			error = sg_error_set(SG_ERR_CRYPTO,
					     "%s: the key was refused; the other "
					     "files wait for the next run",
					     c[i].name);
	}
	if (error)
		cli_error("%s", sg_error_last());
	free_state(&st);
	return error ? cli_exit_code(error) : failed ? CLI_EXIT_OPERATIONAL : CLI_EXIT_OK;
}

/* ---- the watcher ---- */

typedef struct watcher {
	const watch_opts *o;
	sg_watch *w;
	int sfd, ifd; /* signalfd (TERM, INT); inotify (-1 with --once) */
	int stop, failed;
} watcher;

/* Print `s` on stdout with control characters as '?': a dropped name is anybody's text. */
static void put_text(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void published(const sg_watch_claim *c, const char *rejected_as, const char *decision,
		      const char *message, const char *audit_id, void *arg)
{
	const watcher *wt = arg;

	fputs(rejected_as ? "rejected " : "signed   ", stdout);
	put_text(c->name);
	fputs(" -> ", stdout);
	if (rejected_as) {
		printf("%s/", sg_watch_rejected(wt->w));
		put_text(rejected_as);
		printf(": %s: ", decision);
		put_text(message);
	} else {
		put_text(c->output);
	}
	printf(" (owner uid %u, audit record %s)\n", (unsigned)c->uid, audit_id);
	fflush(stdout);
}

static void problem(const char *message, void *arg)
{
	(void)arg;
	fputs("signgate: ", stderr);
	for (const char *p = message; *p; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
	fputc('\n', stderr);
}

static void drain_signals(watcher *wt)
{
	struct signalfd_siginfo si;

	while (read(wt->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wt->stop = 1;
}

/* Run the child over `c` and wait for it; a SIGTERM meanwhile is passed on. */
static int run_child(watcher *wt, sg_watch_claim *c, size_t n)
{
	int status = 0, sent = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		cli_error("cannot start the signing run: %s", strerror(errno));
		return CLI_EXIT_OPERATIONAL;
	}
	if (pid == 0) {
		close(wt->sfd);
		if (wt->ifd >= 0)
			close(wt->ifd);
		fflush(stdout);
		_exit(child_run(wt->o, wt->w, c, n));
	}
	for (;;) {
		struct pollfd p = { wt->sfd, POLLIN, 0 };
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return CLI_EXIT_OPERATIONAL;
		if (poll(&p, 1, 200) > 0)
			drain_signals(wt);
		if (wt->stop && !sent)
			sent = kill(pid, SIGTERM) == 0;
	}
	if (WIFSIGNALED(status)) {
		cli_error("the signing run was killed by signal %d", WTERMSIG(status));
		return CLI_EXIT_OPERATIONAL;
	}
	return WEXITSTATUS(status);
}

/* One pass: scan (and recover), run the claims, publish their outcomes. */
static int pass(watcher *wt, size_t *n_out)
{
	sg_watch_events ev = { published, problem, wt };
	sg_watch_claim *c = NULL;
	size_t n = 0, problems = 0;
	int rc = CLI_EXIT_OK;

	*n_out = 0;
	if (sg_watch_scan(wt->w, PASS_MAX, &c, &n, &problems, &ev) != SG_OK)
		return cli_fail();
	/* A file left where it is for a problem of its own is not handled: --once says so. */
	if (problems)
		rc = CLI_EXIT_OPERATIONAL;
	/* Only now: a stage folder left by a crash may have held an output to publish. */
	cli_clean_leftovers(sg_watch_outbox(wt->w));
	if (n)
		rc = cli_worse(rc, run_child(wt, c, n));
	for (size_t i = 0; i < n; i++) {
		if (sg_watch_publish(wt->w, &c[i], &ev) != SG_OK)
			rc = cli_worse(rc, cli_fail());
		else if (!c[i].published && !wt->stop)
			rc = cli_worse(rc, (cli_error("%s: not handled; it stays claimed in %s",
						      c[i].name, c[i].dir),
					    CLI_EXIT_OPERATIONAL));
	}
	sg_watch_claims_free(c, n);
	*n_out = n;
	return rc;
}

/* Wait for something in the inbox, a signal, or the rescan time. */
static void wait_event(watcher *wt)
{
	struct pollfd p[2] = { { wt->sfd, POLLIN, 0 }, { wt->ifd, POLLIN, 0 } };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (poll(p, 2, RESCAN_MS) <= 0)
		return;
	if (p[0].revents)
		drain_signals(wt);
	if (p[1].revents)
		while (read(wt->ifd, buf, sizeof(buf)) > 0)
			;
}

static int loop(watcher *wt)
{
	int worst = CLI_EXIT_OK;

	for (;;) {
		size_t n;
		int rc = pass(wt, &n);

		drain_signals(wt);
		if (wt->o->once) {
			worst = cli_worse(worst, rc);
			/* Again while a pass was full and went well: the rest of the inbox. */
			if (rc != CLI_EXIT_OK || n < PASS_MAX || wt->stop)
				return worst;
			continue;
		}
		if (wt->stop)
			return CLI_EXIT_OK;
		if (n < PASS_MAX || rc != CLI_EXIT_OK)
			wait_event(wt);
		if (wt->stop)
			return CLI_EXIT_OK;
	}
}

static int setup_events(watcher *wt)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked here and in the child: a stop is seen between files, never inside one. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (wt->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		cli_error("cannot watch for signals: %s", strerror(errno));
		return CLI_EXIT_OPERATIONAL;
	}
	if (wt->o->once)
		return CLI_EXIT_OK;
	wt->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (wt->ifd < 0 || inotify_add_watch(wt->ifd, sg_watch_inbox(wt->w),
					     IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		cli_error("%s: cannot watch: %s", sg_watch_inbox(wt->w), strerror(errno));
		return CLI_EXIT_OPERATIONAL;
	}
	return CLI_EXIT_OK;
}

/*
 * The config, policy, signing files and osslsigncode (its version) are
 * checked once before anything is claimed: their faults are 2. Returns the
 * exit code, said when not CLI_EXIT_OK.
 */
static int check_config(const watch_opts *o, char **audit_log)
{
	run_state st;
	int rc = CLI_EXIT_OK;

	memset(&st, 0, sizeof(st));
	if (load_config_and_policy(&st, o->config) != SG_OK ||
	    sg_config_check_signing_files(st.cfg) != SG_OK)
		rc = cli_fail();
	else if ((rc = cli_osslsigncode_check(st.cfg)) != CLI_EXIT_OK)
		; /* said */
	else if (!(*audit_log = strdup(st.cfg->audit_log)))
		rc = cli_exit_code(sg_error_set(SG_ERR_NOMEM, "out of memory"));
	free_state(&st);
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	watch_opts o;
	watcher wt = { &o, NULL, -1, -1, 0, 0 };
	char *audit_log = NULL;
	int rc = parse(&o, argc, argv);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = check_config(&o, &audit_log)) != CLI_EXIT_OK)
		; /* said */
	else if (sg_watch_open(&wt.w, o.inbox, o.outbox, o.rejected, audit_log) != SG_OK)
		rc = cli_fail();
	else if ((rc = setup_events(&wt)) == CLI_EXIT_OK)
		rc = loop(&wt);
	if (wt.sfd >= 0)
		close(wt.sfd);
	if (wt.ifd >= 0)
		close(wt.ifd);
	sg_watch_free(wt.w);
	free(audit_log);
	return rc;
}
