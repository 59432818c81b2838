"""Checks that docs/cli.md documents the flags the tools' --help prints, and no others.

Usage (cli-doc.test runs it):

    check_cli_doc.py CLI.md PASSES.md --quarc Q --executable EXE --quarc-opt O
                     --quarc-translate T --mlir-opt MO --mlir-translate MT

Only long flags (`--name`) are compared; short ones (`-o`, `-h`) and MLIR's
single-dash spellings of pass names are not. A flag is *documented* for a tool
when it appears in the tool's section of cli.md (`### quarc CMD`,
`## quarc-translate`, `## quarc-opt`) in the first column of a table, or, for
quarc's commands, in the command's synopsis line in the code block under
`## quarc`. The flags of the table in `## quarc` itself, before the first
command, and of its `quarc COMMAND ...` synopsis line are documented for
every command (and must be mentioned somewhere in `quarc --help`). Flags in
prose are cross-references and do not count. A value written in lower case
(`--quantize=int8`) is a choice and is compared too; an upper-case one
(`--target=T`, `--data DIR`) is a placeholder.

quarc and its commands (`quarc --help` and `quarc CMD --help`; today one text
covers every command, split into sections by its unindented lines "compile
...", "run ...", "calibrate ...", "report ...", "quantize ..."):

- every flag with an option line of its own in a command's section, or in the
  command's usage line, must be documented for that command;
- every flag documented for a command must be mentioned in that section;
- `run` takes the flags of compile's option list (not those marked "compile
  only") and the options of a compiled executable's --help (EXE), whose
  command line `quarc run` shares; `--help` is checked once, for `quarc`.

quarc-translate and quarc-opt print LLVM's and MLIR's generic flags too. The
rule that separates them: a flag is generic when upstream mlir-translate /
mlir-opt of the same LLVM installation prints it as well. Then:

- quarc-translate: every flag it prints that mlir-translate does not must be
  documented; every flag documented must be printed (generic ones included).
- quarc-opt: every pass pipeline (the "Pass Pipelines:" list) that mlir-opt
  does not have must be documented with all of its options (written
  `--pipeline='opt=... flag'` in the table); every documented flag, pipeline
  and pipeline option must be printed; every pass that mlir-opt does not have
  must have its section in docs/passes.md (a heading "### `-name`").

A few flags work but are not printed by --help (KNOWN_UNLISTED): they are run
to check that they work, and listed in --help one day, they must be removed
from that list. Exit status 1 with one line per problem.
"""

import argparse
import re
import subprocess
import sys

# Flags that work but that --help does not print, with the reason and a
# command line (after the tool) that must succeed with some output.
KNOWN_UNLISTED = {
    ("quarc-translate", "--list-onnx-ops"): (
        "handled by quarc-translate's main() before the command-line parser "
        "(tools/quarc-translate/quarc-translate.cpp)",
        ["--list-onnx-ops"],
    ),
}

COMMANDS = ["compile", "run", "calibrate", "report", "quantize"]

# One flag at the start of an option line of the help: `--name`,
# `--name=VALUE`, or `--name PLACEHOLDER` (one space, upper case first).
OPTION_FLAG = re.compile(
    r"(?P<name>--?[A-Za-z][\w-]*)"
    r"(?:=(?P<value>\S+?)(?=,\s|\s|$)|\ (?P<placeholder>[A-Z]\S*?)(?=,\s|\s|$))?"
)
# Any flag in running text: `--name` or `--name=value`.
TEXT_FLAG = re.compile(r"(?<![\w-])(--[a-z][\w-]*)(?:=([^\s`'\"\]\)|,;]+))?")
LITERAL = re.compile(r"[a-z0-9][a-z0-9.-]*")


class Flags:
    """Flag names, and for each the literal values seen (`--quantize=int8`)."""

    def __init__(self):
        self.values = {}

    def add(self, name, value=None):
        if not name.startswith("--"):
            return
        choices = self.values.setdefault(name, set())
        if value and LITERAL.fullmatch(value):
            choices.add(value)

    def update(self, other):
        for name, choices in other.values.items():
            self.values.setdefault(name, set()).update(choices)

    def discard(self, name):
        self.values.pop(name, None)

    def names(self):
        return set(self.values)


def text_flags(text):
    flags = Flags()
    for name, value in TEXT_FLAG.findall(text):
        flags.add(name, value)
    return flags


def option_line_flags(line):
    """The flags an option line of a help text starts with (`  --a, --b X  text`)."""
    flags = Flags()
    stripped = line.lstrip()
    # Option lines are indented by 2 to 8 columns; their descriptions'
    # continuation lines by more (and may start with a flag they mention).
    if not 2 <= len(line) - len(stripped) <= 8 or not stripped.startswith("-"):
        return flags
    pos = 0
    while True:
        match = OPTION_FLAG.match(stripped, pos)
        if not match:
            break
        flags.add(match["name"], match["value"])
        pos = match.end()
        if not re.match(r",\s+-", stripped[pos:]):
            break
        pos = stripped.index("-", pos)
    return flags


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def help_text(command):
    code, out = run(command)
    if code != 0:
        sys.exit(f"error: `{' '.join(command)}` exited with {code}:\n{out}")
    return out


# --- quarc's help --------------------------------------------------------


class HelpSection:
    def __init__(self):
        self.lines = []
        self.options = []  # (Flags, description) of each option line

    def mentioned(self):
        return text_flags("\n".join(self.lines))

    def option_flags(self, skip=lambda description: False):
        flags = Flags()
        for option, description in self.options:
            if not skip(description):
                flags.update(option)
        return flags


def split_quarc_help(text):
    """The usage lines by command, and the sections by command ("" = top)."""
    usage = {}
    sections = {"": HelpSection()}
    current = ""
    in_usage = False
    last_usage = None
    for line in text.splitlines():
        if line.startswith("usage:"):
            in_usage = True
            continue
        if in_usage:
            if not line.strip():
                in_usage = False
                continue
            words = line.split()
            if words[0] == "quarc" and len(words) > 1:
                last_usage = words[1] if words[1] in COMMANDS else ""
            usage.setdefault(last_usage, []).append(line)
            continue
        if line and not line[0].isspace():
            word = line.split()[0]
            if word in COMMANDS:
                current = word
                sections.setdefault(current, HelpSection())
        section = sections[current]
        section.lines.append(line)
        flags = option_line_flags(line)
        if flags.names():
            description = line.strip()
            description = re.split(r"\s{2,}", description, maxsplit=1)
            section.options.append(
                (flags, description[1] if len(description) > 1 else ""))
        elif section.options and line.startswith(" " * 10):
            # A continuation of the previous option's description.
            previous, description = section.options[-1]
            section.options[-1] = (previous, (description + " " + line.strip()).strip())
    return {cmd: text_flags("\n".join(lines)) for cmd, lines in usage.items()}, sections


def executable_options(text):
    flags = Flags()
    mentioned = text_flags(text)
    for line in text.splitlines():
        flags.update(option_line_flags(line))
    return flags, mentioned


# --- cli.md --------------------------------------------------------------


def split_markdown(text):
    """Sections by heading text (`## quarc`, `### quarc compile`)."""
    sections = {}
    current = None
    fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and re.match(r"#{1,6} ", line):
            current = line.lstrip("#").strip()
            sections[current] = []
            continue
        if current is not None:
            sections[current].append(line)
    return sections


def table_first_column_flags(lines):
    """Flags in the first cell of table rows, and the cells themselves."""
    flags = Flags()
    cells = []
    for line in lines:
        if not line.startswith("|") or re.match(r"\|\s*-+\s*\|", line):
            continue
        cell = line.split("|")[1]
        cells.append(cell)
        for span in re.findall(r"`([^`]*)`", cell):
            flags.update(text_flags(span))
    return flags, cells


def synopsis_flags(lines):
    """Flags of each command's synopsis lines in the code block(s) of `lines`."""
    by_command = {}
    fence = False
    command = None
    for line in lines:
        if line.startswith("```"):
            fence = not fence
            command = None
            continue
        if not fence:
            continue
        words = line.split()
        if words and words[0] == "quarc":
            command = words[1] if len(words) > 1 and words[1] in COMMANDS else ""
        if command is not None:
            by_command.setdefault(command, Flags()).update(text_flags(line))
    return by_command


# --- the checks ----------------------------------------------------------


def compare(tool, section, printed, mentioned, documented, problems):
    """printed: must be documented; documented: must be in `mentioned`.
    Choices (`--quantize=int8`) are compared where the help gives any."""
    for name, choices in sorted(printed.values.items()):
        if name not in documented.values:
            problems.append(f"{tool}: --help prints {name}, which docs/cli.md's "
                         f"'{section}' section does not document (in a table's "
                         f"first column or the synopsis)")
            continue
        for choice in sorted(choices - documented.values[name]):
            problems.append(f"{tool}: --help prints {name}={choice}, which docs/cli.md's "
                         f"'{section}' section does not document")
    for name, choices in sorted(documented.values.items()):
        if (tool, name) in KNOWN_UNLISTED:
            continue
        if name not in mentioned.values:
            problems.append(f"{tool}: docs/cli.md's '{section}' section documents "
                         f"{name}, which --help does not mention")
            continue
        if mentioned.values[name]:
            for choice in sorted(choices - mentioned.values[name]):
                problems.append(f"{tool}: docs/cli.md's '{section}' section documents "
                             f"{name}={choice}, which --help does not mention")


def check_quarc(args, markdown, problems):
    top = help_text([args.quarc, "--help"])
    usage, sections = split_quarc_help(top)
    missing = [cmd for cmd in COMMANDS if cmd not in sections]
    if missing:
        problems.append(f"quarc: --help has no section for {', '.join(missing)}")
        return
    exe_options, exe_mentioned = executable_options(
        help_text([args.executable, "--help"]))
    synopses = synopsis_flags(markdown.get("quarc", []))

    if "quarc --help" not in "\n".join(markdown.get("quarc", [])):
        problems.append("quarc: docs/cli.md's synopsis does not show `quarc --help`")
    # Flags of every command: the `## quarc` section's own table and its
    # `quarc COMMAND ...` synopsis line; mentioned anywhere in --help.
    common, _ = table_first_column_flags(markdown.get("quarc", []))
    common.update(synopses.get("", Flags()))
    common.discard("--help")
    compare("quarc", "quarc", Flags(), text_flags(top), common, problems)
    for cmd in COMMANDS:
        own = help_text([args.quarc, cmd, "--help"])
        if own != top:
            # A command with its own help: all of it is about the command.
            printed = Flags()
            for line in own.splitlines():
                printed.update(option_line_flags(line))
            mentioned = text_flags(own)
        else:
            compile_only = lambda d: d.startswith("compile only")
            if cmd == "run":
                printed = sections["compile"].option_flags(skip=compile_only)
                printed.update(exe_options)
                mentioned = sections["compile"].mentioned()
                mentioned.update(sections["run"].mentioned())
                mentioned.update(exe_mentioned)
            else:
                printed = sections[cmd].option_flags()
                mentioned = sections[cmd].mentioned()
            printed.update(usage.get(cmd, Flags()))
            mentioned.update(usage.get(cmd, Flags()))
        printed.discard("--help")
        mentioned.update(printed)
        heading = f"quarc {cmd}"
        if heading not in markdown:
            problems.append(f"quarc {cmd}: docs/cli.md has no '### {heading}' section")
            continue
        documented, _ = table_first_column_flags(markdown[heading])
        documented.update(synopses.get(cmd, Flags()))
        documented.update(common)
        documented.discard("--help")
        mentioned.update(common)
        compare(f"quarc {cmd}", heading, printed, mentioned, documented, problems)


def all_option_flags(text):
    flags = Flags()
    for line in text.splitlines():
        flags.update(option_line_flags(line))
    return flags


def check_known_unlisted(tool, path, printed, problems):
    for (owner, flag), (reason, command) in KNOWN_UNLISTED.items():
        if owner != tool:
            continue
        if flag in printed.names():
            problems.append(f"{tool}: --help now prints {flag}; remove it from "
                         f"KNOWN_UNLISTED in test/Docs/check_cli_doc.py")
            continue
        code, out = run([path] + command)
        if code != 0 or not out.strip():
            problems.append(f"{tool}: {flag} is documented but not printed by --help "
                         f"({reason}), and `{tool} {' '.join(command)}` failed "
                         f"with {code}")


def check_translate(args, markdown, problems):
    ours = all_option_flags(help_text([args.quarc_translate, "--help"]))
    upstream = all_option_flags(help_text([args.mlir_translate, "--help"]))
    specific = Flags()
    for name in ours.names() - upstream.names():
        specific.add(name)
    section = "quarc-translate"
    documented, _ = table_first_column_flags(markdown.get(section, []))
    compare(section, section, specific, ours, documented, problems)
    check_known_unlisted(section, args.quarc_translate, ours, problems)
    if not specific.names():
        problems.append("quarc-translate: --help prints nothing mlir-translate does "
                     "not: the import and export translations are missing")


def opt_help_entries(text):
    """quarc-opt's --help as {flag: (list, [nested option names])}, where list
    is "Passes", "Pass Pipelines" or "" for a top-level option."""
    entries = {}
    current_list = ""
    parent = None
    parent_indent = None
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if re.fullmatch(r"(Passes|Pass Pipelines):", stripped):
            current_list, parent = stripped[:-1], None
            continue
        if stripped and indent <= 2 and not stripped.startswith("-"):
            current_list, parent = "", None  # a new category
        match = re.match(r"(--[A-Za-z][\w-]*)", stripped)
        if not match:
            continue
        name = match.group(1)
        if parent is not None and indent > parent_indent:
            entries[parent][1].append(name[2:])
            continue
        if indent <= 2:
            current_list = ""
        entries.setdefault(name, (current_list, []))
        parent, parent_indent = name, indent
    return entries


def check_opt(args, markdown, passes_md, problems):
    ours = opt_help_entries(help_text([args.quarc_opt, "--help"]))
    upstream = opt_help_entries(help_text([args.mlir_opt, "--help"]))
    section = "quarc-opt"
    lines = markdown.get(section, [])
    documented, cells = table_first_column_flags(lines)
    # Pipeline options as documented: --name='opt=... flag ...'.
    documented_options = {}
    for cell in cells:
        for span in re.findall(r"`([^`]*)`", cell):
            match = re.match(r"(--[\w-]+)='([^']*)'", span)
            if match:
                names = {re.match(r"[\w-]+", item).group(0)
                         for item in match.group(2).split()}
                documented_options.setdefault(match.group(1), set()).update(names)
    for name in sorted(documented.names()):
        if name not in ours:
            problems.append(f"quarc-opt: docs/cli.md's '{section}' section documents "
                         f"{name}, which --help does not print")
    for name, (kind, options) in sorted(ours.items()):
        if name in upstream:
            continue
        if kind == "Pass Pipelines":
            if name not in documented.names():
                problems.append(f"quarc-opt: --help prints the pipeline {name}, which "
                             f"docs/cli.md's '{section}' section does not document")
                continue
            shown = documented_options.get(name, set())
            for option in sorted(set(options) - shown):
                problems.append(f"quarc-opt: {name} has the option {option}, which "
                             f"docs/cli.md does not show (`{name}='{option}=...'`)")
            for option in sorted(shown - set(options)):
                problems.append(f"quarc-opt: docs/cli.md shows {name}='{option}=...', "
                             f"which --help does not print")
        elif kind == "Passes":
            if f"### `-{name[2:]}`" not in passes_md:
                problems.append(f"quarc-opt: the pass {name} has no section in "
                             f"docs/passes.md")
    for required in ("--load-pass-plugin",):
        if required not in ours:
            problems.append(f"quarc-opt: --help does not print {required}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cli_md")
    parser.add_argument("passes_md")
    for tool in ("quarc", "executable", "quarc-opt", "quarc-translate", "mlir-opt",
                 "mlir-translate"):
        parser.add_argument("--" + tool, required=True)
    args = parser.parse_args()
    with open(args.cli_md, encoding="utf-8") as f:
        markdown = split_markdown(f.read())
    with open(args.passes_md, encoding="utf-8") as f:
        passes_md = f.read()
    problems = []
    check_quarc(args, markdown, problems)
    check_translate(args, markdown, problems)
    check_opt(args, markdown, passes_md, problems)
    for line in problems:
        print("error: " + line)
    if problems:
        print(f"{len(problems)} problem(s): docs/cli.md and the tools' --help "
              f"disagree (see test/Docs/check_cli_doc.py for the rules)")
        return 1
    print("docs/cli.md agrees with the tools' --help")
    return 0


if __name__ == "__main__":
    sys.exit(main())
