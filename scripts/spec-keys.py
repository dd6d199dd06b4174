#!/usr/bin/env python3
"""Writes app/appcheck/testdata/splunk-9.2/<name>.keys: the stanzas and keys a Splunk .conf.spec
file declares, for the appcheck test that holds default/*.conf to them.

Usage: scripts/spec-keys.py SPEC_DIR COMMIT
SPEC_DIR holds Splunk's own spec files (splunk/vscode-extension-splunk, spec_files/9.2/, read
outside this repository); COMMIT is that repository's commit, recorded in each output file.

Output: '[stanza pattern]' lines, each followed by the key patterns the spec declares under it
('<...>' is a placeholder), a key marked ' deprecated' where the spec says so. Keys before the
first stanza apply to every stanza. inputs.conf.spec keeps only its general settings and its
Modular Inputs section: the rest is for monitor://, tcp:// and other inputs this app has none of.
"""
import os
import re
import sys

FILES = ["app", "collections", "commands", "eventtypes", "inputs", "macros", "props",
         "savedsearches", "searchbnf", "tags", "transforms"]
KEY = re.compile(r"^([^\s#*\[=][^=]*?)\s*=")
STANZA = re.compile(r"^\[(.*)\]\s*$")
VALID_KEY = re.compile(r"^[A-Za-z0-9_.<>:|$-]+$")  # prose lines with an = are not keys
DEPRECATED_BULLET = re.compile(r"^\*\s*(This setting is\s+)?(DEPRECATED|Deprecated)\b")


def parse(path, name):
    lines = open(path, encoding="utf-8").read().splitlines()
    version = next((l.strip("# ").strip() for l in lines[:3] if "Version" in l), "?")
    stanzas = [["", []]]  # [pattern, [[key, deprecated]]]
    deprecated_section = deprecated_next = False
    keep = True  # inputs.conf: only general settings and the Modular Inputs section
    for i, line in enumerate(lines):
        if name == "inputs" and line.startswith("# ") and i > 0 and lines[i - 1].startswith("####"):
            title = line[2:].strip()
            keep = title in ("GLOBAL SETTINGS", "GENERAL SETTINGS:", "Modular Inputs")
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            if re.fullmatch(r"Deprecated settings", title, re.I):
                deprecated_section = True
            elif title and not title.startswith("*") and i > 0 and lines[i - 1].startswith("#***"):
                deprecated_section = False
            deprecated_next = bool(re.fullmatch(r"Deprecated", title, re.I))
            continue
        if not keep:
            continue
        m = STANZA.match(line)
        if m:
            stanzas.append([m.group(1), []])
            continue
        m = KEY.match(line)
        if m and VALID_KEY.match(m.group(1).strip()):
            stanzas[-1][1].append([m.group(1).strip(), deprecated_section or deprecated_next])
            deprecated_next = False
            continue
        if DEPRECATED_BULLET.match(line) and stanzas[-1][1]:
            stanzas[-1][1][-1][1] = True
    return version, stanzas


def main():
    spec_dir, commit = sys.argv[1], sys.argv[2]
    out_dir = os.path.join(os.path.dirname(__file__), "..", "app", "appcheck", "testdata", "splunk-9.2")
    for name in FILES:
        version, stanzas = parse(os.path.join(spec_dir, name + ".conf.spec"), name)
        with open(os.path.join(out_dir, name + ".keys"), "w", encoding="utf-8") as f:
            f.write(f"# Stanzas and keys of Splunk's {name}.conf.spec ({version}), from\n")
            f.write(f"# github.com/splunk/vscode-extension-splunk spec_files/9.2/{name}.conf.spec at {commit};\n")
            f.write("# written by scripts/spec-keys.py.\n")
            seen = set()
            for pattern, keys in stanzas:
                if pattern == "" and not keys:
                    continue
                f.write(f"[{pattern}]\n")
                for key, dep in keys:
                    if (pattern, key) in seen:
                        continue
                    seen.add((pattern, key))
                    f.write(key + (" deprecated" if dep else "") + "\n")


main()
