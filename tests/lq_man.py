# SPDX-License-Identifier: LGPL-2.1-or-later
"""lq_man: the manual pages agree with the binary's own help.

lvqcow.8 has one ".SS" per command under COMMANDS; its set equals the
commands "lvqcow --help" lists.  In each command's section the options
(-x, --long) are exactly those "lvqcow CMD --help" prints (for img: the
img help and every "lvqcow img SUB --help"), and the img section's items
are exactly the img subcommands.  --help itself is left out on both
sides.  Prints OK, or the first failure and exits 1.

    lq_man.py LVQCOW MAN8"""
import re
import subprocess
import sys

OPT = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
lq, man8 = sys.argv[1], sys.argv[2]
failures = []


def help_of(*args):
    p = subprocess.run([lq, *args], capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout or p.stderr:
        failures.append("lvqcow %s: status %d, stderr %r" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def options(text):
    return set(OPT.findall(text)) - {"--help", "-h"}


def listed(text, after):
    """First words of the indented lines after the line starting with after."""
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith(after)) + 1
    return {m.group(1) for ln in lines[start:] for m in [re.match(r"^  ([a-z][\w-]*)\s", ln)] if m}


def roff_text(src):
    """The words of roff source: escapes for '-' and fonts undone, requests
    kept as text (their arguments are words of the page too)."""
    src = src.replace("\\-", "-").replace("\\%", "").replace("\\e", "\\")
    src = re.sub(r"\\f(\[[^]]*\]|.)", "", src)
    return src


def sections(src):
    """{command: source of its .SS section} under .SH COMMANDS."""
    body = src.split("\n.SH COMMANDS\n", 1)[1].split("\n.SH ", 1)[0]
    parts = re.split(r"^\.SS (.+)$", body, flags=re.M)
    return {parts[i].strip('"'): parts[i + 1] for i in range(1, len(parts), 2)}


def items(section):
    """First words of the .TP tags of a section."""
    return set(re.findall(r"^\.TP\n(?:\.B\w* )?([a-z][\w-]*)", section, flags=re.M))


def compare(what, want, got):
    if want != got:
        failures.append("%s: only in --help: %s; only in lvqcow.8: %s"
                        % (what, sorted(want - got) or "-", sorted(got - want) or "-"))


src = roff_text(open(man8).read())
top = help_of("--help")
commands = listed(top, "commands:")
secs = sections(src)
compare("commands", commands, set(secs))
img_subs = listed(help_of("img", "help"), "usage:")
for c in sorted(commands & set(secs)):
    if c == "img":
        text = help_of("img", "help") + "".join(help_of("img", s, "--help") for s in img_subs - {"help"})
        compare("img subcommands", img_subs, items(secs[c]))
    else:
        text = help_of(c, "--help")
    compare("options of %s" % c, options(text), options(secs[c]))
if len(commands) < 5 or len(img_subs) < 10:
    failures.append("help parsed to too little: %s %s" % (commands, img_subs))
if failures:
    print("FAILED: " + "\n".join(failures))
    sys.exit(1)
print("OK")
