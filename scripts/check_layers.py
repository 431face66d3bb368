#!/usr/bin/env python3
"""Checks that every include under src/ points down the layers (docs/architecture.md).

Each folder of src/ is a layer. A file may include its own layer and the layers listed for
it below, and may use a third-party library only where the table names it: the Modbus library
stays in transport, SQLite in the store, the HTTP server in web, CLI11 in app. Exit 1 with one
line per broken rule (FILE:LINE: what and why), so `make test` fails on an include that runs
up the layers.

  scripts/check_layers.py [SRC_DIR]
"""

import pathlib
import re
import sys

# layer -> the layers it may include (besides itself). Lower layers never see upper ones.
ALLOWED = {
    "core": set(),
    "protocol": {"core"},
    "model": {"core", "protocol"},
    "transport": {"core", "protocol"},
    "device": {"core", "protocol", "transport"},
    "slave": {"core", "protocol"},
    "sim": {"core", "protocol", "transport", "device", "slave"},
    "poller": {"core", "protocol", "model", "transport", "device"},
    "store": {"core", "protocol", "model"},
    "format": {"core", "protocol", "model"},
    "control": {"core", "protocol", "model", "transport", "device", "store"},
    "sinks": {"core", "protocol", "model", "format", "store", "control"},
    "web": {"core", "protocol", "model", "format", "store", "sinks", "control"},
    "app": {"core", "protocol", "model", "transport", "device", "slave", "sim", "poller",
            "store", "format", "sinks", "web", "control"},
}

# third-party header prefix -> the layers that may include it.
LIBRARIES = {
    "modbus.h": {"transport"},
    "sqlite3.h": {"store"},
    "httplib.h": {"web"},
    "CLI/": {"app"},
    "mosquitto.h": {"sinks"},
    "curl/": {"sinks"},
    "zlib.h": {"sinks"},
    "systemd/": {"app"},
    "toml++/": {"app", "sim"},
}

LOCAL = re.compile(r'^\s*#\s*include\s+"([^"/]+)/[^"]+"')
SYSTEM = re.compile(r"^\s*#\s*include\s+<([^>]+)>")


def check(src):
    problems = []
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".cpp", ".hpp") or not path.is_file():
            continue
        layer = path.relative_to(src).parts[0]
        if layer not in ALLOWED:
            problems.append(f"{path}: folder '{layer}' is not a known layer (add it to "
                            "scripts/check_layers.py and docs/architecture.md)")
            continue
        allowed = ALLOWED[layer] | {layer}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            local = LOCAL.match(line)
            if local and local.group(1) not in allowed:
                problems.append(f"{path}:{number}: {layer} includes {local.group(1)}/, which "
                                f"is not below it (allowed: {', '.join(sorted(allowed))})")
            system = SYSTEM.match(line)
            if system:
                for prefix, owners in LIBRARIES.items():
                    if system.group(1).startswith(prefix) and layer not in owners:
                        problems.append(f"{path}:{number}: <{system.group(1)}> belongs to "
                                        f"{', '.join(sorted(owners))}, not {layer}")
    return problems


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       pathlib.Path(__file__).resolve().parent.parent / "src")
    if not src.is_dir():
        print(f"check_layers: {src}: not a folder", file=sys.stderr)
        return 2
    problems = check(src)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} include(s) break the layering", file=sys.stderr)
        return 1
    print(f"check_layers: {src}: every include points down the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
