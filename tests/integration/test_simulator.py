"""`tracermon simulate` read by independent clients, and its faults seen from the client side.

mbpoll (libmodbus) and Debian's pymodbus read the simulator over the pty and Modbus TCP; the
values must describe one plausible system. tracermon's own read and scan run over all three
links. Each fault, alone at rate 1, must look to a client like what it is.
"""

import json
import os
import re
import socket
import subprocess
import unittest
from decimal import Decimal

import journal
from peers import Bench, PYTHON, json_lines, load_registers, run
from simulator import Simulator, wait_until

NOON = "2026-06-21T12:00:00"
PROFILES = "tracer-an,tracer-bn,ls-b"


def mbpoll(*args):
    result = subprocess.run(["mbpoll", *args], capture_output=True, text=True, timeout=30)
    values = [int(v) for v in re.findall(r"^\[\d+\]:\s+(-?\d+)", result.stdout, re.M)]
    return result, values


PYMODBUS_READER = r"""
import json, sys
from pymodbus.client import ModbusSerialClient
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.mei_message import ReadDeviceInformationRequest
client = ModbusSerialClient(port=sys.argv[1], framer=ModbusRtuFramer, baudrate=115200,
                            timeout=1, retries=0)
assert client.connect()
out = {}
for unit in map(int, sys.argv[2].split(",")):
    live = client.read_input_registers(0x3100, 16, slave=unit)
    soc = client.read_input_registers(0x311A, 1, slave=unit)
    stats = client.read_input_registers(0x3300, 20, slave=unit)
    settings = client.read_holding_registers(0x9000, 15, slave=unit)
    ident = client.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, unit=unit))
    out[unit] = {"live": live.registers, "soc": soc.registers[0], "stats": stats.registers,
                 "settings": settings.registers,
                 "model": ident.information[1].decode()}
client.close()
print(json.dumps(out))
"""


def u32(words, at):
    return words[at] | words[at + 1] << 16


class SimulatorTest(unittest.TestCase):
    def setUp(self):
        self.bench = Bench()
        self.addCleanup(self.bench.close)

    def start(self, *args, ids="1,2,3", profile=PROFILES, start=NOON, seed="7"):
        if profile == PROFILES:  # a 12 V LS-B cannot share the 24 V bank of the others
            args = (*args, "--separate-batteries")
        sim = Simulator(self.bench.dir, "--start", start, "--seed", seed, "--cloudiness", "0",
                        *args, ids=ids, profile=profile)
        self.addCleanup(sim.stop)
        return sim


class IndependentClients(SimulatorTest):
    def test_mbpoll_over_pty_and_tcp(self):
        sim = self.start()
        for target in (["-m", "rtu", "-b", "115200", "-P", "none", sim.pty],
                       ["-m", "tcp", "-p", str(sim.tcp_port), "127.0.0.1"]):
            with self.subTest(link=target[1]):
                result, live = mbpoll("-a", "1", "-t", "3", "-0", "-r", "12544", "-c", "16",
                                      "-1", *target[:-1], target[-1])
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertEqual(len(live), 16)
                pv_v, pv_a, pv_w = live[0] / 100, live[1] / 100, u32(live, 2) / 100
                self.assertGreater(pv_w, 50, "noon on a clear day")
                self.assertAlmostEqual(pv_w, pv_v * pv_a, delta=max(1.0, 0.02 * pv_w))
                battery_v = live[4] / 100
                self.assertTrue(22 < battery_v < 32, battery_v)  # a 24 V bank
                _, holding = mbpoll("-a", "2", "-t", "4", "-0", "-r", "36864", "-c", "15", "-1",
                                    *target[:-1], target[-1])
                self.assertEqual(len(holding), 15)
                # OVD > charging limit > equalize > boost > float > boost reconnect
                self.assertGreater(holding[3], holding[4])
                self.assertGreater(holding[6], holding[7])
                self.assertGreater(holding[7], holding[8])

    def test_mbpoll_sees_exception_2_for_a_missing_register(self):
        sim = self.start()
        # The LS-B (id 3) has no 0x3202.
        result, _ = mbpoll("-m", "rtu", "-b", "115200", "-P", "none", "-a", "3", "-t", "3", "-0",
                           "-r", str(0x3200), "-c", "3", "-1", sim.pty)
        self.assertNotEqual(result.returncode, 0)
        self.assertRegex(result.stdout + result.stderr, r"(?i)illegal data address")

    def test_pymodbus_over_pty_sees_one_battery(self):
        sim = self.start(profile="tracer-an,tracer-bn,tracer-an")
        result = subprocess.run([PYTHON, "-c", PYMODBUS_READER, sim.pty, "1,2,3"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        units = json.loads(result.stdout)
        self.assertEqual([units[u]["model"] for u in "123"],
                         ["Tracer3210AN", "Tracer4215BN", "Tracer3210AN"])
        volts = [units[u]["live"][4] / 100 for u in "123"]
        socs = [units[u]["soc"] for u in "123"]
        # A PAL-ADP group: one battery, so one voltage (within a reading's rounding) and one SOC.
        self.assertLess(max(volts) - min(volts), 0.05, volts)
        self.assertEqual(len(set(socs)), 1, socs)
        for u in "123":
            live, stats = units[u]["live"], units[u]["stats"]
            self.assertAlmostEqual(u32(live, 2) / 100, live[0] * live[1] / 1e4,
                                   delta=max(1.0, u32(live, 2) / 100 * 0.02))
            # today <= this month <= this year <= total, for generated and consumed energy
            gen = [u32(stats, i) for i in (12, 14, 16, 18)]
            con = [u32(stats, i) for i in (4, 6, 8, 10)]
            self.assertEqual(gen, sorted(gen))
            self.assertEqual(con, sorted(con))
            self.assertLessEqual(stats[3], stats[2])  # min battery voltage <= max


class TracermonAgainstTheSimulator(SimulatorTest):
    def test_read_every_field_over_every_link(self):
        sim = self.start()
        readable = {r["name_snake_case"] for r in load_registers() if r["access"] != "w"}
        for port in (sim.pty, sim.tcp, sim.rtu_tcp):
            with self.subTest(port=port):
                result = run("read", "-p", port, "--json", "1,2,3")
                self.assertEqual(result.returncode, 0, result.stderr)
                lines = json_lines(result.stdout)
                self.assertEqual([l["id"] for l in lines], [1, 2, 3])
                for line in lines:
                    self.assertEqual(line["errors"], {})
                    self.assertEqual(set(line["values"]) | set(line["unsupported"]), readable)
                    self.assertEqual(line["controller_clock"][:13], NOON[:13])
                lsb = lines[2]
                self.assertIn("discharging_equipment_status", lsb["unsupported"])
                self.assertIn("power_components_temperature", lsb["values"])
                self.assertNotIn("power_components_temperature", lines[0]["values"])

    def test_scan_over_every_link(self):
        sim = self.start()
        for port in (sim.pty, sim.tcp, sim.rtu_tcp):
            with self.subTest(port=port):
                result = run("scan", "-p", port, "--ids", "1-5", "--json")
                self.assertEqual(result.returncode, 0, result.stderr)
                found = json_lines(result.stdout)
                self.assertEqual([(f["id"], f["model"]) for f in found],
                                 [(1, "Tracer3210AN"), (2, "Tracer4215BN"), (3, "LS2024B")])
                self.assertEqual(found[1]["battery_rated_current"], Decimal(40))

    def test_in_process_sim_port(self):
        result = run("read", "-p", "sim:ids=4&profile=ls-b&start=2026-06-21T12:00:00", "4",
                     "pv_rated_voltage")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "50")
        bad = run("read", "-p", "sim:ids=4&wind=3", "4")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown sim option 'wind'", bad.stderr)


class SimulateCommandLine(SimulatorTest):
    def test_profile_file_from_the_examples(self):
        examples = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "profiles.toml")
        sim = self.start("--profile-file", examples, ids="5", profile="triron")
        result = run("scan", "-p", sim.tcp, "--ids", "5", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json_lines(result.stdout)[0]["model"], "TriRon3210")

    def test_usage_errors(self):
        pty = os.path.join(self.bench.dir, "tty")
        for args, pattern in (
            ([], r"at least one link"),
            (["--pty", pty, "--profile", "tracer-zz"], r"unknown profile 'tracer-zz'"),
            (["--pty", pty, "--fault", "lightning=1"], r"unknown fault 'lightning'"),
            (["--pty", pty, "--fault", "no-reply=7"], r"from 0 to 1"),
            (["--pty", pty, "--ids", "1,2", "--profile", "tracer-an,ls-b"], r"cannot share"),
            (["--pty", pty, "--start", "yesterday"], r"YYYY-MM-DD"),
            (["--tcp", "127.0.0.1"], r"HOST:PORT"),
            (["--pty", pty, "--ids", "0"], r"\b0\b"),
        ):
            with self.subTest(args=args):
                result = run("simulate", *args, timeout=20)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertRegex(result.stderr, pattern)
                self.assertFalse(os.path.lexists(pty))


class Faults(SimulatorTest):
    """Each fault alone at rate 1, seen by a client that does not retry."""

    FIELDS = ("pv_voltage", "battery_soc")

    def read_once(self, port, *extra):
        return run("read", "-p", port, "--retries", "0", "--timeout", "400", "--json", *extra,
                   "1", *self.FIELDS)

    def assert_failure(self, sim, fault, pattern, port=None):
        self.assertEqual(sim.control("fault clear"), "ok")
        self.assertEqual(sim.control(f"fault {fault}=1"), "ok")
        result = self.read_once(port or sim.pty)
        self.assertEqual(result.returncode, 3, f"{fault}: {result.stdout}{result.stderr}")
        self.assertEqual(json_lines(result.stdout)[0]["values"], {}, fault)
        self.assertRegex(result.stderr, pattern, fault)
        counted = json.loads(sim.control("status"))["faults"][fault]
        self.assertGreater(counted, 0, fault)

    def test_each_fault_is_what_it_says(self):
        sim = self.start("--fault", "late-ms=800")
        self.assert_failure(sim, "no-reply", r"(?i)timeout|no reply")
        self.assert_failure(sim, "bad-crc", r"(?i)crc")
        self.assert_failure(sim, "truncated", r"(?i)incomplete|truncated|timeout")
        self.assert_failure(sim, "wrong-id", r"(?i)another slave|wrong (unit|id)|slave id")
        self.assert_failure(sim, "exception4", r"exception 4 \(slave device failure\)")
        self.assert_failure(sim, "exception6", r"exception 6 \(slave device busy\)")
        self.assert_failure(sim, "exception4", r"exception 4", port=sim.tcp)
        # Tolerated by tracermon's framing, but there on the wire: libmodbus trips over them.
        for fault in ("garbage", "echo"):
            sim.control("fault clear")
            sim.control(f"fault {fault}=1")
            ours = self.read_once(sim.pty)
            self.assertEqual(ours.returncode, 0, f"{fault}: {ours.stderr}")
            result, _ = mbpoll("-m", "rtu", "-b", "115200", "-P", "none", "-a", "1", "-t", "3",
                               "-0", "-r", str(0x3100), "-c", "2", "-1", "-o", "0.4", sim.pty)
            self.assertNotEqual(result.returncode, 0, f"{fault}: mbpoll read it cleanly")
        # Last: the late reply keeps the bus busy after the client gave up.
        self.assert_failure(sim, "late", r"(?i)timeout|no reply")

    def test_late_replies_are_never_printed_for_other_registers(self):
        # The controller answers some requests 3.5 s late, after `read` gave up on them (1 s
        # timeout, 2 retries): those replies must not pass for the replies to later requests.
        served = os.path.join(self.bench.dir, "served.jsonl")
        sim = self.start("--fault", "late=0.15", "--fault", "late-ms=3500", "--journal", served,
                         ids="1", profile="tracer-an")
        printed = []
        for _ in range(3):
            result = run("read", "-p", sim.pty, "--json", "1", timeout=300)
            self.assertIn(result.returncode, (0, 3), result.stderr)
            line = json_lines(result.stdout)[0]
            printed.append({"source": "dev", "time_ms": journal.now_ms(), "values": line["values"]})
        wrong, checked = journal.wrong_values(printed, journal.load(served), {"dev": 1})
        self.assertEqual(wrong, [])
        self.assertGreater(checked, 50)
        self.assertGreater(json.loads(sim.control("status"))["faults"]["late"], 0)

    def test_a_client_that_hangs_up_before_a_late_reply_does_not_end_the_simulator(self):
        # A bridge's client gives up and closes while the controller is still answering: the
        # reply goes nowhere (EPIPE, where SIGPIPE ended the simulator), and clients go on.
        sim = self.start("--fault", "late=1", "--fault", "late-ms=300", ids="1",
                         profile="tracer-an")
        host, port = sim.links["rtu-tcp"].rsplit(":", 1)
        request = bytes.fromhex("01 04 31 00 00 10 ff 3a")  # 16 registers: a reply of 37 bytes
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(request)
            wait_until(lambda: json.loads(sim.control("status"))["requests"] >= 1)
        wait_until(lambda: json.loads(sim.control("status"))["undelivered"] >= 1)
        self.assertEqual(sim.control("fault clear"), "ok")
        result = run("read", "-p", sim.rtu_tcp, "1", "pv_voltage")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIsNone(sim.proc.poll(), "the simulator is still running")

    def test_stuck_controller_until_power_cycle(self):
        sim = self.start()
        sim.control("fault stuck=1 unit=2")
        self.assertEqual(self.read_once(sim.pty).returncode, 0)  # unit 1 is not affected
        result = run("read", "-p", sim.pty, "--retries", "0", "--timeout", "300", "2", "pv_voltage")
        self.assertEqual(result.returncode, 3)  # the read that wedged it
        sim.control("fault clear")
        again = run("read", "-p", sim.pty, "--retries", "0", "--timeout", "300", "2", "pv_voltage")
        self.assertEqual(again.returncode, 3, "stays silent with the fault off")
        self.assertTrue(json.loads(sim.control("status"))["controllers"][1]["stuck"])
        self.assertEqual(sim.control("power-cycle 2"), "ok")
        back = run("read", "-p", sim.pty, "--retries", "0", "2", "pv_voltage")
        self.assertEqual(back.returncode, 0, back.stderr)

    def test_adapter_unplugged_and_back(self):
        sim = self.start()
        self.assertEqual(sim.control("unplug 1500"), "ok")
        wait_until(lambda: not os.path.lexists(sim.pty))
        gone = run("read", "-p", sim.pty, "1", "pv_voltage")
        self.assertEqual(gone.returncode, 3)
        self.assertIn("does not exist", gone.stderr)
        wait_until(lambda: os.path.lexists(sim.pty), timeout=10)
        back = run("read", "-p", sim.pty, "1", "pv_voltage")
        self.assertEqual(back.returncode, 0, back.stderr)

    def test_second_master_collides(self):
        sim = self.start(seed="3")
        sim.control("fault second-master=1")
        outcomes = set()
        for _ in range(6):
            result = self.read_once(sim.pty)
            outcomes.add(result.returncode)
            if result.returncode == 3:
                self.assertRegex(result.stderr, r"(?i)crc|another|unexpected|timeout|bad reply")
        self.assertIn(3, outcomes, "collisions never corrupted a reply")
        self.assertGreater(json.loads(sim.control("status"))["faults"]["second-master"], 0)

    def test_bad_control_commands(self):
        sim = self.start()
        self.assertTrue(sim.control("fault lightning=1").startswith("error: unknown fault"))
        self.assertTrue(sim.control("power-cycle 9").startswith("error: no controller 9"))
        self.assertTrue(sim.control("dance").startswith("error: unknown command"))
        self.assertEqual(self.read_once(sim.pty).returncode, 0)


class SimulatedDay(SimulatorTest):
    def test_a_day_at_3600x(self):
        sim = self.start("--speed", "3600", start="2026-06-21T00:00:00", ids="1",
                         profile="tracer-an")
        samples = []

        def sample():
            result = run("read", "-p", sim.tcp, "--json", "1", "pv_power", "battery_soc",
                         "generated_energy_today", "generated_energy_total", "day_night",
                         "rtc_minute_second", "rtc_day_hour", "rtc_year_month")
            self.assertEqual(result.returncode, 0, result.stderr)
            line = json_lines(result.stdout)[0]
            samples.append((line["controller_clock"], line["values"]))
            return line["controller_clock"] >= "2026-06-22T03"

        wait_until(sample, timeout=60, interval=0.3)
        by_hour = {}
        for clock, values in samples:
            by_hour.setdefault(clock[:13], values)
        noon = [v for c, v in by_hour.items() if "2026-06-21T10" <= c <= "2026-06-21T14"]
        night = [v for c, v in by_hour.items() if c <= "2026-06-21T03" or c >= "2026-06-22T00"]
        self.assertTrue(noon and night)
        self.assertTrue(all(v["pv_power"] > 0 and v["day_night"] == 0 for v in noon))
        self.assertTrue(all(v["pv_power"] == 0 and v["day_night"] == 1 for v in night))
        socs = [v["battery_soc"] for _, v in samples]
        peak = socs.index(max(socs))
        self.assertGreater(max(socs), socs[0], "charged by day")
        self.assertLess(socs[-1], max(socs), "discharged at night")
        self.assertTrue(0 < peak < len(socs) - 1)
        totals = [v["generated_energy_total"] for _, v in samples]
        self.assertEqual(totals, sorted(totals), "the total never goes back")
        before = [v for c, v in samples if c < "2026-06-22"][-1]
        after = [v for c, v in samples if c >= "2026-06-22T01"][0]
        self.assertGreater(before["generated_energy_today"], 1)
        self.assertLess(after["generated_energy_today"], before["generated_energy_today"])
        self.assertEqual(after["generated_energy_today"], 0, "nothing made since midnight")


if __name__ == "__main__":
    unittest.main()
