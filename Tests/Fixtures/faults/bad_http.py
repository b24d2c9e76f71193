"""An HTTP server on 127.0.0.1 that misbehaves the way a step's target can: it prints
"listening PORT" and then answers each connection by its path:

  /silent   reads the request, then sends nothing and keeps the connection open
  /reset    reads the request, then resets the connection (RST, no answer)
  /hang     sends the status line and headers (a 100-byte body promised), then nothing
  /trickle  sends headers, then one byte of a chunked body every 50 ms, for ever
  /flood    sends headers, then an endless chunked body as fast as it can be read

Run: python3 bad_http.py [LOG] (ends with its parent's SIGTERM/SIGKILL). With LOG, the path of
each request is appended to that file, a line each, once its head is read."""
import signal
import socket
import struct
import sys
import threading
import time


LOG = sys.argv[1] if len(sys.argv) > 1 else None


def serve(conn):
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        path = data.split(b" ", 2)[1].decode(errors="replace")
        if LOG:
            with open(LOG, "a") as log:
                log.write(path + "\n")
        if path.startswith("/silent"):
            while conn.recv(65536):
                pass
            return
        if path.startswith("/reset"):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        if path.startswith("/hang"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n")
            while True:
                time.sleep(3600)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
        if path.startswith("/trickle"):
            while True:
                conn.sendall(b"1\r\nx\r\n")
                time.sleep(0.05)
        block = b"x" * 65536
        frame = b"%x\r\n" % len(block) + block + b"\r\n"
        while True:
            conn.sendall(frame)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    # The test process blocks SIGTERM, and a child inherits the mask: take it back, so that
    # a plain kill stops this server too.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print("listening %d" % listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
