#!/usr/bin/env python3
"""A DNS-like UDP server for the e2e scenarios: answers every datagram on PORT with NAME, a
space and the datagram. Usage: udp-echo.py PORT NAME (runs until killed)."""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
name = sys.argv[2].encode()
while True:
    data, client = s.recvfrom(2048)
    s.sendto(name + b" " + data, client)
