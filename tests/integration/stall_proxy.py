#!/usr/bin/env python3
"""A TCP relay in front of a storage target that stops the storage under I/O.

stall_proxy.py LISTEN_PORT STORAGE_PORT STORAGE_PID ARM_FILE STOPPED_FILE

Relays every connection to 127.0.0.1:STORAGE_PORT. While ARM_FILE exists,
the first SCSI command that writes (WRITE 10/12/16, WRITE SAME,
COMPARE AND WRITE) from the gateway stops the storage with SIGSTOP before
the command is passed on, removes ARM_FILE and creates STOPPED_FILE: a
storage that hangs with a write in hand, at a point a test chooses, as
tgtd stopped by an admin or wedged on its disk would. The relay reads PDU
boundaries, so bytes of data that look like a command never trigger it.
"""
import os
import signal
import socket
import sys
import threading

WRITES = {0x2A, 0xAA, 0x8A, 0x41, 0x93, 0x89}
BHS = 48


class Direction:
    """Splits the gateway-to-storage byte stream into PDUs."""

    def __init__(self):
        self.buffer = b""
        self.full_feature = False
        self.header_digest = 0
        self.data_digest = 0

    def pdus(self, chunk):
        self.buffer += chunk
        while len(self.buffer) >= BHS:
            bhs = self.buffer[:BHS]
            ahs = bhs[4] * 4
            data = int.from_bytes(bhs[5:8], "big")
            padded = (data + 3) & ~3
            length = BHS + ahs + self.header_digest + padded + (self.data_digest if data else 0)
            if len(self.buffer) < length:
                return
            yield bhs
            self.buffer = self.buffer[length:]


def relay(client, storage_port, storage_pid, arm, stopped):
    """Two pumps, one thread each: a stopped storage that stops reading
    blocks only the pump toward it, never another connection's."""
    upstream = socket.create_connection(("127.0.0.1", storage_port))
    to_storage = Direction()

    def pump_to_storage():
        while True:
            chunk = client.recv(65536)
            if not chunk:
                break
            for bhs in to_storage.pdus(chunk):
                opcode = bhs[0] & 0x3F
                if opcode == 0x01 and bhs[32] in WRITES and os.path.exists(arm):
                    os.kill(storage_pid, signal.SIGSTOP)
                    os.unlink(arm)
                    open(stopped, "w").close()
            upstream.sendall(chunk)

    def pump_to_client():
        seen = b""
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            if not to_storage.full_feature:
                # Digests start with full feature phase: the login's last answer.
                seen += chunk
                if b"HeaderDigest=CRC32C" in seen:
                    to_storage.header_digest = 4
                if b"DataDigest=CRC32C" in seen:
                    to_storage.data_digest = 4
                # Login Response (0x23) with T=1 and NSG=3: full feature next.
                if len(chunk) >= 2 and chunk[0] & 0x3F == 0x23 and chunk[1] & 0x83 == 0x83:
                    to_storage.full_feature = True
            client.sendall(chunk)

    def run(pump):
        try:
            pump()
        except OSError:
            pass
        for sock in (client, upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    for pump in (pump_to_storage, pump_to_client):
        threading.Thread(target=run, args=(pump,), daemon=True).start()


def main():
    listen_port, storage_port, storage_pid = (int(a) for a in sys.argv[1:4])
    arm, stopped = sys.argv[4:6]
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    while True:
        client, _ = server.accept()
        relay(client, storage_port, storage_pid, arm, stopped)


if __name__ == "__main__":
    main()
