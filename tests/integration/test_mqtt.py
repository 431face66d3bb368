"""tracermon's MQTT output against a real Mosquitto broker and a real subscriber: Home Assistant
discovery that follows HA's documented schema, state messages, availability and the last will,
re-announcing when HA restarts, no state message lost over a broker restart with QoS 1, removal
of a device dropped from the configuration, TLS, every kind of bad broker or setting, and
control: commands on <root>/<device>/set/<name> with their results and the HA control entities.
"""

import json
import os
import signal
import unittest

from daemon import Daemon, DaemonTestCase, config_text
from mqtt_peers import Broker, Subscriber, free_port, make_tls_files, publish, retained
from simulator import wait_until

SIM3 = "sim:ids=1,2,3&profile=tracer-an+tracer-bn+tracer-an&seed=21&turnaround-ms=2"
NAMES = ["east", "west", "south"]

# Home Assistant's documented MQTT discovery vocabulary (sensor and binary_sensor pages,
# developer docs "Sensor entity"): device classes and the units each accepts.
SENSOR_UNITS = {
    "voltage": {"V", "mV", "µV", "kV", "MV"},
    "current": {"A", "mA"},
    "power": {"W", "kW", "MW", "GW", "TW", "mW"},
    "energy": {"Wh", "kWh", "MWh", "GWh", "TWh", "J", "kJ", "MJ", "GJ", "mWh", "cal", "kcal",
               "Mcal", "Gcal"},
    "temperature": {"°C", "°F", "K"},
    "battery": {"%"},
}
STATE_CLASSES = {"measurement", "total", "total_increasing", "measurement_angle"}
BINARY_CLASSES = {"problem", "battery", "battery_charging", "power", "running", "safety", "heat",
                  "light", "plug", "connectivity", None}


class MqttTest(DaemonTestCase):
    prefix = "tracermon-mqtt-"

    def setUp(self):
        super().setUp()
        self.subs = []
        self.brokers = []

    def tearDown(self):
        for s in self.subs:
            s.close()
        for b in self.brokers:
            b.stop()

    def broker(self, sub="broker", **kw):
        directory = os.path.join(self.dir, sub)
        os.makedirs(directory, exist_ok=True)
        b = Broker(directory, **kw)
        self.brokers.append(b)
        return b

    def subscribe(self, broker, topic="#", **kw):
        s = Subscriber(broker, topic, **kw)
        self.subs.append(s)
        return s

    def daemon(self, mqtt, ids=(1, 2, 3), names=NAMES, port=SIM3, directory=None, extra=""):
        directory = directory or self.dir
        extra = ("[mqtt]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in mqtt.items())
                 + "\n" + extra)
        d = Daemon(directory, config_text(directory, port, list(ids), names=list(names),
                                          extra=extra))
        self.daemons.append(d)
        return d

    @staticmethod
    def mqtt_output(d):
        for output in d.api("/api/v1/status")["outputs"]:
            if output["name"] == "mqtt":
                return output
        raise AssertionError("no mqtt output in /api/v1/status")

    @staticmethod
    def states(sub, device):
        return [json.loads(m["payload"]) for m in sub.snapshot(f"tracermon/{device}/state")]


class HomeAssistantDiscovery(MqttTest):
    def test_discovery_follows_the_home_assistant_schema(self):
        b = self.broker()
        sub = self.subscribe(b)
        self.daemon({"url": b.url(), "retry_max": "1s"})
        # Discovery follows a device's first cycle; the slow fields (energy) come with it.
        sub.wait_for(lambda s: all(len(self.states(s, n)) >= 2 for n in NAMES)
                     and s.snapshot("tracermon/site/home/state"))
        configs = sub.snapshot(prefix="homeassistant/")
        self.assertTrue(configs)
        states = {}
        for n in NAMES:
            states[f"tracermon/{n}/state"] = self.states(sub, n)[-1]
        states["tracermon/site/home/state"] = json.loads(
            sub.snapshot("tracermon/site/home/state")[-1]["payload"])

        # Discovery is retained, so Home Assistant finds it whenever it starts.
        kept = retained(b, "homeassistant/#")
        self.assertEqual({m["topic"] for m in configs}, set(kept))
        unique_ids = set()
        energy = {}
        components = {}
        for m in configs:
            topic = m["topic"]
            parts = topic.split("/")
            self.assertEqual(len(parts), 5, topic)
            self.assertEqual(parts[4], "config")
            component, node, key = parts[1], parts[2], parts[3]
            self.assertIn(component, {"sensor", "binary_sensor"}, topic)
            c = json.loads(m["payload"])
            for required in ("name", "unique_id", "state_topic", "device", "availability",
                             "value_template"):
                self.assertIn(required, c, topic)
            self.assertNotIn(c["unique_id"], unique_ids, "unique ids must be unique")
            unique_ids.add(c["unique_id"])
            self.assertTrue(c["device"]["identifiers"], topic)
            for a in c["availability"]:
                self.assertTrue(a["topic"].startswith("tracermon/"), topic)
            self.assertGreater(c.get("expire_after", 0), 0, topic)
            # The template reads a key every state message of that topic carries.
            self.assertIn(c["state_topic"], states, topic)
            self.assertIn(key, states[c["state_topic"]], f"{topic}: {key} not in the state")
            self.assertEqual(c["value_template"].count(key), 1 if component == "sensor" else 2)
            if component == "sensor":
                dc = c.get("device_class")
                unit = c.get("unit_of_measurement")
                if dc is not None:
                    self.assertIn(dc, SENSOR_UNITS, topic)
                    self.assertIn(unit, SENSOR_UNITS[dc], topic)
                if "state_class" in c:
                    self.assertIn(c["state_class"], STATE_CLASSES, topic)
                if unit == "kWh":
                    energy[topic] = c
                    self.assertEqual(dc, "energy", topic)
                    self.assertEqual(c["state_class"], "total_increasing", topic)
            else:
                self.assertIn(c.get("device_class"), BINARY_CLASSES, topic)
                self.assertEqual({c["payload_on"], c["payload_off"]}, {"ON", "OFF"})
            components.setdefault(node, set()).add((component, key))

        # One HA device per controller and one for the site, each with what a user looks for.
        self.assertEqual(set(components), {f"tracermon_{n}" for n in NAMES}
                         | {"tracermon_site_home"})
        for n in NAMES:
            entities = components[f"tracermon_{n}"]
            for wanted in [("sensor", "pv_power"), ("sensor", "battery_soc"),
                           ("sensor", "generated_energy_total"), ("sensor", "charging_phase"),
                           ("binary_sensor", "charging_equipment_fault")]:
                self.assertIn(wanted, entities, n)
        self.assertIn("homeassistant/sensor/tracermon_east/generated_energy_total/config", energy)
        self.assertIn("homeassistant/sensor/tracermon_site_home/generated_energy_total/config",
                      energy)
        east = json.loads(sub.snapshot(
            "homeassistant/sensor/tracermon_east/pv_power/config")[-1]["payload"])
        # The simulated controller's 0x2B identification: vendor, firmware and serial number.
        self.assertIn("EPsolar", east["device"]["manufacturer"])
        self.assertTrue(east["device"]["sw_version"])
        self.assertTrue(east["device"].get("model"))
        self.assertEqual(east["availability_mode"], "all")

    def test_discovery_is_sent_again_when_home_assistant_restarts(self):
        b = self.broker()
        sub = self.subscribe(b, "homeassistant/#")
        self.daemon({"url": b.url(), "retry_max": "1s"})
        topic = "homeassistant/sensor/tracermon_east/pv_power/config"
        sub.wait_for(lambda s: s.snapshot(topic) and s.snapshot(
            "homeassistant/sensor/tracermon_south/pv_power/config"))
        before = len(sub.snapshot(topic))
        publish(b, "homeassistant/status", "online")
        sub.wait_for(lambda s: len(s.snapshot(topic)) > before)
        # Every entity, and the site's, came again.
        sub.wait_for(lambda s: len(s.snapshot(
            "homeassistant/sensor/tracermon_site_home/pv_power/config")) >= 2)
        # Other payloads on that topic are not a restart.
        count = len(sub.snapshot(topic))
        publish(b, "homeassistant/status", "offline")
        publish(b, "homeassistant/status", "online")
        sub.wait_for(lambda s: len(s.snapshot(topic)) == count + 1)


class StateMessages(MqttTest):
    def test_state_and_availability_match_the_daemon(self):
        b = self.broker()
        sub = self.subscribe(b, "tracermon/#")
        d = self.daemon({"url": b.url(), "retry_max": "1s", "qos": 1}, ids=(1, 2, 9),
                        names=["east", "west", "ghost"])
        sub.wait_for(lambda s: len(self.states(s, "east")) >= 3 and len(self.states(s, "west")) >= 3)
        # A controller that never answers is offline; the others are online; so is the daemon.
        sub.wait_for(lambda s: s.snapshot("tracermon/ghost/availability"))
        self.assertEqual(sub.snapshot("tracermon/ghost/availability")[-1]["payload"], "offline")
        self.assertEqual(sub.snapshot("tracermon/east/availability")[-1]["payload"], "online")
        self.assertEqual(sub.snapshot("tracermon/status")[-1]["payload"], "online")
        self.assertEqual(self.states(sub, "ghost"), [])
        # The site cannot be summed without its dead member: nulls, never a partial sum.
        site = json.loads(sub.snapshot("tracermon/site/home/state")[-1]["payload"])
        self.assertFalse(site["complete"])
        self.assertIn("ghost", site["missing_members"])
        self.assertIsNone(site["pv_power"])

        d.stop()
        # Retained: a subscriber arriving later gets the last state at once; the daemon said
        # goodbye (offline) when stopped cleanly.
        kept = retained(b, "tracermon/#")
        self.assertEqual(kept["tracermon/status"], "offline")
        last = json.loads(kept["tracermon/east/state"])
        self.assertEqual(last, self.states(sub, "east")[-1])
        # The last state message is the last state file of the same cycle.
        with open(os.path.join(self.dir, "state", "east.json")) as f:
            state_file = json.load(f)
        for name, entry in state_file["fields"].items():
            if name in last:
                self.assertAlmostEqual(last[name], entry["value"], places=6, msg=name)
        # Its time is the cycle's; each field was read at or before it.
        self.assertEqual(last["time_ms"], state_file["time_ms"])
        self.assertLessEqual(max(e["time_ms"] for e in state_file["fields"].values()),
                             last["time_ms"])
        self.assertIn(last["charging_phase"], {"no charging", "float", "boost", "equalize"})
        self.assertIsInstance(last["charging_equipment_fault"], bool)
        self.assertIsInstance(last["pv_voltage"], float)
        # Sequence: times only go forward.
        times = [s["time_ms"] for s in self.states(sub, "east")]
        self.assertEqual(times, sorted(times))

    def test_last_will_when_the_daemon_is_killed(self):
        b = self.broker()
        sub = self.subscribe(b, "tracermon/status")
        d = self.daemon({"url": b.url(), "retry_max": "1s"})
        sub.wait_for(lambda s: [m for m in s.snapshot() if m["payload"] == "online"])
        d.stop(signal.SIGKILL)
        sub.wait_for(lambda s: s.snapshot()[-1]["payload"] == "offline")
        self.assertEqual(retained(b, "tracermon/status")["tracermon/status"], "offline")


class BrokerOutage(MqttTest):
    def test_no_state_message_lost_over_a_broker_restart(self):
        b = self.broker(persistence=True)
        # A persistent QoS 1 session, as Home Assistant keeps: the broker holds what arrives
        # while this subscriber reconnects.
        sub = self.subscribe(b, "tracermon/+/state", client_id="outage-test", persistent=True)
        d = self.daemon({"url": b.url(), "retry_max": "1s", "qos": 1})
        sub.wait_for(lambda s: len(self.states(s, "east")) >= 2)

        b.stop()
        wait_until(lambda: not self.mqtt_output(d)["connected"], 20)
        cycles = d.device_status("east")["counters"]["cycles"]
        # Several cycles while the broker is away: they wait in the outbox.
        wait_until(lambda: d.device_status("east")["counters"]["cycles"] >= cycles + 4, 30)
        during = self.mqtt_output(d)
        self.assertGreater(during["in_outbox"] + during["queued"], 0)
        self.assertGreater(during["errors"], 0)
        self.assertTrue(during["last_error"])

        b.start()
        wait_until(lambda: (lambda o: o["connected"] and o["in_outbox"] == 0
                            and o["queued"] == 0)(self.mqtt_output(d)), 40)
        self.assertEqual(d.stop(), 0)
        # Every cycle the store filed reached the subscriber, in order.
        records = d.export()
        for n in NAMES:
            filed = {r["time_ms"] for r in records if r["source"] == n and "pv_voltage" in r["values"]}
            self.assertGreaterEqual(len(filed), 6)
            wait_until(lambda: filed <= {s["time_ms"] for s in self.states(sub, n)}, 20)
            times = [s["time_ms"] for s in self.states(sub, n)]
            self.assertEqual(times, sorted(times), n)


class DeviceRemoval(MqttTest):
    def test_a_device_dropped_from_the_config_leaves_home_assistant(self):
        b = self.broker()
        sub = self.subscribe(b, "homeassistant/#")
        d = self.daemon({"url": b.url(), "retry_max": "1s"}, ids=(1, 2), names=["east", "west"])
        sub.wait_for(lambda s: s.snapshot(prefix="homeassistant/sensor/tracermon_west/"))
        self.assertEqual(d.stop(), 0)
        before = retained(b)
        self.assertTrue([t for t in before if "tracermon_west" in t])
        self.assertIn("tracermon/west/state", before)

        self.daemons.clear()
        d = self.daemon({"url": b.url(), "retry_max": "1s"}, ids=(1,), names=["east"])
        wait_until(lambda: not [t for t in retained(b) if "tracermon_west" in t], 20)
        after = retained(b)
        self.assertNotIn("tracermon/west/state", after)
        self.assertNotIn("tracermon/west/availability", after)
        self.assertTrue([t for t in after if "tracermon_east" in t])
        # The site now has east only: its device stays.
        self.assertIn("homeassistant/sensor/tracermon_site_home/pv_power/config", after)


class Control(MqttTest):
    """[control] enabled = true: commands over MQTT against the simulated controllers."""

    def control_daemon(self, b):
        token = os.path.join(self.dir, "control.token")
        with open(token, "w") as f:
            f.write("0123456789abcdef0123456789abcdef\n")
        os.chmod(token, 0o600)
        extra = (f'[control]\nenabled = true\ntoken_file = "{token}"\nclock_sync = "off"\n')
        return self.daemon({"url": b.url(), "retry_max": "1s"}, extra=extra)

    @staticmethod
    def results(sub, device="east"):
        return [json.loads(m["payload"]) for m in sub.snapshot(f"tracermon/{device}/result")]

    def command(self, b, sub, topic, payload, retain=False, device="east", timeout=60):
        """Publishes a command and waits for the result that answers it."""
        before = len(self.results(sub, device))
        publish(b, f"tracermon/{device}/set/{topic}", payload, retain=retain)
        sub.wait_for(lambda s: len(self.results(s, device)) > before, timeout)
        result = self.results(sub, device)[before]
        self.assertEqual(result["topic"], f"tracermon/{device}/set/{topic}")
        return result

    def test_commands_results_and_home_assistant_entities(self):
        b = self.broker()
        sub = self.subscribe(b)
        # A retained command left on the broker (by a careless client, before a restart): the
        # daemon gets it with the retain flag when it subscribes, and must not run it.
        publish(b, "tracermon/east/set/load", "OFF", retain=True)
        self.control_daemon(b)
        sub.wait_for(lambda s: self.results(s), 60)
        ignored = self.results(sub)[0]
        self.assertEqual(ignored["status"], 400, ignored)
        self.assertIn("retained", ignored["error"])
        self.assertEqual(ignored["topic"], "tracermon/east/set/load")
        # Cleared (an empty retained message), which reaches the daemon as an empty command.
        result = self.command(b, sub, "load", "", retain=True)
        self.assertEqual(result["status"], 400)
        self.assertIn("empty", result["error"])
        self.assertNotIn("tracermon/east/set/load", retained(b, "tracermon/#"))
        # The simulated controllers start in manual mode with the load on.
        sub.wait_for(lambda s: any(st.get("discharging_equipment_running") is True
                                   for st in self.states(s, "east")), 60)
        switch = "homeassistant/switch/tracermon_east/load/config"
        sub.wait_for(lambda s: all(s.snapshot(f"homeassistant/switch/tracermon_{n}/load/config")
                                   and s.snapshot(f"tracermon/{n}/settings") for n in NAMES), 60)

        # Discovery: the load switch, the clock button, numbers and selects, reading the state
        # and settings topics the daemon publishes, commanding the topics it listens to.
        configs = {m["topic"]: json.loads(m["payload"])
                   for m in sub.snapshot(prefix="homeassistant/") if m["payload"]}
        load = configs[switch]
        self.assertEqual(load["command_topic"], "tracermon/east/set/load")
        self.assertEqual(load["state_topic"], "tracermon/east/state")
        self.assertEqual((load["payload_on"], load["payload_off"]), ("on", "off"))
        button = configs["homeassistant/button/tracermon_east/clock_sync/config"]
        self.assertEqual(button["command_topic"], "tracermon/east/set/clock_sync")
        boost = configs["homeassistant/number/tracermon_east/boost_charging_voltage/config"]
        self.assertEqual((boost["min"], boost["max"], boost["step"]), (9.0, 17.0, 0.01))
        self.assertEqual(boost["mode"], "box")
        self.assertEqual(boost["entity_category"], "config")
        battery_type = configs["homeassistant/select/tracermon_east/battery_type/config"]
        settings = json.loads(sub.snapshot("tracermon/east/settings")[-1]["payload"])
        self.assertIn(settings["battery_type"], battery_type["options"])
        self.assertEqual(battery_type["state_topic"], "tracermon/east/settings")
        self.assertIsInstance(settings["battery_capacity"], int)
        for component in ("switch", "button", "number", "select"):
            for n in NAMES:
                self.assertTrue([t for t in configs if t.startswith(
                    f"homeassistant/{component}/tracermon_{n}/")], (component, n))
        for topic, c in configs.items():
            if topic.split("/")[1] in ("switch", "button", "number", "select"):
                self.assertEqual(c["availability_mode"], "all", topic)
                self.assertEqual(len(c["availability"]), 2, topic)

        # Home Assistant's switch sends OFF: written (so the retained OFF was not), answered,
        # and the state shows it.
        result = self.command(b, sub, "load", "OFF")
        self.assertEqual(result["status"], 200, result)
        self.assertTrue(result["ok"])
        self.assertEqual(result["outcome"], "written")
        self.assertIn("manual_load_control", [c["setting"] for c in result["changes"]
                                              if c["old"] != c["new"]])
        self.assertEqual(result["device"], "east")
        seen = len(self.states(sub, "east"))
        sub.wait_for(lambda s: any(st.get("discharging_equipment_running") is False
                                   for st in self.states(s, "east")[seen:]), 60)

        # A number: the settings message shows the new value soon after the write.
        result = self.command(b, sub, "battery_capacity", "321")
        self.assertEqual(result["status"], 200, result)
        sub.wait_for(lambda s: json.loads(s.snapshot("tracermon/east/settings")[-1]["payload"])
                     ["battery_capacity"] == 321, 60)
        # A select sends the number its command template maps the option to.
        result = self.command(b, sub, "load_control_mode", "1")
        self.assertEqual(result["status"], 200, result)
        sub.wait_for(lambda s: json.loads(s.snapshot("tracermon/east/settings")[-1]["payload"])
                     ["load_control_mode"] == "Light ON/OFF", 60)

        # Bad input: an error result with its status, and the daemon goes on.
        result = self.command(b, sub, "battery_capacity", "lots")
        self.assertEqual(result["status"], 400)
        self.assertFalse(result["ok"])
        self.assertIn("battery_capacity", result["error"])
        result = self.command(b, sub, "no_such_setting", "1")
        self.assertEqual(result["status"], 400)
        self.assertIn("no_such_setting", result["error"])
        result = self.command(b, sub, "load", "x" * 300)
        self.assertEqual(result["status"], 400)
        self.assertIn("300 bytes", result["error"])
        result = self.command(b, sub, "load", "nobody", device="ghost")
        self.assertEqual(result["status"], 404)

        # The daemon still takes commands; results are answers, never retained.
        result = self.command(b, sub, "load", "on")
        self.assertEqual(result["status"], 200, result)
        self.assertNotIn("tracermon/east/result", retained(b, "tracermon/#"))

    def test_commands_after_a_reconnect_and_entities_removed_when_control_is_off(self):
        b = self.broker()
        sub = self.subscribe(b)
        d = self.control_daemon(b)
        sub.wait_for(lambda s: s.snapshot("tracermon/east/settings"), 60)
        # The broker restarts (no persistence: subscriptions are gone); the daemon subscribes
        # again when it reconnects.
        b.stop()
        wait_until(lambda: not self.mqtt_output(d)["connected"], 20)
        b.start()
        wait_until(lambda: self.mqtt_output(d)["connected"], 30)
        sub.close()
        sub = self.subscribe(b)
        # A command sent between the reconnection and the subscription is lost (as any
        # publish to a topic nobody subscribed); retry until the daemon answers one.
        answered = []

        def answer():
            if not answered:
                publish(b, "tracermon/east/set/load", "auto")
            answered.extend(self.results(sub))
            return answered
        wait_until(answer, 30)
        self.assertEqual(answered[0]["status"], 200, answered[0])
        self.assertEqual(d.stop(), 0)
        kept = retained(b)
        self.assertIn("homeassistant/switch/tracermon_east/load/config", kept)
        self.assertIn("tracermon/east/settings", kept)

        # Control off: its entities and the settings message leave Home Assistant; the sensors
        # stay; no command is taken.
        self.daemons.clear()
        d = self.daemon({"url": b.url(), "retry_max": "1s"})
        control = ("homeassistant/switch/", "homeassistant/button/", "homeassistant/number/",
                   "homeassistant/select/")
        wait_until(lambda: not [t for t in retained(b) if t.startswith(control)], 30)
        after = retained(b)
        self.assertNotIn("tracermon/east/settings", after)
        self.assertIn("homeassistant/sensor/tracermon_east/pv_power/config", after)
        before = len(self.results(sub))
        states = len(self.states(sub, "east"))
        publish(b, "tracermon/east/set/load", "off")
        wait_until(lambda: len(self.states(sub, "east")) >= states + 3, 30)
        self.assertEqual(len(self.results(sub)), before)


class BadBroker(MqttTest):
    def test_unreachable_broker_at_start_then_it_appears(self):
        port = free_port()
        d = self.daemon({"url": f"mqtt://127.0.0.1:{port}", "retry_max": "1s"})
        wait_until(lambda: self.mqtt_output(d)["last_error"], 20)
        output = self.mqtt_output(d)
        self.assertFalse(output["connected"])
        self.assertEqual(output["endpoint"], f"mqtt://127.0.0.1:{port}")
        # The daemon polls and serves meanwhile.
        wait_until(lambda: "east" in d.api("/api/v1/latest")["devices"], 20)
        b = self.broker(port=port)
        sub = self.subscribe(b, "tracermon/+/state")
        sub.wait_for(lambda s: self.states(s, "east"), 30)
        wait_until(lambda: self.mqtt_output(d)["connected"], 20)
        metrics = d.get("/metrics")[1]
        self.assertIn('tracermon_output_up{output="mqtt"} 1', metrics)
        self.assertIn('tracermon_output_sent_total{output="mqtt"}', metrics)

    def test_wrong_password_is_reported_and_retried_without_a_tight_loop(self):
        b = self.broker(users={"solar": "right"})
        d = self.daemon({"url": b.url(), "username": "solar", "password": "pw-Wr0ng-7",
                         "retry_max": "30s"})
        wait_until(lambda: "not authori" in self.mqtt_output(d)["last_error"].lower(), 20)
        self.assertFalse(self.mqtt_output(d)["connected"])
        # Backoff 1, 2, 4 ... s: once the third refusal is in the broker's log, a tight loop
        # would have made hundreds; backoff has made three, maybe four.
        refusals = lambda: b.log_text().count("not authorised")
        wait_until(lambda: refusals() >= 3, 30)
        self.assertLessEqual(refusals(), 4, "retried in a tight loop")
        self.assertNotIn("pw-Wr0ng-7", d.log_text(), "the password must not reach the log")

    def test_bad_settings_are_refused_with_the_key(self):
        cases = {
            'url = "http://127.0.0.1:1883"': "mqtt.url",
            'url = "mqtt://"': "mqtt.url",
            'url = "mqtt://host:99999"': "mqtt.url",
            "qos = 3": "mqtt.qos",
            'topic_root = "solar/#"': "mqtt.topic_root",
            'discovery_prefix = "/ha"': "mqtt.discovery_prefix",
            'password = "x"': "mqtt.password",
            'ca_file = "ca.crt"': "mqtt.ca_file",
            'colour = "blue"': "mqtt.colour",
            'expire_after = "2d"': "mqtt.expire_after",
        }
        for line, key in cases.items():
            path = os.path.join(self.dir, "bad.toml")
            with open(path, "w") as f:
                f.write(config_text(self.dir, SIM3, [1], extra=f"[mqtt]\n{line}\n"))
            out = Daemon.run_cli(None, "config", "check", path)
            self.assertEqual(out.returncode, 2, line)
            self.assertIn(key, out.stderr, line)
            self.assertRegex(out.stderr, r"bad\.toml:\d+:", line)


class Tls(MqttTest):
    def test_mqtts_with_a_ca_file(self):
        tls_dir = os.path.join(self.dir, "tls")
        os.makedirs(tls_dir)
        files = make_tls_files(tls_dir)
        b = self.broker(tls=files)
        sub_args = ["--cafile", files["ca"]]
        sub = self.subscribe(b, "tracermon/+/state", extra=sub_args)
        d = self.daemon({"url": b.url("mqtts"), "ca_file": files["ca"], "retry_max": "1s"})
        sub.wait_for(lambda s: self.states(s, "east"), 30)
        self.assertEqual(self.mqtt_output(d)["endpoint"], b.url("mqtts"))

    def test_a_broker_certificate_nobody_vouches_for_is_refused(self):
        tls_dir = os.path.join(self.dir, "tls")
        os.makedirs(tls_dir)
        files = make_tls_files(tls_dir)
        b = self.broker(tls=files)
        d = self.daemon({"url": b.url("mqtts"), "retry_max": "1s"})  # system CAs only
        wait_until(lambda: self.mqtt_output(d)["last_error"], 20)
        self.assertFalse(self.mqtt_output(d)["connected"])
        self.assertEqual(self.mqtt_output(d)["sent"], 0)


if __name__ == "__main__":
    unittest.main()
