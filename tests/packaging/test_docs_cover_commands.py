"""Every subcommand the binary lists in `tracermon --help`, and every long option of each, is in
the man page and offered by the bash completion. The lists come from the binary, so a new command
or option without docs fails here. TRACERMON_BIN: the binary; TRACERMON_SOURCE_DIR: the tree."""

import os
import re
import subprocess
import unittest
from pathlib import Path

BIN = os.environ.get("TRACERMON_BIN", "tracermon")
SOURCE = Path(os.environ.get("TRACERMON_SOURCE_DIR", Path(__file__).resolve().parents[2]))
MAN = SOURCE / "docs/man/tracermon.1"
COMPLETION = SOURCE / "deploy/bash-completion/tracermon"


def help_sections(*args):
    """(subcommands, long options) of `tracermon ARGS --help`, parsed from CLI11's layout."""
    text = subprocess.run([BIN, *args, "--help"], capture_output=True, text=True, check=True).stdout
    commands, options, section = [], set(), None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line.rstrip(":").strip().lower()
            continue
        entry = re.match(r"^  (\S+)", line)
        if not entry:
            continue
        if section == "subcommands":
            commands.append(entry.group(1))
        elif section == "options":
            options.update(o for o in re.findall(r"--[a-z0-9][a-z0-9-]*", entry.group(1)))
    options.discard("--help")
    return commands, options


def complete(*words):
    """What the completion offers after `tracermon WORDS...` (the last word being completed)."""
    script = f"""
        _init_completion() {{
            words=("${{COMP_WORDS[@]}}"); cword=$COMP_CWORD
            cur=${{words[cword]}}; prev=${{words[cword-1]}}
        }}
        _filedir() {{ :; }}
        source {COMPLETION}
        COMP_WORDS=(tracermon "$@"); COMP_CWORD=$(($# ))
        _tracermon
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    out = subprocess.run(["bash", "-c", script, "bash", *words], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.split())


def man_text():
    # roff writes a literal hyphen as \-.
    return MAN.read_text().replace("\\-", "-")


def every_command():
    """[(path, options)] for each command and sub-subcommand (config check, settings apply)."""
    result = []
    commands, _ = help_sections()
    for command in commands:
        subs, options = help_sections(command)
        result.append(((command,), options))
        for sub in subs:
            result.append(((command, sub), help_sections(command, sub)[1]))
    return result


class DocsCoverCommands(unittest.TestCase):
    def test_the_binary_lists_commands(self):
        commands, _ = help_sections()
        self.assertIn("read", commands)
        self.assertIn("run", commands)

    def test_man_page_has_a_section_per_command(self):
        man = man_text()
        for command in help_sections()[0]:
            with self.subTest(command=command):
                self.assertRegex(man, rf'\.SS "tracermon {re.escape(command)}\b')

    def test_man_page_names_every_long_option(self):
        man = man_text()
        for path, options in every_command():
            for option in sorted(options):
                with self.subTest(command=" ".join(path), option=option):
                    self.assertTrue(option in man, f"{option} is not in {MAN}")

    def test_completion_offers_every_command(self):
        offered = complete("")
        for command in help_sections()[0]:
            with self.subTest(command=command):
                self.assertIn(command, offered)

    def test_completion_offers_every_long_option(self):
        for path, options in every_command():
            offered = complete(*path, "--")
            for option in sorted(options):
                with self.subTest(command=" ".join(path), option=option):
                    self.assertIn(option, offered)

    def test_completion_completes_a_prefix(self):
        self.assertEqual(complete("sc"), {"scan"})
        self.assertEqual(complete("read", "--bau"), {"--baud"})


if __name__ == "__main__":
    unittest.main()
