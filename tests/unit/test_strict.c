/*
 * Unit tests for lib/strict.c, the strict-mode rule: files and folders made
 * in a mkdtemp() folder under /tmp (sticky and root-owned: accepted above),
 * with modes, owners (root only: chown) and links that break the rule, each
 * found with the message naming the file, the reason, the mode and the owner.
 */
#include "signgate/error.h"
#include "signgate/policy.h"
#include "signgate/strict.h"

#include "check.h"

#include <ftw.h>
#include <grp.h>
#include <pwd.h>

static char tmpdir[] = "/tmp/test_strict.XXXXXX";
static char buf[4][PATH_MAX];
static int nbuf;

static const char *at(const char *rel)
{
	char *p = buf[nbuf++ % 4];
	snprintf(p, PATH_MAX, "%s/%s", tmpdir, rel);
	return p;
}

static void put(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "{}\n", 3) != 3 || close(fd) != 0) {
		perror(path);
		exit(2);
	}
	chmod(path, mode);
}

static sg_strict_rule me(void)
{
	sg_strict_rule r;
	sg_strict_rule_init(&r, geteuid());
	return r;
}

/* Expect a finding for `path` whose message holds `want`. */
static void expect_finding(const char *path, const sg_strict_rule *r, unsigned flags,
			   const char *want)
{
	sg_error_clear();
	CHECK_INT(sg_strict_check(NULL, path, r, flags), SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), want);
}

static void expect_clean(const char *path, const sg_strict_rule *r, unsigned flags)
{
	int rc = sg_strict_check(NULL, path, r, flags);
	CHECK_INT(rc, SG_OK);
	if (rc)
		fprintf(stderr, "  unexpected: %s\n", sg_error_last());
}

static void test_modes(void)
{
	sg_strict_rule r = me();
	char want[PATH_MAX + 64];

	mkdir(at("d"), 0755);
	put(at("d/f.json"), 0644);
	expect_clean(at("d/f.json"), &r, 0); /* /tmp above is sticky and root's */
	chmod(at("d/f.json"), 0664);
	expect_finding(at("d/f.json"), &r, 0, "/d/f.json: writable by group ");
	expect_finding(at("d/f.json"), &r, 0, "(mode 0664, owner ");
	chmod(at("d/f.json"), 0646);
	expect_finding(at("d/f.json"), &r, 0, "/d/f.json: writable by others (mode 0646");
	chmod(at("d/f.json"), 0644);
	/* A folder above, writable by others and not sticky: named by its real path. */
	chmod(at("d"), 0777);
	snprintf(want, sizeof(want), "%s: writable by others (mode 0777", at("d"));
	expect_finding(at("d/f.json"), &r, 0, want);
	/* Sticky and root's above: fine; sticky as the object itself (a policy folder): not. */
	chmod(at("d"), 01777);
	if (geteuid() == 0)
		expect_clean(at("d/f.json"), &r, 0);
	expect_finding(at("d"), &r, 0, "writable by others (mode 1777");
	chmod(at("d"), 0755);
	/* A missing file is no finding: whoever needs it says it is missing. */
	expect_clean(at("d/none.json"), &r, 0);
	expect_clean(at("nothere/none.json"), &r, 0);
	/* ... unless others may create it: missing in a sticky folder they may write. */
	chmod(at("d"), 01777);
	if (geteuid() == 0)
		expect_finding(at("d/none.json"), &r, 0,
			       "/d/none.json: does not exist, and others may create it in the "
			       "sticky folder ");
	chmod(at("d"), 01775);
	if (geteuid() == 0)
		expect_finding(at("d/sub/none.json"), &r, 0, "/d/sub: does not exist");
	chmod(at("d"), 0755);
}

/* How many of the report's findings contain `what`. */
static size_t findings_with(const sg_strict_report *rep, const char *what)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->n; i++)
		n += strstr(rep->msgs[i], what) != NULL;
	return n;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void test_entries_and_report(void)
{
	sg_strict_rule r = me();
	sg_strict_report rep = { 0 };

	mkdir(at("pol"), 0755);
	put(at("pol/a.json"), 0664);
	put(at("pol/b.json"), 0646);
	mkdir(at("pol/.signgate"), 0755);
	put(at("pol/.signgate/index"), 0666);
	expect_clean(at("pol"), &r, 0); /* without SG_STRICT_ENTRIES only the folder */
	CHECK_INT(sg_strict_check(&rep, at("pol"), &r, SG_STRICT_ENTRIES), SG_ERR_CONFIG);
	CHECK_INT(rep.n, 3);
	/* Each finding exactly once: three copies of one would not do. */
	CHECK_INT(findings_with(&rep, "/pol/a.json: writable by group"), 1);
	CHECK_INT(findings_with(&rep, "/pol/b.json: writable by others"), 1);
	CHECK_INT(findings_with(&rep, "/pol/.signgate/index: writable by others"), 1);
	sg_strict_report_free(&rep);
	CHECK_INT(rep.n, 0);
	chmod(at("pol/a.json"), 0644);
	chmod(at("pol/b.json"), 0644);
	chmod(at("pol/.signgate/index"), 0644);
	expect_clean(at("pol"), &r, SG_STRICT_ENTRIES);
}

static void test_links(void)
{
	sg_strict_rule r = me();

	mkdir(at("lk"), 0755);
	mkdir(at("open"), 0777);
	chmod(at("open"), 0777);
	put(at("open/f.pem"), 0644);
	/* A link is followed: the folder it leads into is checked too. */
	CHECK_INT(symlink(at("open/f.pem"), at("lk/f.pem")), 0);
	expect_finding(at("lk/f.pem"), &r, 0, "/open: writable by others (mode 0777");
	chmod(at("open"), 0755);
	expect_clean(at("lk/f.pem"), &r, 0);
	/* A link cycle ends. */
	CHECK_INT(symlink(at("lk/loop2"), at("lk/loop1")), 0);
	CHECK_INT(symlink(at("lk/loop1"), at("lk/loop2")), 0);
	expect_finding(at("lk/loop1"), &r, 0, "too many symbolic links");
	/* Key material: never through a link at the end. */
	r.noun = "key file";
	expect_finding(at("lk/f.pem"), &r, SG_STRICT_PRIVATE,
		       "cannot open: it is a symbolic link (name the file itself)");
	expect_finding(at("open/f.pem"), &r, SG_STRICT_PRIVATE,
		       "key file is accessible by group or others (mode 0644); chmod 600 it");
	chmod(at("open/f.pem"), 0600);
	expect_clean(at("open/f.pem"), &r, SG_STRICT_PRIVATE);
}

/* sg_strict_open(): the descriptor of the file that was checked. */
static void test_open(void)
{
	sg_strict_rule r = me();
	struct stat a, b;
	int fd;

	put(at("o.json"), 0644);
	CHECK_INT(sg_strict_open(&fd, at("o.json"), &r, 0), SG_OK);
	CHECK(fd >= 0 && fstat(fd, &a) == 0 && stat(at("o.json"), &b) == 0 && a.st_ino == b.st_ino);
	if (fd >= 0)
		close(fd);
	CHECK_INT(sg_strict_open(&fd, at("none.json"), &r, 0), SG_ERR_IO);
	CHECK_INT(fd, -1);
	CHECK_CONTAINS(sg_error_last(), "none.json: cannot open: No such file or directory");
	chmod(at("o.json"), 0666);
	CHECK_INT(sg_strict_open(&fd, at("o.json"), &r, 0), SG_ERR_CONFIG);
	CHECK_INT(fd, -1);
	chmod(at("o.json"), 0644);
}

/* Owners and the exception group (root only: chown). */
static void test_owners_and_group(void)
{
	sg_strict_rule r = me();
	struct passwd *nobody = getpwnam("nobody");
	struct group *adm = getgrnam("adm");

	if (geteuid() != 0 || !nobody || !adm) {
		printf("skipped: owners and groups need root, nobody and adm\n");
		return;
	}
	mkdir(at("own"), 0755);
	put(at("own/f.json"), 0644);
	CHECK_INT(chown(at("own/f.json"), nobody->pw_uid, (gid_t)-1), 0);
	expect_finding(at("own/f.json"), &r, 0,
		       "owned by another account (mode 0644, owner nobody)");
	/* Trusted for a review: the policy's owner. */
	sg_strict_rule_init(&r, nobody->pw_uid);
	expect_clean(at("own/f.json"), &r, 0);
	r = me();
	CHECK_INT(chown(at("own/f.json"), 0, adm->gr_gid), 0);
	chmod(at("own/f.json"), 0664);
	expect_finding(at("own/f.json"), &r, SG_STRICT_GROUP, "writable by group adm (mode 0664");
	r.has_gid = 1;
	r.gid = adm->gr_gid;
	r.group_key = "policy_group";
	expect_clean(at("own/f.json"), &r, SG_STRICT_GROUP);
	/* The exception only where the caller asks for it. */
	expect_finding(at("own/f.json"), &r, 0, "writable by group adm");
	/* The folder holding it: only with SG_STRICT_GROUP_PARENT. */
	CHECK_INT(chown(at("own"), 0, adm->gr_gid), 0);
	chmod(at("own"), 0775);
	expect_finding(at("own/f.json"), &r, SG_STRICT_GROUP, "/own: writable by group adm");
	expect_clean(at("own/f.json"), &r, SG_STRICT_GROUP | SG_STRICT_GROUP_PARENT);
	/* A member of the group may own what the group may write; nobody's group is nogroup. */
	r.gid = nobody->pw_gid;
	CHECK_INT(chown(at("own"), 0, 0), 0);
	chmod(at("own"), 0755);
	CHECK_INT(chown(at("own/f.json"), nobody->pw_uid, nobody->pw_gid), 0);
	expect_clean(at("own/f.json"), &r, SG_STRICT_GROUP);
	expect_finding(at("own/f.json"), &r, 0, "owned by another account");
	/* A link owned by another account, in a sticky folder: refused. */
	mkdir(at("sticky"), 01777);
	chmod(at("sticky"), 01777);
	CHECK_INT(symlink(at("own/f.json"), at("sticky/l.json")), 0);
	CHECK_INT(lchown(at("sticky/l.json"), nobody->pw_uid, (gid_t)-1), 0);
	r = me();
	CHECK_INT(chown(at("own/f.json"), 0, 0), 0);
	chmod(at("own/f.json"), 0644);
	expect_clean(at("own/f.json"), &r, 0);
	expect_finding(at("sticky/l.json"), &r, 0, "/sticky/l.json: owned by another account");
}

/*
 * Signing holds each policy file to the rule as it opens the policy: on the
 * stat the index compares (a file that fails makes the index unused) and on
 * the descriptor the full load reads (SG_ERR_CONFIG).
 */
static void test_policy_open(void)
{
	sg_strict_rule r = me();
	sg_policy_open_info info;
	sg_policy *p = NULL;
	int loaded = 0;

	mkdir(at("ix"), 0755);
	put(at("ix/a.json"), 0664);
	CHECK_INT(sg_policy_index_write(at("ix"), &loaded), SG_OK);
	CHECK_INT(sg_policy_open(&p, at("ix"), &info), SG_OK);
	CHECK_INT(info.indexed, 1); /* without a rule the index is used */
	sg_policy_free(p);
	p = NULL;
	CHECK_INT(sg_policy_open_strict(&p, at("ix"), &r, &info), SG_ERR_CONFIG);
	CHECK(p == NULL);
	CHECK_INT(info.indexed, 0);
	CHECK_CONTAINS(info.why, "a.json is writable by group");
	CHECK_CONTAINS(sg_error_last(), "/ix/a.json: writable by group ");
	CHECK_CONTAINS(sg_error_last(), "(mode 0664, owner ");
	chmod(at("ix/a.json"), 0644);
	CHECK_INT(sg_policy_open_strict(&p, at("ix"), &r, &info), SG_OK);
	sg_policy_free(p);
}

int main(void)
{

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	chmod(tmpdir, 0755);
	test_modes();
	test_entries_and_report();
	test_links();
	test_open();
	test_owners_and_group();
	test_policy_open();
	if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		check_failed++;
	return check_done();
}
