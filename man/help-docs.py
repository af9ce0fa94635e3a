#!/usr/bin/env python3
"""Write signgate(1) and the bash and zsh completions from the built binary's
own --help texts, so that none of them can drift from the program.

    help-docs.py SIGNGATE VERSION MAN_TEMPLATE BASH_TEMPLATE ZSH_TEMPLATE OUTDIR

The commands are those `signgate --help` lists under "Commands:" (and the
subcommands each group's `--help` shows in its Usage lines); each one's
`--help` is run and becomes a section of the man page; its options (the
Options lines and every option its Usage names) and their arguments feed the
completions. Python's standard library only; a build-time tool, never
installed.
"""
import os
import re
import subprocess
import sys
import time

OPT_RE = re.compile(
    r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)"
    r"(?:[ =]([A-Z][A-Za-z0-9_.:-]*(?:\|[A-Za-z0-9_.:-]+)*|[a-z0-9-]+(?:\|[a-z0-9-]+)+))?")


def run_help(binary, words):
    out = subprocess.run([binary, *words, "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=False, text=True,
                         env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    if out.returncode != 0:
        sys.exit(f"help-docs.py: '{' '.join(['signgate', *words, '--help'])}' "
                 f"exited {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def section(text, title):
    """The lines of a 'Title:' block: from the title to the next blank line."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith(title):
            inside = True
            continue
        if inside and not line.strip():
            break
        if inside:
            lines.append(line)
    return lines


def top_commands(top):
    """[(group, sub-or-None)] in the order of the top help's Commands block."""
    found = []
    for line in section(top, "Commands:"):
        m = re.match(r"^  ([a-z][a-z-]*)((?: [a-z][a-z-]*(?: \| [a-z][a-z-]*)*)?)(?=\s|$)", line)
        if not m:
            continue
        subs = [s for s in re.split(r"[ |]+", m.group(2)) if s]
        for sub in subs or [None]:
            if (m.group(1), sub) not in found:
                found.append((m.group(1), sub))
    return found


def discover(binary):
    top = run_help(binary, [])
    order, helps = [], {}
    for group, sub in top_commands(top):
        if group not in helps and sub is not None:
            helps[group] = run_help(binary, [group])
            # A group's own help may name subcommands the top list folds.
            for m in re.finditer(r"signgate %s ([a-z][a-z-]*)" % re.escape(group),
                                 helps[group]):
                if (group, m.group(1)) not in order:
                    order.append((group, m.group(1)))
        key = (group, sub)
        if key not in order:
            order.append(key)
    # Keep the top list's order, groups' extra subcommands after their siblings.
    groups = [g for g, _ in order]
    order.sort(key=lambda k: groups.index(k[0]))
    cmds = []
    for group, sub in order:
        words = [group] + ([sub] if sub else [])
        cmds.append((" ".join(words), run_help(binary, words)))
    return top, cmds


def parse_options(help_text):
    """{option: {"arg": METAVAR or None, "desc": text, "short": alias}} of one help."""
    opts = {}

    def add(name, arg, desc=""):
        o = opts.setdefault(name, {"arg": None, "desc": "", "alias": None})
        if arg and not o["arg"]:
            o["arg"] = arg
        if desc and not o["desc"]:
            o["desc"] = desc

    lines = help_text.splitlines()
    in_usage = False
    for i, line in enumerate(lines):
        if line.startswith("Usage:"):
            in_usage = True
        elif not line.startswith(" "):
            in_usage = False
        if in_usage:
            for m in OPT_RE.finditer(line):
                add(m.group(1), m.group(2))
            continue
        stripped = line.lstrip()
        if not stripped.startswith("-") or len(line) - len(stripped) > 8:
            continue
        spec, desc = split_term(stripped)
        if desc is None:
            desc = ""
        # Continuation lines of the description (indented deeper).
        indent = len(line) - len(stripped)
        for nxt in lines[i + 1:]:
            s = nxt.lstrip()
            if not s or len(nxt) - len(s) <= indent or s.startswith("-"):
                break
            desc += " " + s
        prev_short = None
        for m in OPT_RE.finditer(spec):
            name, arg = m.group(1), m.group(2)
            if arg and spec.rstrip().endswith(arg + "|") and i + 1 < len(lines):
                arg += "|" + lines[i + 1].split()[0]  # a list of values on two lines
            add(name, arg, desc.strip())
            if name.startswith("--") and prev_short:
                opts[prev_short]["alias"] = name
                opts[name]["alias"] = prev_short
            prev_short = name if not name.startswith("--") else None
    for o in opts.values():
        if o["alias"] and not o["arg"]:
            o["arg"] = opts[o["alias"]]["arg"]
    opts.pop("-", None)
    return opts


SPEC_RE = re.compile(r"(?:" + OPT_RE.pattern + r")(?:, (?:" + OPT_RE.pattern + r"))*")


def split_term(text):
    """Split an item line into its term and description: after the option
    specs it starts with ("--files-from LIST more INPUTs"), else at the first
    gap of 2+ spaces; never before another option or a synopsis bracket."""
    m = SPEC_RE.match(text) if text.startswith("-") else None
    if m:
        rest = text[m.end():].lstrip()
        if rest and rest[0] not in "-[(|":
            return text[:m.end()], rest
    for m in re.finditer(r"\s{2,}", text):
        rest = text[m.end():]
        if rest and rest[0] not in "-[(|":
            return text[:m.start()], rest
    return text, None


# ---- man page -------------------------------------------------------------

def roff_escape(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def roff_bold_options(text):
    """Escaped text with option names in bold."""
    out, pos = [], 0
    for m in re.finditer(r"(?<![\w-])--?[A-Za-z][A-Za-z0-9-]*", text):
        out.append(roff_escape(text[pos:m.start()]))
        out.append("\\fB" + roff_escape(m.group(0)) + "\\fR")
        pos = m.end()
    out.append(roff_escape(text[pos:]))
    res = "".join(out)
    return res if not res.startswith("\\fB.") else "\\&" + res


def render_help(text):
    """roff for one command's --help: Usage as a no-fill block, paragraphs
    filled, indented items as tagged paragraphs."""
    out = []
    blocks, cur = [], []
    for line in text.rstrip("\n").splitlines():
        if not line.strip():
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append(cur)
    for block in blocks:
        i = 0
        while i < len(block):
            line = block[i]
            if line.startswith("Usage:"):
                out.append(".PP\n.nf")
                while i < len(block) and (block[i].startswith("Usage:") or block[i].startswith(" ")):
                    # Without "Usage: ", its continuation lines move left as far.
                    text = block[i][7:] if block[i][:7] in ("Usage: ", " " * 7) else block[i]
                    out.append(roff_bold_options(text))
                    i += 1
                out.append(".fi")
                continue
            if not line.startswith(" "):
                para = []
                while i < len(block) and not block[i].startswith(" "):
                    heading = block[i].endswith(":") and i + 1 < len(block) and \
                        block[i + 1].startswith(" ")
                    if heading and para:
                        break  # "Example:" over its indented lines: a paragraph of its own
                    para.append(block[i])
                    i += 1
                    if heading:
                        break
                out.append(".PP")
                out.append(roff_bold_options(" ".join(para)))
                continue
            i = render_items(block, i, out)
    return "\n".join(out)


def is_option_item(line):
    """An Options line: an option spec at a small indent ("      --out FILE")."""
    s = line.lstrip()
    return s.startswith("-") and len(line) - len(s) <= 8


def render_items(block, i, out):
    """Indented lines from block[i]: one .TP per line at the items' indent,
    deeper lines continue its description."""
    base = len(block[i]) - len(block[i].lstrip())
    out.append(".RS 4")
    while i < len(block) and block[i].startswith(" "):
        line = block[i]
        indent = len(line) - len(line.lstrip())
        if indent < base:
            break
        term, desc = split_term(line.strip())
        i += 1
        extra_term, text = [], [desc] if desc else []
        while i < len(block) and block[i].startswith(" ") and \
                len(block[i]) - len(block[i].lstrip()) > base and not is_option_item(block[i]):
            s = block[i].strip()
            if not text and s[:1] in "[(|":
                extra_term.append(s)
            else:
                text.append(s)
            i += 1
        full_term = " ".join([term] + extra_term)
        if text:
            out.append(".TP")
            out.append(roff_bold_options(full_term))
            out.append(roff_bold_options(" ".join(text)))
        else:
            out.append(".PP\n.nf")
            out.append(roff_bold_options(full_term))
            out.append(".fi")
    out.append(".RE")
    return i


def man_page(template, version, top, cmds):
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    date = time.strftime("%Y-%m-%d", time.gmtime(epoch))
    top_lines = top.splitlines()
    desc = []
    for j, line in enumerate(top_lines):
        if j > 1 and line.startswith("Commands:"):
            break
        if j > 1 and line.strip():
            desc.append(line)
    m = re.search(r"^Exit codes:(.*?)(?:\n\n|\Z)", top, re.S | re.M)
    exit_text = " ".join(m.group(1).split()) if m else ""
    parts = []
    shown = {}
    for name, text in cmds:
        group = name.split()[0]
        if text in shown.values() and name != group:
            parts.append('.SS "signgate %s"\n.PP\nSee \\fBsigngate %s\\fR above '
                         '(the same help).' % (name, [k for k, v in shown.items() if v == text][0]))
            continue
        shown[name] = text
        parts.append('.SS "signgate %s"' % name)
        parts.append(render_help(text))
    codes = []
    for code, what in re.findall(r"(\d) ([^;]+?)(?:;|\.$|$)", exit_text):
        codes.append(".TP\n.B %s\n%s" % (code, roff_escape(what.strip().rstrip("."))))
    page = template
    for key, val in (("@VERSION@", version), ("@DATE@", date),
                     ("@DESCRIPTION@", roff_bold_options(" ".join(l.strip() for l in desc))),
                     ("@COMMANDS@", "\n".join(parts)),
                     ("@EXIT_STATUS@", "\n".join(codes))):
        page = page.replace(key, val)
    return page


# ---- completions ----------------------------------------------------------

NO_ARG_HINTS = {"N", "DAYS", "HEX", "SHA256", "SHA1", "PREFIX", "ID", "NAME", "USER",
                "TIME", "DATE", "V", "T", "P", "URL", "TEXT", "WHY", "REASON", "FPR",
                "YYYY-MM-DD", "SECONDS", "COUNT"}


def arg_kind(option, metavar):
    """What an option's argument completes to: a file kind, words, or none."""
    if not metavar:
        return None
    if "|" in metavar and metavar == metavar.lower():
        return "words:" + metavar.replace("|", " ")
    if metavar in NO_ARG_HINTS:
        return "none"
    if metavar == "DIR" or option in ("--out-dir", "--rejected"):
        return "dir"
    if option == "--policy":
        return "policy"
    if option in ("--config", "--catalog-out"):
        return "json"
    if option == "--log":
        return "log"
    if option in ("--key",):
        return "key"
    if option in ("--cert", "--ca", "--crl", "--chain", "--tsa-ca", "--approvers-ca",
                  "--seal-cert"):
        return "cert"
    if option in ("--pkcs11-module", "--pkcs11-engine"):
        return "module"
    return "file"


def usage_lines(help_text):
    """The Usage block: its first line and the indented lines right after."""
    lines, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("Usage:"):
            inside = True
        elif not line.startswith(" "):
            inside = False
        if inside:
            lines.append(line)
    return lines


def positional_kind(help_text):
    """What the operands complete to, from the Usage lines' operand words
    (an option's own argument, "--log FILE...", is not an operand)."""
    usage = "\n".join(usage_lines(help_text))
    kinds = {"INPUT": "input", "INSTALLER": "input", "FILE": "input",
             "APPROVAL_FILE": "json", "INBOX": "dir", "OUTBOX": "dir"}
    for m in re.finditer(r"(--?[\w-]+ )?\b(INPUT|INSTALLER|APPROVAL_FILE|INBOX|OUTBOX|FILE)"
                         r"(\.\.\.)?(?![\w|])", usage):
        if m.group(1) or (m.group(2) == "FILE" and not m.group(3)):
            continue
        return kinds[m.group(2)]
    return "none"


def extensions(cmds):
    for _, text in cmds:
        m = re.search(r"(\.[a-z0-9]{2,5}(?:\s+\.[a-z0-9]{2,5}){3,})", text)
        if m:
            return [e[1:] for e in m.group(1).split()]
    sys.exit("help-docs.py: no list of signable extensions found in any --help")


def model(cmds):
    result = []
    for name, text in cmds:
        opts = parse_options(text)
        entries = []
        for opt, info in sorted(opts.items()):
            named = info["alias"] if info["alias"] and not opt.startswith("--") else opt
            entries.append((opt, arg_kind(named, info["arg"]), info["desc"]))
        result.append((name, entries, positional_kind(text)))
    return result


def bash_data(top_cmds, mdl, exts):
    groups = {}
    for name, _, _ in mdl:
        words = name.split()
        if len(words) == 2:
            groups.setdefault(words[0], []).append(words[1])
    lines = ["_signgate_commands='%s'" % " ".join(top_cmds),
             "_signgate_extensions='%s'" % "|".join(exts),
             "declare -gA _signgate_subcommands=("]
    for g, subs in groups.items():
        lines.append("\t[%s]='%s'" % (g, " ".join(subs)))
    lines.append(")")
    lines.append("declare -gA _signgate_options=(")
    for name, entries, _ in mdl:
        lines.append("\t['%s']='%s'" % (name, " ".join(e[0] for e in entries)))
    lines.append(")")
    lines.append("declare -gA _signgate_argkind=(")
    for name, entries, _ in mdl:
        for opt, kind, _ in entries:
            if kind:
                lines.append("\t['%s %s']='%s'" % (name, opt, kind))
    lines.append(")")
    lines.append("declare -gA _signgate_positional=(")
    for name, _, pos in mdl:
        lines.append("\t['%s']='%s'" % (name, pos))
    lines.append(")")
    return "\n".join(lines)


def zsh_quote(text):
    text = re.sub(r"[\[\]:'\\`$]", "", text)
    text = text.split(". ")[0].split("; ")[0]
    return text[:70]


ZSH_ACTIONS = {
    "dir": "_files -/",
    "json": '_files -g "*.json(-.)"',
    "policy": '_files -g "*.json(-.)"',
    "log": '_files -g "(*.log|*.log.*|*.jsonl|*.jsonl.*)(-.)"',
    "key": '_files -g "(*.pem|*.key|*.p12|*.pfx)(-.)"',
    "cert": '_files -g "(*.pem|*.crt|*.cer|*.der|*.crl)(-.)"',
    "module": '_files -g "*.so(-.)"',
    "file": "_files",
    "none": " ",
}


def zsh_data(top, top_cmds, mdl, exts):
    # A command's description: the first line below its synopsis lines in
    # the top help that starts neither with an option nor a bracket.
    descs, current = {}, None
    for line in section(top, "Commands:"):
        m = re.match(r"^  ([a-z]+)", line)
        if m:
            current = m.group(1)
        elif current and current not in descs and line.strip()[:1] not in "-[(|":
            descs[current] = line.strip()
    groups = {}
    for name, _, _ in mdl:
        w = name.split()
        if len(w) == 2:
            groups.setdefault(w[0], []).append(w[1])
    out = ["_signgate_commands=("]
    for c in top_cmds:
        d = ", ".join(groups[c]) if c in groups else descs.get(c, "")
        out.append("\t'%s:%s'" % (c, zsh_quote(d) if c not in groups else d))
    out.append(")")
    out.append("typeset -gA _signgate_subcommands")
    out.append("_signgate_subcommands=(")
    for g, subs in groups.items():
        out.append("\t%s '%s'" % (g, " ".join(subs)))
    out.append(")")
    out.append("_signgate_args() {\n\tcase $1 in")
    pattern = "*.(%s)(-.)" % "|".join(exts)
    for name, entries, pos in mdl:
        specs = []
        for opt, kind, desc in entries:
            d = zsh_quote(desc) or opt
            if kind is None:
                specs.append("'%s[%s]'" % (opt, d))
            elif kind.startswith("words:"):
                specs.append("'%s[%s]:value:(%s)'" % (opt, d, kind[6:]))
            else:
                specs.append("'%s[%s]:%s:%s'" % (opt, d, kind, ZSH_ACTIONS[kind]))
        if pos == "input":
            specs.append("'*:input:_files -g \"%s\"'" % pattern)
        elif pos == "json":
            specs.append("'*:approval file:_files -g \"*.json(-.)\"'")
        elif pos == "dir":
            specs.append("'*:folder:_files -/'")
        out.append("\t'%s')\n\t\t_arguments -s -S \\\n\t\t\t%s\n\t\t;;" %
                   (name, " \\\n\t\t\t".join(specs)))
    out.append("\tesac\n}")
    return "\n".join(out)


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    binary, version, man_t, bash_t, zsh_t, outdir = sys.argv[1:]
    top, cmds = discover(binary)
    top_cmds = []
    for name, _ in cmds:
        if name.split()[0] not in top_cmds:
            top_cmds.append(name.split()[0])
    mdl = model(cmds)
    exts = extensions(cmds)
    with open(man_t, encoding="utf-8") as f:
        page = man_page(f.read(), version, top, cmds)
    with open(bash_t, encoding="utf-8") as f:
        bash = f.read().replace("@DATA@", bash_data(top_cmds, mdl, exts))
    with open(zsh_t, encoding="utf-8") as f:
        zsh = f.read().replace("@DATA@", zsh_data(top, top_cmds, mdl, exts))
    for name, text in (("signgate.1", page), ("signgate.bash", bash), ("_signgate", zsh)):
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(outdir, name))


if __name__ == "__main__":
    main()
