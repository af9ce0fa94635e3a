#!/usr/bin/env python3
"""Adding a format is one file plus one table row (ARCHITECTURE.md): checked.

    check_formats.py [ROOT]     check the tree at ROOT (default: this repo)
    check_formats.py --self-test

Only a format's own files may know which formats exist. Those are the files
of lib/format/ other than the shared ones (format.c, format_src.c,
format_internal.h, format_ops.h, attach.h, attach_ossl.c); the table itself
is format_table.c. Every other C file of lib/, tools/ and include/ must not
(comments are not looked at):
  - name a format constant (SG_FORMAT_X beyond UNKNOWN, HEAD, WINDOW, DIGEST_*);
  - look a format up by name (sg_format_by_name), compare a format's name
    (strcmp(sg_format_name(...)), sg_format_name(...) ==), or compare or
    switch on a format's number (info.kind ==, format.kind !=, switch);
  - name a row (sg_format_<x>_ops);
  - spell a row's name as a string ("msi"), or list two or more of the
    rows' extensions by hand (".exe .msi"): help texts ask the table
    (sg_format_extension_at()).
The rows' names and extensions are read from lib/format/ itself. Prints one
line per finding (file:line: what) and exits 1 if any.
"""
import os
import re
import shutil
import sys
import tempfile

SHARED = {"format.c", "format_src.c", "format_internal.h", "format_ops.h", "attach.h",
          "attach_ossl.c"}
ALLOWED_CONSTANTS = {"SG_FORMAT_UNKNOWN", "SG_FORMAT_HEAD", "SG_FORMAT_DIGEST_MAX",
                     "SG_FORMAT_DIGEST_SIGN", "SG_FORMAT_DIGEST_NEST", "SG_FORMAT_DIGEST_FILE",
                     "SG_FORMAT_WINDOW", "SIGNGATE_FORMAT_H"}
COMMENT = re.compile(r"/\*.*?\*/|^\s*//[^\n]*", re.S | re.M)
ROW_NAME = re.compile(r'^\s*\.name\s*=\s*"([^"]+)"', re.M)
EXT_LIST = re.compile(r"_ext\[\]\s*=\s*\{([^}]*)\}")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def code_of(text):
    """The text with comments blanked (line numbers kept)."""
    return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def own_file(rel):
    """A format's own file: lib/format/, not one of the shared ones."""
    parts = rel.split("/")
    return len(parts) == 3 and parts[:2] == ["lib", "format"] and parts[2] not in SHARED


def rows(root):
    """The rows' names and extensions, from lib/format/'s own files."""
    names, exts = set(), set()
    folder = os.path.join(root, "lib", "format")
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".c") or f in SHARED:
            continue
        text = code_of(read(os.path.join(folder, f)))
        if "sg_format_ops" not in text:
            continue
        names.update(ROW_NAME.findall(text))
        for body in EXT_LIST.findall(text):
            exts.update(re.findall(r'"\.([A-Za-z0-9]+)"', body))
    return names, exts


def rules(names, exts):
    ext = "|".join(sorted(exts, key=len, reverse=True)) or "(?!)"
    name = "|".join(sorted(names)) or "(?!)"
    return [
        (re.compile(r"\bSG_FORMAT_[A-Z0-9_]+\b"), "names a format constant",
         lambda m: m.group(0) not in ALLOWED_CONSTANTS),
        (re.compile(r"\bsg_format_by_name\s*\("), "looks a format up by its name", None),
        (re.compile(r"\bstr(?:n?case)?n?cmp\s*\(\s*sg_format_name\b|"
                    r"\bsg_format_name\s*\([^()]*\)\s*[=!]="), "compares a format's name", None),
        (re.compile(r"(?:\.|->)kind\s*[=!]=\s*(?:[0-9]|\w+(?:\.|->)kind)|"
                    r"\bswitch\s*\([^)]*(?:format|info)(?:\.|->)kind"),
         "compares or switches on a format's number", None),
        (re.compile(r"\bsg_format_\w+_ops\b"), "names a format's row", None),
        (re.compile(r'"(?:%s)"' % name), "spells a format's name", None),
        (re.compile(r"\.(?:%s)\b[\s,;)(]+\.(?:%s)\b" % (ext, ext), re.I),
         "lists extensions by hand (ask sg_format_extension_at())", None),
    ]


def sources(root):
    for top in ("lib", "tools", "include"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    path = os.path.join(dirpath, f)
                    yield os.path.relpath(path, root).replace(os.sep, "/"), path


def check(root):
    names, exts = rows(root)
    problems = []
    if not names or not exts:
        return [f"{root}/lib/format: no rows found (names {sorted(names)}, extensions {sorted(exts)})"]
    found = rules(names, exts)
    for rel, path in sources(root):
        if own_file(rel) or rel == "lib/format/format_table.c":
            continue
        code = code_of(read(path))
        for n, line in enumerate(code.split("\n"), 1):
            for pattern, what, keep in found:
                for m in pattern.finditer(line):
                    if keep is None or keep(m):
                        problems.append(f"{rel}:{n}: {what}: {m.group(0).strip()}")
    # the table's code defines the look-up by name, and format.h declares it
    return [p for p in problems
            if not (p.startswith(("lib/format/format.c:", "include/signgate/format.h:")) and
                    "looks a format up" in p)]


def self_test(root):
    """A clean copy passes; each planted line fails, naming the rule."""
    plants = [
        ("lib/sign/verify.c", "static int x = SG_FORMAT_MSI;", "names a format constant"),
        ("lib/sign/pipeline.c", 'static int y(const char *n) { return sg_format_by_name(n); }',
         "looks a format up"),
        ("tools/cmd_sign.c", 'static int z(int k) { return !strcmp(sg_format_name(k), "x"); }',
         "compares a format's name"),
        ("lib/policy/policy_decide.c", "static int w(const sg_format_info *info) "
         "{ return info->kind == 2; }", "switches on a format's number"),
        ("lib/format/format.c", "extern const int sg_format_cab_ops;", "names a format's row"),
        ("tools/cmd_verify.c", 'static const char *v = "msp";', "spells a format's name"),
        ("tools/cmd_sign.c", 'static const char *u = "(.EXE, .ps1)";', "lists extensions"),
    ]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for top in ("lib", "tools", "include"):
            shutil.copytree(os.path.join(root, top), os.path.join(tmp, top))
        clean = check(tmp)
        if clean:
            print("self-test: the clean tree fails:\n  " + "\n  ".join(clean))
            failed += 1
        for rel, line, want in plants:
            path = os.path.join(tmp, rel)
            before = read(path)
            with open(path, "a", encoding="utf-8") as f:
                f.write("\n" + line + "\n/* " + line.replace("*/", "") + " */\n")
            got = check(tmp)
            with open(path, "w", encoding="utf-8") as f:
                f.write(before)
            hits = [p for p in got if p.startswith(rel + ":") and want in p]
            if len(got) != 1 or not hits:
                print(f"self-test: planting {line!r} in {rel}: got {got}, want one '{want}'")
                failed += 1
    print(f"check_formats self-test: {len(plants) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.argv[1:] == ["--self-test"]:
        return self_test(here)
    root = sys.argv[1] if len(sys.argv) > 1 else here
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_formats: {len(problems)} place(s) outside a format's own files know "
              "a format (ARCHITECTURE.md, 'Adding a format')")
        return 1
    print("check_formats: only lib/format's own files and the table know the formats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
