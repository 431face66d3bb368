"""An independent Modbus slave (Debian's python3-pymodbus) serving Tracer registers.

The values come from a JSON file written by the test, so the test knows every raw word the
peer holds and can work out what tracermon must print. Registers missing from the file are
missing from the peer: a read touching them gets exception 2, as on a model that lacks them.

    tracer_peer.py --link serial --device PTY --values FILE
    tracer_peer.py --link tcp|rtu-tcp --values FILE      (listens on a free loopback port)

Prints "READY <port>" on stdout once it serves (port 0 for serial).
"""

import argparse
import asyncio
import json
import logging
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer

TABLES = {"coil": "co", "discrete": "di", "holding": "hr", "input": "ir"}


class FailingBlock(ModbusSparseDataBlock):
    """Answers every read with exception 4 (slave device failure)."""

    def getValues(self, address, count=1):
        raise RuntimeError("simulated device failure")


def block(values, failing):
    cls = FailingBlock if failing else ModbusSparseDataBlock
    # An empty sparse block would answer nothing; {} keeps every address invalid (exception 2).
    return cls({int(a, 0): v for a, v in values.items()} or {0xFFFF: 0})


def slave_context(tables, failing):
    blocks = {key: block(tables.get(table, {}), failing) for table, key in TABLES.items()}
    return ModbusSlaveContext(zero_mode=True, **blocks)


async def serve(args):
    spec = json.load(open(args.values, encoding="utf-8"))
    slaves = {int(unit): slave_context(t, args.fail) for unit, t in spec["units"].items()}
    context = ModbusServerContext(slaves=slaves, single=False)
    identity = ModbusDeviceIdentification(
        info_name={
            "VendorName": spec.get("vendor", "EPEVER"),
            "ProductCode": spec.get("model", "Tracer3210AN"),
            "MajorMinorRevision": spec.get("firmware", "V02.13+V07.24"),
        }
    )
    if args.link == "serial":
        server = await StartAsyncSerialServer(
            context=context,
            identity=identity,
            framer=ModbusRtuFramer,
            port=args.device,
            baudrate=115200,
            defer_start=True,
        )
        await server.start()
        task = asyncio.create_task(server.serve_forever())
        port = 0
    else:
        framer = ModbusRtuFramer if args.link == "rtu-tcp" else ModbusSocketFramer
        server = await StartAsyncTcpServer(
            context=context,
            identity=identity,
            framer=framer,
            address=("127.0.0.1", 0),
            defer_start=True,
        )
        task = asyncio.create_task(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    await task


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--link", choices=["serial", "tcp", "rtu-tcp"], required=True)
    parser.add_argument("--device")
    parser.add_argument("--values", required=True)
    parser.add_argument("--fail", action="store_true", help="answer every read with exception 4")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
