"""A one-record DNS server for the shell tests: answers an A query for NAME with ADDRESS on UDP
port 53, any other type for NAME with no record (so that a resolver asking A and AAAA gets its
answer at once), and ignores everything else. Usage: dns_server.py NAME ADDRESS. Run in the server
namespace."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dns_wire  # noqa: E402

name, address = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
while True:
    message, peer = s.recvfrom(2048)
    q = dns_wire.question_of(message)
    if q and q[1].lower() == name.lower():
        qtype = dns_wire.qtype_of(message)
        if qtype == 1:
            s.sendto(dns_wire.answer(q[0], name, address), peer)
        else:
            s.sendto(dns_wire.empty_answer(q[0], q[1], qtype), peer)
