"""A loopback TCP proxy in front of PostgreSQL that loses the answer to a COMMIT: the server has
committed, the client never hears so. The connection drops as a network or a server crash would
drop it between the two, the one moment a client cannot know whether its transaction landed.

    python3 commit_dropper.py PG_PORT MATCH EVERY LOG [SEED]   # prints "listening PORT" once it listens

Of the COMMITs ending a transaction that sent a statement containing MATCH (any, when MATCH is
empty), counted over all connections, the 1st, then every EVERY-th after it, has its answer
dropped (EVERY 2: the 1st, 3rd, 5th…, so a batch tried again after a drop goes through); with
SEED, each one at random with a chance of 1 in EVERY instead (a fixed stride can fall in step
with a client that makes the same transactions each time it tries again). MATCH
"statement:TEXT" drops instead the answer to a statement containing TEXT sent outside a
transaction (autocommit: done once the server answers it). The
proxy waits for the server's ReadyForQuery after the COMMIT (the commit is done), then closes
both sides without passing it on. Each drop appends a line to LOG. Only plain (sslmode=disable)
connections: the startup message is the one without a type byte. It exits when its standard
input ends, so it dies with the test process that started it.
"""
import asyncio
import os
import random
import struct
import sys
import threading

pg_port = int(sys.argv[1])
match = sys.argv[2].encode()
statements = match.startswith(b"statement:")  # drop a matching statement's own answer
if statements:
    match = match[len(b"statement:") :]
every = int(sys.argv[3])
log_path = sys.argv[4]
chance = random.Random(int(sys.argv[5])) if len(sys.argv) > 5 else None
commits = 0


class Frames:
    """Splits a PostgreSQL protocol stream into messages (type byte, then a 4-byte length)."""

    def __init__(self, startup):
        self.buffer = b""
        self.startup = startup  # the client's first message has no type byte

    def feed(self, data):
        self.buffer += data
        out = []
        while True:
            head = 4 if self.startup else 5
            if len(self.buffer) < head:
                return out
            offset = 0 if self.startup else 1
            (length,) = struct.unpack("!I", self.buffer[offset : offset + 4])
            total = offset + length
            if len(self.buffer) < total:
                return out
            kind = None if self.startup else self.buffer[0:1]
            out.append((kind, self.buffer[head:total]))
            self.buffer = self.buffer[total:]
            self.startup = False


def statement(kind, body):
    """The text of a simple query ('Q') or a Parse ('P': a statement name, then the text)."""
    if kind == b"Q":
        return body
    if kind == b"P":
        return body.split(b"\0", 1)[1] if b"\0" in body else b""
    return None


async def serve(client_reader, client_writer):
    global commits
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", pg_port)
    except OSError:
        client_writer.close()
        return
    doomed = asyncio.Event()  # set once a COMMIT whose answer is to be dropped went to the server
    done = asyncio.Event()

    async def upstream():
        global commits
        frames = Frames(startup=True)
        matched = False  # the open transaction sent a statement containing MATCH
        first = b""  # its first statement after BEGIN, for the log
        in_transaction = False
        try:
            while not done.is_set():
                data = await client_reader.read(65536)
                if not data:
                    break
                for kind, body in frames.feed(data):
                    text = statement(kind, body)
                    if text is None:
                        continue
                    head = text.strip().upper()
                    if statements:
                        if head.startswith(b"BEGIN"):
                            in_transaction = True
                        elif head.startswith((b"COMMIT", b"ROLLBACK")):
                            in_transaction = False
                        elif match in text and not in_transaction:
                            commits += 1
                            if (chance.random() * every < 1) if chance else ((commits - 1) % every == 0):
                                doomed.set()
                                with open(log_path, "a") as log:
                                    log.write(f"dropped {commits}: {' '.join(text.decode(errors='replace').split())[:100]}\n")
                        continue
                    if match in text:
                        matched = True
                    if not first and not head.startswith(b"BEGIN"):
                        first = text.strip()[:100]
                    if head.startswith(b"COMMIT") and matched:
                        commits += 1
                        if (chance.random() * every < 1) if chance else ((commits - 1) % every == 0):
                            doomed.set()
                            with open(log_path, "a") as log:
                                log.write(f"dropped {commits}: {' '.join(first.decode(errors='replace').split())}\n")
                    if head.startswith(b"COMMIT") or head.startswith(b"ROLLBACK"):
                        matched = False
                        first = b""
                server_writer.write(data)
                await server_writer.drain()
        except (ConnectionError, OSError):
            pass
        done.set()

    async def downstream():
        frames = Frames(startup=False)
        try:
            while not done.is_set():
                data = await server_reader.read(65536)
                if not data:
                    break
                if doomed.is_set():
                    # Wait for the server to finish the COMMIT (ReadyForQuery), then lose it all.
                    if any(kind == b"Z" for kind, _ in frames.feed(data)):
                        break
                    continue
                frames.feed(data)
                client_writer.write(data)
                await client_writer.drain()
        except (ConnectionError, OSError):
            pass
        done.set()

    # Whichever side ends first ends both (a dropped answer: the client hears the connection go).
    tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for writer in (client_writer, server_writer):
        writer.transport.abort()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)


async def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
