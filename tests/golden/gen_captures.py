#!/usr/bin/python3
"""Writes the golden replay captures into OUTDIR (one pcap per case) with Debian's scapy.

Each capture is a small, fully specified conversation (handshakes included) that exercises one
behaviour of the pipeline; tests/golden/cases/<name>/expected.txt holds the verdicts it must get.
Usage: gen_captures.py OUTDIR
"""
import os
import struct
import sys

from scapy.all import (ARP, IP, UDP, Dot1Q, Ether, HBHOptUnknown, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrHopByHop, Raw, TCP, fragment, wrpcap)

CLIENT = "10.1.0.10"
CLIENT6 = "fd00::10"
M365 = "52.96.10.10"
OTHER = "203.0.113.80"
RESOLVER = "192.0.2.53"
PARTNER = "198.51.100.22"
MAC_C = "02:00:00:00:00:01"
MAC_S = "02:00:00:00:00:02"  # the upstream router: every frame from outside carries it
MAC_A = "02:00:00:00:00:03"  # a host of the segment that forges packets
EVIL = "203.0.113.66"
T0 = 1795000000.0


def u16(v):
    return struct.pack("!H", v)


def client_hello(names=("outlook.office365.com",), alpn=("h2", "http/1.1"), ech=False,
                 two_sni=False, record_size=16384, legacy=0x0303, early=False):
    body = u16(legacy) + bytes(range(32)) + b"\x20" + bytes(32) + u16(4) + u16(0x1301) + \
        u16(0x1302) + b"\x01\x00"
    ext = b""
    if names:
        lst = b"".join(b"\x00" + u16(len(n)) + n.encode() for n in names)
        sni = u16(len(lst)) + lst
        ext += u16(0) + u16(len(sni)) + sni
        if two_sni:
            ext += u16(0) + u16(len(sni)) + sni
    if legacy == 0x0303:  # a TLS 1.1 client offers no supported_versions
        ext += u16(43) + u16(5) + b"\x04\x03\x04\x03\x03"
    if alpn:
        lst = b"".join(bytes([len(a)]) + a.encode() for a in alpn)
        ext += u16(16) + u16(len(lst) + 2) + u16(len(lst)) + lst
    if ech:
        ext += u16(0xfe0d) + u16(40) + b"\xab" * 40
    if early:
        ext += u16(42) + u16(0)
    body += u16(len(ext)) + ext
    msg = b"\x01" + struct.pack("!I", len(body))[1:] + body
    out = b""
    for off in range(0, len(msg), record_size):
        chunk = msg[off:off + record_size]
        out += b"\x16\x03\x01" + u16(len(chunk)) + chunk
    return out


def handshake_msg(kind, body):
    return bytes([kind]) + struct.pack("!I", len(body))[1:] + body


def tls_records(msgs, ctype=22):
    out = b""
    for off in range(0, len(msgs), 16384):
        chunk = msgs[off:off + 16384]
        out += bytes([ctype]) + b"\x03\x03" + u16(len(chunk)) + chunk
    return out


# RFC 8446 4.1.3: the random of a ServerHello that is a HelloRetryRequest.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def server_hello(tls13=False, retry=False):
    """A ServerHello record: TLS 1.2, or TLS 1.3 (supported_versions 0x0304, certificate
    encrypted), or a HelloRetryRequest."""
    random = HRR_RANDOM if retry else bytes(range(100, 132))
    tls13 = tls13 or retry
    body = u16(0x0303) + random + b"\x00" + u16(0x1301 if tls13 else 0xc02f) + b"\x00"
    if tls13:
        ext = u16(43) + u16(2) + u16(0x0304)
        body += u16(len(ext)) + ext
    return handshake_msg(2, body)


def tls12_flight(chain_der):
    """ServerHello, Certificate (leaf first) and ServerHelloDone in handshake records."""
    lst = b"".join(struct.pack("!I", len(c))[1:] + c for c in chain_der)
    cert = handshake_msg(11, struct.pack("!I", len(lst))[1:] + lst)
    return tls_records(server_hello() + cert + handshake_msg(14, b""))


# The server's first flight on TLS flows whose certificate is not under test: TLS 1.3 passes the
# passive certificate check untouched.
SH13 = tls_records(server_hello(tls13=True))


def cert_material(out):
    """A test root (written to OUTDIR/cert-root.pem for `replay --trust-store`) and the leaves of
    the cert_check case, as DER, valid around the capture's time T0."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    t0 = datetime.datetime.fromtimestamp(T0, datetime.timezone.utc)
    day = datetime.timedelta(days=1)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def build(subject, issuer, key, signer, sans, nb, na, ca=False):
        b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(nb).not_valid_after(na)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                critical=True)
        else:
            b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                critical=False)
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
                                critical=False)
        return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = build("lbg golden test root", "lbg golden test root", root_key, root_key, [],
                 t0 - 10 * day, t0 + 3650 * day, ca=True)
    with open(os.path.join(out, "cert-root.pem"), "wb") as f:
        f.write(x509.load_der_x509_certificate(root).public_bytes(serialization.Encoding.PEM))
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = build("lbg golden intermediate", "lbg golden test root", inter_key, root_key, [],
                  t0 - 10 * day, t0 + 365 * day, ca=True)

    def leaf(cn, sans, nb=-1, na=90, signer=None, issuer="lbg golden intermediate"):
        k = ec.generate_private_key(ec.SECP256R1())
        return build(cn, issuer if signer is not None else cn, k, signer or k, sans,
                     t0 + nb * day, t0 + na * day)

    return {
        "valid": [leaf("valid-leaf-cn", ["outlook.office365.com"], signer=inter_key), inter],
        "selfsigned": [leaf("selfsigned-leaf-cn", ["outlook.office365.com"])],
        "wrongname": [leaf("wrongname-leaf-cn", ["www.example.org"], signer=inter_key), inter],
        "expired": [leaf("expired-leaf-cn", ["outlook.office365.com"], nb=-100, na=-10,
                         signer=inter_key), inter],
        "pinned": [leaf("pinned-leaf-cn", ["pinned.example.net"], signer=inter_key), inter],
    }


def dns_name(n):
    return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\x00"


def dns_query(qname, txid=0x4242, qtype=1):
    return u16(txid) + u16(0x0100) + u16(1) + u16(0) + u16(0) + u16(0) + dns_name(qname) + \
        u16(qtype) + u16(1)


def dns_response(qname, cnames, addrs, ttl=300, txid=0x4242):
    def name(n):
        return b"".join(bytes([len(p)]) + p.encode() for p in n.split(".")) + b"\x00"
    m = u16(txid) + u16(0x8180) + u16(1) + u16(len(cnames) + len(addrs)) + u16(0) + u16(0)
    m += name(qname) + u16(1) + u16(1)
    owner = qname
    for c in cnames:
        rd = name(c)
        m += name(owner) + u16(5) + u16(1) + struct.pack("!I", ttl) + u16(len(rd)) + rd
        owner = c
    for a in addrs:
        rd = bytes(int(x) for x in a.split("."))
        m += name(owner) + u16(1) + u16(1) + struct.pack("!I", ttl) + u16(4) + rd
    return m


class Conv:
    """A TCP conversation between the client and a server, with correct sequence numbers."""

    def __init__(self, pkts, server, dport, sport=40000, client=CLIENT, l2=None, v6=False):
        self.pkts, self.server, self.dport, self.sport, self.client = pkts, server, dport, sport, client
        self.l2 = l2 or (lambda: Ether(src=MAC_C, dst=MAC_S))
        self.l2r = lambda: Ether(src=MAC_S, dst=MAC_C)
        self.v6 = v6
        self.cseq, self.sseq = 1000, 90000

    def ip(self, to_server):
        L3 = IPv6 if self.v6 else IP
        return L3(src=self.client, dst=self.server) if to_server else L3(src=self.server, dst=self.client)

    def add(self, p):
        p.time = T0 + len(self.pkts) * 0.001
        self.pkts.append(p)

    def handshake(self):
        self.add(self.l2() / self.ip(True) / TCP(sport=self.sport, dport=self.dport, flags="S", seq=self.cseq))
        self.add(self.l2r() / self.ip(False) / TCP(sport=self.dport, dport=self.sport, flags="SA",
                                                   seq=self.sseq, ack=self.cseq + 1))
        self.cseq += 1
        self.sseq += 1
        self.add(self.l2() / self.ip(True) / TCP(sport=self.sport, dport=self.dport, flags="A",
                                                 seq=self.cseq, ack=self.sseq))
        return self

    def client_data(self, data, seg=None, order=None):
        seg = seg or len(data)
        parts = [(self.cseq + off, data[off:off + seg]) for off in range(0, len(data), seg)]
        if order == "reverse":
            parts.reverse()
        for s, d in parts:
            self.add(self.l2() / self.ip(True) / TCP(sport=self.sport, dport=self.dport, flags="PA",
                                                     seq=s, ack=self.sseq) / Raw(d))
        self.cseq += len(data)
        return self

    def server_data(self, data):
        self.add(self.l2r() / self.ip(False) / TCP(sport=self.dport, dport=self.sport, flags="PA",
                                                   seq=self.sseq, ack=self.cseq) / Raw(data))
        self.sseq += len(data)
        return self

    def close(self):
        self.add(self.l2() / self.ip(True) / TCP(sport=self.sport, dport=self.dport, flags="FA",
                                                 seq=self.cseq, ack=self.sseq))
        self.add(self.l2r() / self.ip(False) / TCP(sport=self.dport, dport=self.sport, flags="FA",
                                                   seq=self.sseq, ack=self.cseq + 1))
        self.add(self.l2() / self.ip(True) / TCP(sport=self.sport, dport=self.dport, flags="A",
                                                 seq=self.cseq + 1, ack=self.sseq + 1))
        return self


def udp(pkts, src, dst, sport, dport, payload):
    p = Ether(src=MAC_C, dst=MAC_S) / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload)
    p.time = T0 + len(pkts) * 0.001
    pkts.append(p)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = {}

    p = []
    Conv(p, M365, 443).handshake().client_data(client_hello()).server_data(SH13 + b"\x17\x03\x03\x00\xc8" + b"s" * 200).close()
    Conv(p, M365, 443, sport=40001).handshake().client_data(client_hello(["contoso.sharepoint.com"])).close()
    cases["allowed_sni"] = p

    p = []
    Conv(p, OTHER, 443).handshake().client_data(client_hello(["www.example.org"]))
    Conv(p, M365, 443, sport=40001).handshake().client_data(client_hello(["sharepoint.com"]))
    Conv(p, M365, 443, sport=40002).handshake().client_data(client_hello(["evilsharepoint.com"]))
    cases["forbidden_sni"] = p

    p = []
    Conv(p, M365, 443).handshake().client_data(client_hello(), seg=1).server_data(SH13)
    Conv(p, M365, 443, sport=40001).handshake().client_data(client_hello(), seg=37, order="reverse")
    Conv(p, M365, 443, sport=40002).handshake().client_data(client_hello(record_size=9), seg=100)
    cases["split_hello"] = p

    p = []
    c = Conv(p, M365, 443).handshake()
    whole = IP(src=CLIENT, dst=M365, id=777) / TCP(sport=40000, dport=443, flags="PA", seq=c.cseq,
                                                    ack=c.sseq) / Raw(client_hello())
    for i, frag in enumerate(fragment(whole, fragsize=64)):
        q = Ether(src=MAC_C, dst=MAC_S) / frag
        q.time = T0 + 1 + i * 0.001
        p.append(q)
    # Overlapping fragments (a classic evasion) are rejected: the flow never gets its hello.
    c2 = Conv(p, M365, 443, sport=40001).handshake()
    whole2 = IP(src=CLIENT, dst=M365, id=778) / TCP(sport=40001, dport=443, flags="PA",
                                                     seq=c2.cseq, ack=c2.sseq) / Raw(client_hello())
    frags = fragment(whole2, fragsize=64)
    evil = frags[1].copy()
    evil.frag = frags[1].frag - 2  # overlaps the first fragment by 16 bytes
    for i, frag in enumerate([frags[0], evil] + list(frags[1:])):
        q = Ether(src=MAC_C, dst=MAC_S) / frag
        q.time = T0 + 2 + i * 0.001
        p.append(q)
    cases["ip_fragments"] = p

    p = []
    udp(p, CLIENT, RESOLVER, 5353, 53, dns_query("files.partner.example"))
    q = Ether(src=MAC_S, dst=MAC_C) / IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=5353) / Raw(
        dns_response("files.partner.example", ["edge.cdn.example"], [PARTNER]))
    q.time = T0 + 0.01
    p.append(q)
    Conv(p, PARTNER, 22, sport=40010).handshake().client_data(b"SSH-2.0-OpenSSH_9.2\r\n")
    Conv(p, "198.51.100.99", 22, sport=40011).handshake().client_data(b"SSH-2.0-OpenSSH_9.2\r\n")
    cases["dns_binding"] = p

    # Writing a binding, as an attacker would. Only the first answer to a query the gateway saw
    # leave binds: a forged answer from a host of the segment (inside port, the resolver's
    # address, the right id and question), an unsolicited answer and a second answer to an
    # answered query all name EVIL with a marker TTL, and must neither bind nor be forwarded.
    p = []

    def answer(sport_client, payload, mac=MAC_S, dt=0.0):
        q = Ether(src=mac, dst=MAC_C) / IP(src=RESOLVER, dst=CLIENT) / UDP(sport=53, dport=sport_client) / Raw(payload)
        q.time = T0 + len(p) * 0.001 + dt
        p.append(q)

    forged = lambda txid: dns_response("files.partner.example", [], [EVIL], ttl=7777777, txid=txid)
    udp(p, CLIENT, RESOLVER, 5300, 53, dns_query("files.partner.example", txid=0x1001))
    answer(5300, dns_response("files.partner.example", [], [PARTNER], txid=0x1001))
    answer(5300, forged(0x1001))  # duplicate
    answer(5300, forged(0x3003))  # unsolicited: no query with that id
    udp(p, CLIENT, RESOLVER, 5301, 53, dns_query("files.partner.example", txid=0x2002))
    answer(5301, forged(0x2002), mac=MAC_A)  # from the inside port, everything else right
    Conv(p, PARTNER, 22, sport=40020).handshake().client_data(b"SSH-2.0-OpenSSH_9.2\r\n")
    Conv(p, EVIL, 22, sport=40021).handshake().client_data(b"SSH-2.0-OpenSSH_9.2\r\n")
    cases["dns_provenance"] = p

    # DNS as a tunnel through the allowed resolver (dns.queries: services): a listed name's query
    # leaves; a query carrying data in a name of the tunnel's own, a label holding a dot (prints
    # as the listed name, is another), two questions (a listed one hiding a second) and, over TCP,
    # a tunnel's query after a listed one in the next segment are dropped and their flows denied.
    p = []
    header = lambda txid, qd: u16(txid) + u16(0x0100) + u16(qd) + u16(0) + u16(0) + u16(0)
    udp(p, CLIENT, RESOLVER, 5400, 53, dns_query("files.partner.example", txid=0x5001))
    udp(p, CLIENT, RESOLVER, 5401, 53, dns_query("tunnel-c2VjcmV0.t.evil.example", txid=0x5002, qtype=16))
    udp(p, CLIENT, RESOLVER, 5402, 53, header(0x5003, 1) + bytes([18]) + b"files.partner.example" +
        b"\x00" + u16(1) + u16(1))
    udp(p, CLIENT, RESOLVER, 5403, 53, header(0x5004, 2) + dns_name("files.partner.example") +
        u16(1) + u16(1) + dns_name("twoq-secret.evil.example") + u16(1) + u16(1))
    listed = dns_query("files.partner.example", txid=0x5005)
    hidden = dns_query("tcp-secret.evil.example", txid=0x5006)
    Conv(p, RESOLVER, 53, sport=40050).handshake().client_data(u16(len(listed)) + listed) \
        .client_data(u16(len(hidden)) + hidden)
    cases["dns_tunnel"] = p

    p = []
    initial = bytes([0xc3, 0, 0, 0, 1, 8]) + bytes(8) + bytes([0, 0, 0x44, 0x9c]) + bytes(1180)
    udp(p, CLIENT, M365, 50000, 443, initial)
    cases["quic_blocked"] = p

    p = []
    Conv(p, M365, 80).handshake().client_data(b"GET / HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n", seg=5)
    Conv(p, M365, 80, sport=40001).handshake().client_data(
        b"GET http://evil.example/ HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n")
    Conv(p, M365, 80, sport=40002).handshake().client_data(
        b"GET / HTTP/1.1\r\nHost: outlook.office365.com\r\nHost: evil.example\r\n\r\n")
    Conv(p, M365, 80, sport=40003).handshake().client_data(b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example\r\n\r\n")
    cases["http_host"] = p

    p = []
    Conv(p, M365, 443).handshake().client_data(client_hello(["outlook.office365.com", "evil.example"]))
    Conv(p, M365, 443, sport=40001).handshake().client_data(client_hello(two_sni=True))
    Conv(p, M365, 443, sport=40002).handshake().client_data(client_hello(ech=True))
    Conv(p, M365, 443, sport=40003).handshake().client_data(client_hello(names=()))
    cases["ambiguous"] = p

    p = []
    qinq = lambda: Ether(src=MAC_C, dst=MAC_S, type=0x88a8) / Dot1Q(vlan=100) / Dot1Q(vlan=200)
    Conv(p, M365, 443, l2=qinq).handshake().client_data(client_hello())
    Conv(p, "2603:1046::10", 443, client=CLIENT6, v6=True).handshake().client_data(client_hello())
    # IPv6 with a hop-by-hop header in front of TCP.
    hbh = Ether(src=MAC_C, dst=MAC_S) / IPv6(src=CLIENT6, dst="2603:1046::10") / IPv6ExtHdrHopByHop() / TCP(
        sport=40005, dport=443, flags="S", seq=1)
    hbh.time = T0 + 5
    p.append(hbh)
    arp = Ether(src=MAC_C, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=CLIENT, pdst="10.1.0.1")
    arp.time = T0 + 6
    p.append(arp)
    cases["vlan_ipv6_arp"] = p

    p = []
    Conv(p, M365, 443).handshake()
    # Mid-stream pick-up: data with no handshake, from inside and from outside.
    q = Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=OTHER) / TCP(sport=45000, dport=443, flags="PA", seq=5) / Raw(b"x" * 50)
    q.time = T0 + 1
    p.append(q)
    q = Ether(src=MAC_S, dst=MAC_C) / IP(src=OTHER, dst=CLIENT) / TCP(sport=443, dport=45001, flags="S", seq=5)
    q.time = T0 + 1.1
    p.append(q)
    # Malformed: truncated IPv4 header, bad IHL, TCP data offset beyond the packet.
    for i, raw in enumerate([bytes(Ether(src=MAC_C, dst=MAC_S, type=0x0800)) + b"\x45\x00\x00",
                             bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=M365, ihl=3) / TCP()),
                             bytes(Ether(src=MAC_C, dst=MAC_S) / IP(src=CLIENT, dst=M365) / TCP(dataofs=15))]):
        q = Ether(raw)
        q.time = T0 + 2 + i * 0.001
        p.append(q)
    cases["midstream_malformed"] = p

    # Attacker's side: only the first request of a connection used to be judged.
    def get(host, extra=b""):
        return b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n" + extra + b"\r\n"
    p = []
    # Keep-alive: an allowed request, then one that names a forbidden host.
    Conv(p, M365, 80).handshake().client_data(get(b"outlook.office365.com")).server_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").client_data(
        get(b"keepalive-evil.example"), seg=9)
    # Allowed keep-alive traffic in the same capture still passes, request after request.
    Conv(p, M365, 80, sport=40001).handshake().client_data(get(b"outlook.office365.com")).server_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").client_data(
        get(b"tenant.sharepoint.com", b"X-Second: allowed-second\r\n"), seg=11).close()
    cases["http_keepalive"] = p

    p = []
    # Pipelining: the forbidden request rides in the same segment as the allowed one.
    Conv(p, M365, 80).handshake().client_data(get(b"outlook.office365.com") + get(b"pipelined-evil.example"))
    # Smuggling: Content-Length and chunked together hide a request in a "body".
    Conv(p, M365, 80, sport=40001).handshake().client_data(
        b"POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get(b"smuggled-evil.example"))
    # Allowed pipelined requests, one with a body that looks like a request, pass.
    body = get(b"body-text.example")
    Conv(p, M365, 80, sport=40002).handshake().client_data(
        b"POST / HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: " +
        str(len(body)).encode() + b"\r\n\r\n" + body + get(b"x.sharepoint.com", b"X-P: allowed-pipelined\r\n")).close()
    cases["http_pipelined"] = p

    p = []
    # Leading bytes a server tolerates used to turn the stream into "other protocol".
    Conv(p, M365, 80).handshake().client_data(b"\r\n" + get(b"crlf-evil.example"))
    Conv(p, M365, 80, sport=40001).handshake().client_data(b"\r\n\r\n" + get(b"outlook.office365.com", b"X-L: allowed-crlf\r\n")).close()
    alert = b"\x15\x03\x01\x00\x02\x01\x00"
    Conv(p, M365, 443, sport=40002).handshake().client_data(alert + client_hello(["alert-evil.example"]))
    ccs = b"\x14\x03\x03\x00\x01\x01"
    Conv(p, M365, 443, sport=40003).handshake().client_data(alert + ccs + client_hello(), seg=40).close()
    cases["stream_lead"] = p

    p = []
    # A second ClientHello behind the judged one, in the same segment, names another server.
    Conv(p, M365, 443).handshake().client_data(client_hello() + client_hello(["second-evil.example"]))
    Conv(p, M365, 443, sport=40001).handshake().client_data(client_hello() + b"\x14\x03\x03\x00\x01\x01").close()
    cases["tls_second_hello"] = p

    p = []
    # After the verdict the client's cleartext handshake is followed (issue 9, class 1). The
    # attacker's ways of getting a second ClientHello to the server: after a HelloRetryRequest
    # (the server asks for it), split over records and segments so that no one segment shows it.
    ccs = b"\x14\x03\x03\x00\x01\x01"
    hrr = tls_records(server_hello(retry=True))
    def app(text):
        return b"\x17\x03\x03" + u16(len(text)) + text
    Conv(p, M365, 443).handshake().client_data(client_hello()).server_data(hrr).client_data(
        ccs + client_hello(["hrr-evil.example"], record_size=90), seg=50)
    # Behind 0-RTT early data, which a server that retries the handshake skips.
    Conv(p, M365, 443, sport=40001).handshake().client_data(client_hello(early=True)).client_data(
        ccs + app(b"zero-rtt") + app(b"more")).server_data(hrr).client_data(
        client_hello(["early-evil.example"]), seg=64)
    # Plaintext after the hello, on a connection allowed by its SNI.
    Conv(p, M365, 443, sport=40002).handshake().client_data(client_hello()).client_data(
        b"GET / HTTP/1.1\r\nHost: plaintext-evil.example\r\n\r\n")
    # Allowed: a hello split over two records and segments, the retried one the same, then
    # encrypted records; and a TLS 1.3-like flow (hello, CCS, application data).
    Conv(p, M365, 443, sport=40003).handshake().client_data(client_hello(record_size=100), seg=33).server_data(
        hrr).client_data(ccs + client_hello(record_size=80), seg=29).client_data(
        app(b"allowed-after-retry") + app(b"x" * 300), seg=120).close()
    Conv(p, M365, 443, sport=40004).handshake().client_data(client_hello(["contoso.sharepoint.com"])).client_data(
        ccs + app(b"allowed-tls13-finished")).server_data(SH13 + b"\x17\x03\x03\x00\x05sssss").client_data(
        app(b"allowed-tls13-data" * 20), seg=100).close()
    cases["tls_follow"] = p

    p = []
    # Apps before payload (issue 9, class 6): a service that demands TLS, allowed by address. A
    # tunnel nDPI cannot name, and a server that speaks first (SSH), used to get up to 16 packets
    # across before app-mismatch; now nothing crosses. TLS to the same service passes whole.
    portal = "203.0.113.200"
    Conv(p, portal, 8443).handshake().client_data(
        b"tunnel-payload-marker" + bytes(range(256)) * 8, seg=150)
    Conv(p, portal, 8443, sport=40001).handshake().server_data(
        b"SSH-2.0-server-banner-marker\r\n").client_data(b"SSH-2.0-client-banner-marker\r\n")
    Conv(p, portal, 8443, sport=40002).handshake().client_data(
        client_hello(["portal.partner.example"])).client_data(
        b"\x17\x03\x03\x00\x13allowed-portal-data").close()
    cases["apps_before_payload"] = p

    p = []
    # Protocol on port: the cloud service's tcp/443 is TLS >= 1.2. An attacker with an allowed
    # name tries plain HTTP there, an old TLS, and a server that speaks first (a tunnel whose
    # server end greets, judged before as "other protocol" by its address alone).
    Conv(p, M365, 443).handshake().client_data(get(b"outlook.office365.com", b"X-S: plain-on-443\r\n"))
    Conv(p, M365, 443, sport=40001).handshake().client_data(
        client_hello(alpn=("old-tls-marker",), legacy=0x0302))
    c = Conv(p, M365, 443, sport=40002).handshake()
    c.server_data(b"220 tunnel-banner-443 ready\r\n")
    c.client_data(b"EHLO tunnel-client-443\r\n")
    Conv(p, M365, 443, sport=40003).handshake().client_data(client_hello()).close()
    cases["protocol_on_port"] = p

    # Insertion and desynchronisation (issue 9, class 3): the server must see the judged bytes.
    def raw(c, flags, seq, ack, data=b"", ttl=None, urg=0):
        ip = c.ip(True)
        if ttl is not None:
            ip.ttl = ttl
        t = TCP(sport=c.sport, dport=c.dport, flags=flags, seq=seq, ack=ack, urgptr=urg)
        c.add(c.l2() / ip / t / Raw(data) if data else c.l2() / ip / t)

    p = []
    # A retransmission after the verdict rewrites the judged ClientHello.
    c = Conv(p, M365, 443, sport=41000).handshake().client_data(client_hello())
    raw(c, "PA", 1001, c.sseq, client_hello(["conflict-evil.example"]))
    # TCP Fast Open: the SYN's data is judged; the server ignores it and the client "resends" other
    # bytes in its place.
    c = Conv(p, M365, 443, sport=41001)
    c.add(c.l2() / c.ip(True) / TCP(sport=c.sport, dport=c.dport, flags="S", seq=1000) / Raw(client_hello()))
    c.add(c.l2r() / c.ip(False) / TCP(sport=c.dport, dport=c.sport, flags="SA", seq=90000, ack=1001))
    raw(c, "PA", 1001, 90001, client_hello(["tfo-evil.example"]))
    # Allowed: the same bytes twice (a real retransmission) pass, and so does what follows.
    c = Conv(p, M365, 443, sport=41002).handshake().client_data(client_hello())
    raw(c, "PA", 1001, c.sseq, client_hello())
    c.server_data(SH13)
    c.client_data(b"\x17\x03\x03\x00\x18allowed-after-retransmit").close()
    cases["stream_conflict"] = p

    p = []
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    # Low TTL: an allowed second request that would expire before the server, then the forbidden
    # one at the same sequence number (the gateway raises the TTL, so the first one arrives).
    c = Conv(p, M365, 80, sport=41010).handshake().client_data(get(b"outlook.office365.com")).server_data(ok)
    raw(c, "PA", c.cseq, c.sseq, get(b"outlook.office365.com"), ttl=1)
    raw(c, "PA", c.cseq, c.sseq, get(b"ttl-evil.example"))
    # A bad ACK: the server drops the segment (RFC 9293) that the gateway would have judged.
    c = Conv(p, M365, 80, sport=41011).handshake().client_data(get(b"outlook.office365.com")).server_data(ok)
    raw(c, "PA", c.cseq, c.sseq + 100000, get(b"outlook.office365.com"))
    raw(c, "PA", c.cseq, c.sseq, get(b"badack-evil.example"))
    # Urgent data: the server's application would not see the urgent byte in the stream.
    c = Conv(p, M365, 80, sport=41012).handshake().client_data(get(b"outlook.office365.com")).server_data(ok)
    raw(c, "PAU", c.cseq, c.sseq, b"X-U: urgent-evil\r\n", urg=5)
    # Allowed keep-alive traffic still passes.
    Conv(p, M365, 80, sport=41013).handshake().client_data(get(b"outlook.office365.com")).server_data(ok).client_data(
        get(b"tenant.sharepoint.com", b"X-I: allowed-insertion\r\n")).close()
    cases["stream_insertion"] = p

    p = []
    # A RST the server ignores (not the exact sequence), then a new SYN on the same 5-tuple: the
    # new connection must not inherit the verdict.
    c = Conv(p, M365, 443, sport=41020).handshake().client_data(client_hello())
    raw(c, "R", c.cseq + 1, 0)
    raw(c, "S", 500000, 0)
    raw(c, "PA", 500001, 0, client_hello(["reuse-evil.example"]))
    # The exact RST ends the flow: the next connection on the 5-tuple is judged from scratch.
    c = Conv(p, M365, 443, sport=41021).handshake().client_data(client_hello())
    raw(c, "R", c.cseq, 0)
    c.cseq = 700000
    c.handshake().client_data(client_hello(["reopen-evil.example"]))
    # Allowed traffic passes.
    Conv(p, M365, 443, sport=41022).handshake().client_data(client_hello() + b"\x17\x03\x03\x00\x0callowed-reuse").close()
    cases["tcp_reuse"] = p

    p = []
    # IPv6 destination option whose type says "discard if unknown": the server drops the packet.
    c = Conv(p, "2603:1006::10", 443, sport=41030, client=CLIENT6, v6=True).handshake().client_data(client_hello())
    c.add(c.l2() / IPv6(src=c.client, dst=c.server) /
          IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x80, optdata=b"\x00" * 4)]) /
          TCP(sport=c.sport, dport=c.dport, flags="PA", seq=c.cseq, ack=c.sseq) / Raw(b"destopt-evil"))
    # The same 5-tuple on another VLAN is another flow: it does not share the allowed verdict
    # (and, not starting with a SYN, is denied as mid-stream).
    c = Conv(p, M365, 443, sport=41031, l2=lambda: Ether(src=MAC_C, dst=MAC_S) / Dot1Q(vlan=10))
    c.l2r = lambda: Ether(src=MAC_S, dst=MAC_C) / Dot1Q(vlan=10)
    c.handshake().client_data(client_hello())
    c2 = Conv(p, M365, 443, sport=41031, l2=lambda: Ether(src=MAC_C, dst=MAC_S) / Dot1Q(vlan=20))
    c2.cseq, c2.sseq = c.cseq, c.sseq
    c2.client_data(client_hello(["vlan-evil.example"]))
    # A packet of a known flow entering from the other side's port (the router's MAC) in the
    # client's name.
    c = Conv(p, M365, 443, sport=41032).handshake().client_data(client_hello())
    c.add(Ether(src=MAC_S, dst=MAC_C) / c.ip(True) /
          TCP(sport=c.sport, dport=c.dport, flags="PA", seq=c.cseq, ack=c.sseq) / Raw(b"wrongport-evil"))
    # Allowed traffic passes, over IPv6 and on a VLAN.
    Conv(p, "2603:1006::10", 443, sport=41033, client=CLIENT6, v6=True).handshake().client_data(
        client_hello() + b"\x17\x03\x03\x00\x0callowed-ipv6").close()
    c = Conv(p, M365, 443, sport=41034, l2=lambda: Ether(src=MAC_C, dst=MAC_S) / Dot1Q(vlan=10))
    c.l2r = lambda: Ether(src=MAC_S, dst=MAC_C) / Dot1Q(vlan=10)
    c.handshake().client_data(client_hello() + b"\x17\x03\x03\x00\x0callowed-vlan").close()
    cases["ingress_consistency"] = p

    p = []
    # An inside host opening connections as fast as it can (a scanning PC): 40 SYNs within 40 ms.
    # The policy's defaults.guard (burst 20) admits 20; the other 20 create no flow. Another host
    # still connects and is judged as usual.
    for i in range(40):
        q = Ether(src=MAC_C, dst=MAC_S) / IP(src="10.1.0.66", dst=M365) / TCP(sport=41000 + i, dport=443, flags="S", seq=7)
        q.time = T0 + i * 0.001
        p.append(q)
    c = Conv(p, M365, 443)
    c.add = lambda q, c=c: (setattr(q, "time", T0 + 0.05 + len(c.pkts) * 0.001), c.pkts.append(q))
    c.handshake().client_data(client_hello()).close()
    cases["guard_new_flows"] = p

    p = []
    # A SYN flood from outside with spoofed sources towards an inside host, then an inside client's
    # allowed connection: the flood makes no flow state and no record.
    for i in range(200):
        q = Ether(src=MAC_S, dst=MAC_C) / IP(src=f"198.18.{i // 250}.{i % 250 + 1}", dst=CLIENT) / TCP(sport=1024 + i, dport=445, flags="S", seq=i)
        q.time = T0 + i * 0.0001
        p.append(q)
    c = Conv(p, M365, 443)
    c.add = lambda q, c=c: (setattr(q, "time", T0 + 0.05 + len(c.pkts) * 0.001), c.pkts.append(q))
    c.handshake().client_data(client_hello()).close()
    cases["guard_syn_flood"] = p

    # Passive certificate check (issue 11): TLS 1.2 flights whose certificate chains to the test
    # root or not; the bytes the server sends after its flight carry a marker per flow.
    chains = cert_material(out)
    p = []
    for i, (kind, sni) in enumerate([("valid", "outlook.office365.com"),
                                     ("valid", "outlook.office365.com"),  # from the cache
                                     ("selfsigned", "outlook.office365.com"),
                                     ("wrongname", "outlook.office365.com"),
                                     ("expired", "outlook.office365.com"),
                                     ("pinned", "pinned.example.net")]):
        c = Conv(p, M365, 443, sport=42000 + i).handshake().client_data(client_hello([sni]))
        flight = tls12_flight(chains[kind])
        c.server_data(flight[:700]).server_data(flight[700:])  # the list straddles segments
        # ClientKeyExchange and ChangeCipherSpec: the client's cleartext handshake ends there.
        c.client_data(tls_records(handshake_msg(16, b"\x04ckex")) + b"\x14\x03\x03\x00\x01\x01")
        c.server_data(b"\x17\x03\x03\x00\x20" + f"after-cert-{kind}-{i}".encode()).close()
    c = Conv(p, M365, 443, sport=42010).handshake().client_data(client_hello())
    c.server_data(SH13 + b"\x17\x03\x03\x00\x20after-cert-tls13").close()
    cases["cert_check"] = p

    p = []
    # A UDP flood from outside (one spoofed source, 300 datagrams to an inside host's port 53)
    # while an inside client connects: the flood makes no flow and is summarised in the log as one
    # `ddos` record with its count, not one record per packet.
    for i in range(300):
        q = Ether(src=MAC_S, dst=MAC_C) / IP(src="198.18.7.1", dst=CLIENT) / UDP(sport=1024 + i, dport=53) / Raw(b"\x00" * 32)
        q.time = T0 + i * 0.0001
        p.append(q)
    c = Conv(p, M365, 443)
    c.add = lambda q, c=c: (setattr(q, "time", T0 + 0.05 + len(c.pkts) * 0.001), c.pkts.append(q))
    c.handshake().client_data(client_hello()).close()
    cases["guard_udp_flood"] = p

    p = []
    # Table exhaustion from inside: a client completes its handshake, then 300 SYNs from as many
    # inside addresses (each within its own new-flow limit) arrive in a 64-flow table whose
    # embryonic part holds 16. They evict each other, oldest first; the established flow stays
    # and is judged when its ClientHello comes.
    c = Conv(p, M365, 443)
    c.add = lambda q, c=c: (setattr(q, "time", T0 + len(c.pkts) * 0.001), c.pkts.append(q))
    c.handshake()
    for i in range(300):
        q = Ether(src=MAC_C, dst=MAC_S) / IP(src=f"10.3.{i // 250}.{i % 250 + 1}", dst=M365) / TCP(sport=40000, dport=443, flags="S", seq=9)
        q.time = T0 + 0.01 + i * 0.0001
        p.append(q)
    c.add = lambda q, c=c: (setattr(q, "time", T0 + 0.1 + len(c.pkts) * 0.001), c.pkts.append(q))
    c.client_data(client_hello()).close()
    cases["guard_embryonic_flood"] = p

    p = []
    # IDS/IPS (rules in cases/ids_inline/ids.rules): a drop rule whose pattern is split across two
    # body segments sent after the verdict; the same pattern inside the held request; an alert
    # rule on http.uri; and a download whose server bytes match a drop rule.
    up = b"POST /upload HTTP/1.1\r\nHost: outlook.office365.com\r\nContent-Length: 32\r\n\r\n"
    Conv(p, M365, 80, sport=42000).handshake().client_data(up).client_data(
        b"0123456IDS-EVIL-").client_data(b"PAYLOAD012345678")
    Conv(p, M365, 80, sport=42001).handshake().client_data(
        b"GET /ids-alert-test HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n").server_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").close()
    Conv(p, M365, 80, sport=42002).handshake().client_data(
        b"GET /?q=IDS-EVIL-PAYLOAD HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n")
    Conv(p, M365, 80, sport=42003).handshake().client_data(
        b"GET / HTTP/1.1\r\nHost: outlook.office365.com\r\n\r\n").server_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\nIDS-EVIL-DOWNLOAD-here")
    cases["ids_inline"] = p

    for name, pkts in cases.items():
        wrpcap(os.path.join(out, name + ".pcap"), pkts)
    print(f"wrote {len(cases)} captures to {out}")


if __name__ == "__main__":
    main()
