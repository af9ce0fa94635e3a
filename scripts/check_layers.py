#!/usr/bin/env python3
"""The layering of lib/ (ARCHITECTURE.md), checked on every #include.

    check_layers.py [ROOT]     check the tree at ROOT (default: this repo)
    check_layers.py --self-test

Which folder may use which comes from the DEPS of sg_layer() in each
lib/<folder>/CMakeLists.txt (the folders right below it; it may use those
and, transitively, all they may use). The rules:
  - every source file of lib/ is in a folder that has an sg_layer();
  - a file in lib/<folder>/ includes headers of its own folder, of the
    folders it may use, and public headers (include/signgate/) owned by
    those folders; the owner of include/signgate/X.h is the folder whose
    sg_layer() lists it in HEADERS, else the folder of lib/*/X.c (or of X
    without its last _word, and so on);
  - it never includes another folder's *_internal.h, nor names a path
    ("../core/util.h", "core/util.h"): a header is included by its name;
  - public headers include only public headers;
  - tools/ include only public headers and their own.
Prints one line per violation (file:line: what) and exits 1 if any.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LAYER = re.compile(r'^\s*sg_layer\(([^)]*)\)', re.M)
KEYWORDS = ("DEPS", "HEADERS", "SOURCES")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def includes(path):
    text = read(path)
    for m in INCLUDE.finditer(text):
        yield text.count("\n", 0, m.start()) + 1, m.group(1)


def load_layers(root, problems, headers):
    """{folder: set of direct deps} from lib/<folder>/CMakeLists.txt; fills
    `headers` with {public header: folder} from their HEADERS."""
    lib = os.path.join(root, "lib")
    layers = {}
    for name in sorted(os.listdir(lib)):
        path = os.path.join(lib, name)
        if not os.path.isdir(path):
            if name.endswith((".c", ".h")):
                problems.append(f"lib/{name}: a source file outside a folder of lib/")
            continue
        cml = os.path.join(path, "CMakeLists.txt")
        m = LAYER.search(read(cml)) if os.path.exists(cml) else None
        words = m.group(1).split() if m else []
        if not words or words[0] != name:
            problems.append(f"lib/{name}/: no sg_layer({name} ...) in its CMakeLists.txt")
            continue
        args, key = {k: [] for k in KEYWORDS}, None
        for w in words[1:]:
            if w in KEYWORDS:
                key = w
            elif key:
                args[key].append(w)
        layers[name] = set(args["DEPS"])
        for h in args["HEADERS"]:
            headers[h] = name
    return layers


def allowed(layers, problems):
    """{folder: every folder it may use}, the transitive DEPS."""
    out = {}
    for name in layers:
        seen, todo = set(), list(layers[name])
        while todo:
            d = todo.pop()
            if d in seen:
                continue
            if d not in layers:
                problems.append(f"lib/{name}/CMakeLists.txt: DEPS names {d}, not a folder of lib/")
                continue
            seen.add(d)
            todo.extend(layers[d])
        if name in seen:
            problems.append(f"lib/{name}/CMakeLists.txt: its DEPS lead back to {name} (a cycle)")
        out[name] = seen
    return out


def public_owner(root, layers, header, headers):
    """The folder that implements include/signgate/<header>, or None."""
    if header in headers:
        return headers[header]
    stem = header[:-2]
    while stem:
        for name in layers:
            if os.path.exists(os.path.join(root, "lib", name, stem + ".c")):
                return name
        stem = stem.rpartition("_")[0]
    return None


def check_lib_file(root, layers, may, headers, folder, path, problems):
    rel = os.path.relpath(path, root)
    for line, inc in includes(path):
        where = f"{rel}:{line}"
        if inc.startswith("signgate/"):
            header = inc[len("signgate/"):]
            if not os.path.exists(os.path.join(root, "include", inc)):
                problems.append(f"{where}: {inc} is not in include/signgate/")
                continue
            owner = public_owner(root, layers, header, headers)
            if owner is None:
                problems.append(f"{where}: no folder of lib/ owns include/{inc}: name it "
                                "after its .c file or list it in HEADERS of its sg_layer()")
            elif owner != folder and owner not in may[folder]:
                problems.append(f"{where}: lib/{folder} includes {inc} of lib/{owner}, "
                                f"which lib/{folder} may not use")
            continue
        if "/" in inc:
            problems.append(f"{where}: include \"{inc}\" by its name, not by a path")
            continue
        if os.path.exists(os.path.join(root, "lib", folder, inc)):
            continue
        owners = [n for n in layers if os.path.exists(os.path.join(root, "lib", n, inc))]
        if not owners:
            problems.append(f"{where}: {inc} is in no folder of lib/")
        elif inc.endswith("_internal.h"):
            problems.append(f"{where}: lib/{folder} includes {inc}, internal to lib/{owners[0]}")
        elif owners[0] not in may[folder]:
            problems.append(f"{where}: lib/{folder} includes {inc} of lib/{owners[0]}, "
                            f"which lib/{folder} may not use")


def check_other(root, problems):
    pub = os.path.join(root, "include", "signgate")
    for name in sorted(os.listdir(pub)):
        for line, inc in includes(os.path.join(pub, name)):
            if not inc.startswith("signgate/"):
                problems.append(f"include/signgate/{name}:{line}: a public header includes "
                                f"\"{inc}\", not a public header")
    tools = os.path.join(root, "tools")
    for name in sorted(os.listdir(tools)):
        if not name.endswith((".c", ".h")):
            continue
        for line, inc in includes(os.path.join(tools, name)):
            if not inc.startswith("signgate/") and not os.path.exists(os.path.join(tools, inc)):
                problems.append(f"tools/{name}:{line}: tools include only public headers "
                                f"(include/signgate/), not \"{inc}\"")


def check(root):
    problems, headers = [], {}
    layers = load_layers(root, problems, headers)
    may = allowed(layers, problems)
    for folder in sorted(layers):
        base = os.path.join(root, "lib", folder)
        for dirpath, _, names in os.walk(base):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    check_lib_file(root, layers, may, headers, folder,
                                   os.path.join(dirpath, name), problems)
    check_other(root, problems)
    return problems


def self_test(root):
    """A clean copy passes; each planted bad include fails, naming the rule."""
    plants = [
        ("lib/core/util.c", '#include "signgate/pipeline.h"', "which lib/core may not use"),
        ("lib/format/format.c", '#include "authenticode.h"', "which lib/format may not use"),
        ("lib/audit/audit.c", '#include "signgate/manifest.h"', "which lib/audit may not use"),
        ("lib/sign/verify.c", '#include "cfb_internal.h"', "internal to lib/format"),
        ("lib/sign/verify.c", '#include "../core/wire.h"', "by its name, not by a path"),
        ("include/signgate/util.h", '#include "wire.h"', "not a public header"),
        ("tools/cli.c", '#include "policy_internal.h"', "tools include only public headers"),
    ]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("lib", "include", "tools"):
            shutil.copytree(os.path.join(root, part), os.path.join(tmp, part))
        clean = check(tmp)
        if clean:
            print("self-test: the clean tree fails:\n  " + "\n  ".join(clean))
            failed += 1
        for rel, line, expect in plants:
            path = os.path.join(tmp, rel)
            before = read(path)
            with open(path, "w", encoding="utf-8") as f:
                f.write(line + "\n" + before)
            got = check(tmp)
            with open(path, "w", encoding="utf-8") as f:
                f.write(before)
            hits = [p for p in got if p.startswith(rel + ":1:") and expect in p]
            if len(got) != 1 or not hits:
                print(f"self-test: {line} in {rel} should fail once with \"{expect}\"; got {got}")
                failed += 1
        # A public header not named after a .c file: owned once HEADERS lists it.
        with open(os.path.join(tmp, "include/signgate/key_source.h"), "w") as f:
            f.write("/* planted */\n")
        steps = [
            ("lib/keys/keys.c", "no folder of lib/ owns include/signgate/key_source.h"),
            ("lib/keys/CMakeLists.txt", None),
            ("lib/crypto/cert.c", "includes signgate/key_source.h of lib/keys, which lib/crypto"),
        ]
        for rel, expect in steps:
            path = os.path.join(tmp, rel)
            if expect is None:
                text = read(path).replace("sg_layer(keys", "sg_layer(keys HEADERS key_source.h")
            else:
                text = '#include "signgate/key_source.h"\n' + read(path)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            got = check(tmp)
            want = [p for p in got if expect and expect in p]
            if (expect and (len(got) != 1 or not want)) or (not expect and got):
                print(f"self-test: key_source.h, {rel}: expected {expect}; got {got}")
                failed += 1
        os.remove(os.path.join(tmp, "include/signgate/key_source.h"))
        shutil.rmtree(os.path.join(tmp, "lib"))
        shutil.copytree(os.path.join(root, "lib"), os.path.join(tmp, "lib"))
        # The script itself, as CTest runs it: exit 1 and the message on a bad tree.
        path = os.path.join(tmp, "lib/config/config.c")
        before = read(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write('#include "proc.h"\n' + before)
        run = subprocess.run([sys.executable, os.path.abspath(__file__), tmp],
                             capture_output=True, text=True)
        if run.returncode != 1 or "lib/config/config.c:1: lib/config includes proc.h of lib/confine" \
                not in run.stdout:
            print(f"self-test: the script passed a bad tree (exit {run.returncode}): {run.stdout}")
            failed += 1
    print(f"self-test: {len(plants) + 5 - failed} of {len(plants) + 5} checks passed")
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
        print(f"check_layers: {len(problems)} include(s) break the layering (ARCHITECTURE.md)")
        return 1
    print("check_layers: lib/ includes follow the layering")
    return 0


if __name__ == "__main__":
    sys.exit(main())
