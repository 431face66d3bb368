"""Hold what tracermon stored against what the simulator served (`--journal` / `journal=`).

The simulator writes one JSON line per read reply it put on the wire: wall-clock time, unit,
function code, start address and the words. A value tracermon stored for a field must be the
decoded words of that field in some reply the simulator sent for that unit and register before
the value's time: a value never served at that register came from the wrong reply.
"""

import bisect
import json
import time

from peers import load_registers

FUNCTION = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}


def load(path):
    """(unit, function) -> {start: ([time_ms], [words])}, in the order served."""
    served = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                e = json.loads(line)
                times, words = served.setdefault((e["unit"], e["fc"]), {}).setdefault(
                    e["start"], ([], []))
                times.append(e["t"])
                words.append(e["words"])
    return served


def now_ms():
    return int(time.time() * 1000)


def _value(row, words):
    kind = row["type"]
    raw = words[0] | (words[1] << 16) if kind.endswith("lo_hi") else words[0]
    if kind.startswith("s32") and raw >= 1 << 31:
        raw -= 1 << 32
    elif kind == "s16" and raw >= 1 << 15:
        raw -= 1 << 16
    return raw / int(row["scale"])


def wrong_values(rows, served, unit_of, slack_ms=60_000):
    """Stored values (export rows) never served at their register before their time.

    `unit_of` maps a device name to its slave id. Returns [(device, field, value, time_ms)] and
    the number of values checked."""
    registers = {r["name_snake_case"]: r for r in load_registers()}
    wrong, checked = [], 0
    for row in rows:
        unit = unit_of.get(row["source"])
        if unit is None:
            continue
        for name, value in row["values"].items():
            reg = registers.get(name)
            if reg is None or value is None or isinstance(value, str):
                continue
            value = float(value)
            address = int(reg["address_hex"], 16)
            size = 2 if reg["type"].endswith("lo_hi") else 1
            checked += 1
            if not _served(served.get((unit, FUNCTION[reg["function"]]), {}), reg, address, size,
                           value, row["time_ms"] - slack_ms, row["time_ms"] + 1000):
                wrong.append((row["source"], name, value, row["time_ms"]))
    return wrong, checked


def _served(by_start, reg, address, size, value, first_ms, last_ms):
    for start, (times, replies) in by_start.items():
        offset = address - start
        if offset < 0:
            continue
        for i in range(bisect.bisect_left(times, first_ms), bisect.bisect_right(times, last_ms)):
            words = replies[i]
            if offset + size <= len(words) and \
                    abs(_value(reg, words[offset:offset + size]) - value) < 1e-9:
                return True
    return False
