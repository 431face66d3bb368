"""A pymodbus slave that writes down every request frame it receives, before it answers.

The registers come from a JSON file as for tracer_peer.py. Each request the peer receives is
appended to the frames file as one JSON line, split and decoded here from the raw bytes (not by
pymodbus), and flushed before pymodbus sees the request: when tracermon has its answer, the
frame is on disk.

    recording_peer.py --link tcp|rtu-tcp --values FILE --frames FILE

A line: {"unit": 1, "fc": 16, "address": 36864, "count": 15, "values": [...], "raw": "..."}
(fc 1-4: address, count; fc 5 and 6: address, value (the word as sent); fc 15: address,
count, bits; fc 16: address, count, values; anything else: raw only). An RTU frame also has
"crc_ok".

Prints "READY <port>" on stdout once it serves.
"""

import argparse
import asyncio
import json
import logging
import struct
import sys

from pymodbus.device import ModbusDeviceIdentification
from pymodbus.datastore import ModbusServerContext
from pymodbus.server import StartAsyncTcpServer
from pymodbus.server.async_io import ModbusConnectedRequestHandler
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

from tracer_peer import slave_context


def crc16(data):
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def decode_pdu(unit, pdu):
    """The fields of one request PDU (function code first)."""
    out = {"unit": unit, "fc": pdu[0] if pdu else None}
    body = pdu[1:]
    fc = out["fc"]
    if fc in (1, 2, 3, 4) and len(body) >= 4:
        out["address"], out["count"] = struct.unpack(">HH", body[:4])
    elif fc in (5, 6) and len(body) >= 4:
        out["address"], out["value"] = struct.unpack(">HH", body[:4])
    elif fc in (15, 16) and len(body) >= 5:
        out["address"], out["count"], size = struct.unpack(">HHB", body[:5])
        data = body[5 : 5 + size]
        if fc == 16:
            out["values"] = [w for (w,) in struct.iter_unpack(">H", data[: len(data) // 2 * 2])]
        else:
            out["bits"] = [(data[i // 8] >> (i % 8)) & 1 for i in range(min(out["count"],
                                                                            8 * len(data)))]
    return out


def rtu_request_length(buf):
    """The length of the RTU request at the start of buf, or None while it is incomplete."""
    if len(buf) < 2:
        return None
    fc = buf[1]
    if fc in (1, 2, 3, 4, 5, 6):
        return 8
    if fc in (15, 16):
        return 9 + buf[6] if len(buf) >= 7 else None
    if fc == 0x2B:  # read device identification: unit, 0x2B, 0x0E, code, object id, crc
        return 7
    if fc in (7, 11, 12, 17):
        return 4
    return len(buf)  # unknown: the rest, recorded raw


class Recorder:
    """Splits one connection's byte stream into request frames and appends them to a file."""

    def __init__(self, path, rtu):
        self.out = open(path, "a", encoding="utf-8")
        self.rtu = rtu

    def frames(self, buf):
        """(frames, rest) of buf."""
        found = []
        while buf:
            if self.rtu:
                size = rtu_request_length(buf)
            else:
                size = 6 + struct.unpack(">H", buf[4:6])[0] if len(buf) >= 7 else None
            if size is None or len(buf) < size:
                break
            found.append(bytes(buf[:size]))
            buf = buf[size:]
        return found, buf

    def record(self, frame):
        if self.rtu:
            entry = decode_pdu(frame[0], frame[1:-2])
            entry["crc_ok"] = len(frame) >= 4 and crc16(frame[:-2]) == struct.unpack(
                "<H", frame[-2:])[0]
        else:
            entry = decode_pdu(frame[6], frame[7:])
        entry["raw"] = frame.hex()
        self.out.write(json.dumps(entry) + "\n")
        self.out.flush()


def recording_handler(recorder):
    class RecordingHandler(ModbusConnectedRequestHandler):
        """pymodbus's TCP handler; each request is recorded before pymodbus gets it."""

        def connection_made(self, transport):
            self.pending = b""
            super().connection_made(transport)

        def data_received(self, data):
            frames, self.pending = recorder.frames(self.pending + data)
            for frame in frames:
                recorder.record(frame)
            super().data_received(data)

    return RecordingHandler


async def serve(args):
    spec = json.load(open(args.values, encoding="utf-8"))
    slaves = {int(unit): slave_context(t, False) for unit, t in spec["units"].items()}
    context = ModbusServerContext(slaves=slaves, single=False)
    identity = ModbusDeviceIdentification(
        info_name={
            "VendorName": "EPEVER",
            "ProductCode": spec.get("model", "Tracer3210AN"),
            "MajorMinorRevision": spec.get("firmware", "V02.13+V07.24"),
        }
    )
    rtu = args.link == "rtu-tcp"
    server = await StartAsyncTcpServer(
        context=context,
        identity=identity,
        framer=ModbusRtuFramer if rtu else ModbusSocketFramer,
        address=("127.0.0.1", 0),
        handler=recording_handler(Recorder(args.frames, rtu)),
        defer_start=True,
    )
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print(f"READY {server.server.sockets[0].getsockname()[1]}", flush=True)
    await task


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--link", choices=["tcp", "rtu-tcp"], required=True)
    parser.add_argument("--values", required=True)
    parser.add_argument("--frames", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
