#!/usr/bin/env python3
"""The e2e scenarios' UDP client.

  udp-ask.py ask HOST PORT
      one question (3 tries, 1 s each); prints "ANSWER FROM-HOST:FROM-PORT" or "none"
  udp-ask.py stream HOST PORT SOURCE-PORT SECONDS
      a question every 20 ms from SOURCE-PORT for SECONDS; prints "EPOCH-MILLIS ANSWER" per answer
"""
import socket
import sys
import time

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mode == "ask":
    s.settimeout(1)
    for attempt in range(3):
        try:
            s.sendto(b"q", (host, port))
            data, peer = s.recvfrom(2048)
            print(data.decode().split(" ")[0], "%s:%d" % peer, flush=True)
            sys.exit(0)
        except OSError:
            pass
    print("none", flush=True)
    sys.exit(1)
s.bind(("0.0.0.0", int(sys.argv[4])))
s.settimeout(0.02)
end = time.monotonic() + float(sys.argv[5])
while time.monotonic() < end:
    try:
        s.sendto(b"q", (host, port))
    except OSError:
        pass
    until = time.monotonic() + 0.02
    while time.monotonic() < until:
        try:
            data, peer = s.recvfrom(2048)
            print(int(time.time() * 1000), data.decode().split(" ")[0], flush=True)
        except OSError:
            pass
