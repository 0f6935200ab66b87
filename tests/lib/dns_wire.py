"""DNS messages for the shell tests, built by hand (no resolver library on the test machines):
an A query and the matching answer, and an Ethernet/IPv4/UDP frame around a payload for tests
that must inject a packet with an address the sender does not own (a forged answer)."""
import struct


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(txid, name):
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", 1, 1)


def answer(txid, name, address, ttl=300):
    """An answer to query(txid, name) giving one A record."""
    question = encode_name(name) + struct.pack("!HH", 1, 1)
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + bytes(int(x) for x in address.split("."))
    return struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + question + record


def qtype_of(message):
    """The query type of a one-question message (1 = A, 28 = AAAA), 0 when cut short."""
    i = 12
    while i < len(message) and message[i] != 0:
        i += 1 + message[i]
    return struct.unpack("!H", message[i + 1:i + 3])[0] if i + 3 <= len(message) else 0


def empty_answer(txid, name, qtype, nxdomain=False):
    """An answer without records: NOERROR (the name has no record of that type) or NXDOMAIN."""
    question = encode_name(name) + struct.pack("!HH", qtype, 1)
    return struct.pack("!HHHHHH", txid, 0x8183 if nxdomain else 0x8180, 1, 0, 0, 0) + question


def question_of(message):
    """(txid, name) of a query, or None when it is not a one-question message we understand."""
    if len(message) < 12:
        return None
    txid, _, qd = struct.unpack("!HHH", message[:6])
    if qd != 1:
        return None
    labels, i = [], 12
    while i < len(message) and message[i] != 0:
        n = message[i]
        labels.append(message[i + 1:i + 1 + n].decode(errors="replace"))
        i += 1 + n
    return txid, ".".join(labels)


def _checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload):
    """An Ethernet II frame carrying IPv4/UDP with correct checksums."""
    sip = bytes(int(x) for x in src_ip.split("."))
    dip = bytes(int(x) for x in dst_ip.split("."))
    udp_len = 8 + len(payload)
    pseudo = sip + dip + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", _checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0x1234, 0, 64, 17, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp
