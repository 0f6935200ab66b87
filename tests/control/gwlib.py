"""Shared harness for the control-plane integration tests against a real lbg-gateway.

The gateway runs inside a network namespace that the test creates, with two DPDK virtual ports:
  inside:  net_af_packet on veth `vi0` of that namespace; the test injects frames on its peer `vi1`
           with a raw AF_PACKET socket (sender runs in the same namespace), so traffic never leaves
           the namespace;
  outside: net_pcap writing every frame the gateway forwards to `out.pcap` (its rx is an empty
           capture), so what crossed is counted exactly.
lbgctl talks to the control socket (a file, reachable from any namespace) as the uid a test asks
for (setresuid in the child: the tests run as root, as CI does).
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

EAL = ["--no-huge", "--no-pci", "--no-shconf", "-m", "512", "--log-level", "lib.eal:error",
       "--no-telemetry"]
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")


failures = []


def check(cond, what):
    """Prints an ok/FAIL line; the failures decide the exit code (finish())."""
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def finish():
    print("%d failures" % len(failures))
    sys.exit(1 if failures else 0)


def reachable_by_others(path):
    """True when other uids can walk down to path: every folder above it is o+x."""
    p = os.path.dirname(os.path.abspath(path))
    while True:
        if not os.stat(p).st_mode & 0o001:
            return False
        if p == "/":
            return True
        p = os.path.dirname(p)


def fresh_dir(path):
    """An empty work folder that the unprivileged test users can enter; returns its path.

    A checkout may sit under a folder only root can enter (Debian 12 makes home folders 0700):
    then the folder is made under /tmp instead, so that where the clone sits never matters."""
    if not reachable_by_others(path):
        path = os.path.join("/tmp", "lbg-test-%s-%d" % (os.path.basename(path), os.getpid()))
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, 0o755)
    return path


def public_copy(binary, folder):
    """A copy of binary in folder/bin that other uids may execute (the build tree may be out of
    their reach). lbgctl links the project's libraries statically, so the file alone runs."""
    dst_dir = os.path.join(folder, "bin")
    os.makedirs(dst_dir, exist_ok=True)
    os.chmod(dst_dir, 0o755)
    dst = os.path.join(dst_dir, os.path.basename(binary))
    shutil.copy2(binary, dst)
    os.chmod(dst, 0o755)
    return dst


def wait_for(what, pred, timeout=30.0, step=0.05):
    """Polls pred() until it is true; bounded (loaded CI machines are slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    raise TimeoutError("timed out waiting for " + what)


def write_empty_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def read_pcap(path):
    """Frames of a classic little-endian pcap (what net_pcap writes); tolerates a torn tail."""
    frames = []
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        return frames
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        if off + 16 + incl > len(data):
            break
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def udp_frame(src, sport, dst, dport, payload=b"lbg-test"):
    """An Ethernet/IPv4/UDP frame with correct IP and UDP checksums."""
    udp_len = 8 + len(payload)
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return SERVER_MAC + CLIENT_MAC + b"\x08\x00" + hdr + udp


def parse_udp(frame):
    """(src, sport, dst, dport) of an Ethernet/IPv4/UDP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    src = ".".join(str(b) for b in frame[26:30])
    dst = ".".join(str(b) for b in frame[30:34])
    sport, dport = struct.unpack_from("!HH", frame, 14 + ihl)
    return src, sport, dst, dport


class Netns:
    """A namespace with a veth pair vi0 (the gateway's inside port) / vi1 (the test's sender)."""

    def __init__(self, tag):
        self.name = "lbgctl%s" % tag
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        sh = lambda *a: subprocess.run(["ip", "netns", "exec", self.name] + list(a), check=True,
                                       capture_output=True)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        sh("ip", "link", "add", "vi0", "type", "veth", "peer", "name", "vi1")
        for i in ("vi0", "vi1"):
            # No IPv6 autoconfiguration chatter: every frame the gateway sees is the test's.
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % i)
            sh("ip", "link", "set", i, "up")

    def exec_prefix(self):
        return ["ip", "netns", "exec", self.name]

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def as_uid(uid):
    # The gateway's socket is 0660 root:root and gateway.yaml cannot name another group yet, so
    # callers get gid 0 as a supplementary group to connect at all (what membership in the
    # socket's group would give them). Roles come from the uid alone: the roles files of these
    # tests name numeric uids only, so this group grants no role.
    def f():
        os.setgroups([0])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    return f if uid else None


class Gateway:
    """One lbg-gateway process with a control socket, roles file and policy store in `work`."""

    def __init__(self, gw_bin, lbgctl, work, policy, roles, netns=None, workers=1, tag="0",
                 extra_config=""):
        self.gw_bin, self.work, self.netns = gw_bin, work, netns
        self.sock = os.path.join(work, "control.sock")
        self.log = os.path.join(work, "events.json")
        self.out_pcap = os.path.join(work, "out.pcap")
        self.store = os.path.join(work, "store")
        self.proc = None
        self.stderr_path = os.path.join(work, "gateway.err")
        os.makedirs(work, exist_ok=True)
        os.chmod(work, 0o755)  # other uids reach the socket inside
        self.lbgctl = public_copy(lbgctl, work)
        with open(os.path.join(work, "policy.yaml"), "w") as f:
            f.write(policy)
        with open(os.path.join(work, "roles.yaml"), "w") as f:
            f.write(roles)
        empty = os.path.join(work, "empty.pcap")
        write_empty_pcap(empty)
        if netns:
            # A deep receive ring (4096 frames): a worker descheduled on a loaded machine must
            # not make the kernel drop what the test counts.
            inside = "net_af_packet0,iface=vi0,blocksz=4096,framesz=2048,framecnt=4096"
        else:
            inside = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (empty, os.path.join(work, "in_tx.pcap"))
        outside = "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, self.out_pcap)
        eal = EAL + ["--file-prefix", "lbgctl%d_%s" % (os.getpid(), tag)]
        with open(os.path.join(work, "gateway.yaml"), "w") as f:
            f.write("eal: %s\n" % json.dumps(eal))
            f.write("ports:\n  inside: \"%s\"\n  outside: \"%s\"\n" % (inside, outside))
            f.write("workers: %d\nflows: 262144\n" % workers)
            f.write("policy: %s\n" % os.path.join(work, "policy.yaml"))
            f.write("log: {file: %s}\n" % self.log)
            f.write("control: {socket: %s, roles: %s, store: %s}\n" %
                    (self.sock, os.path.join(work, "roles.yaml"), self.store))
            f.write(extra_config)
        self.config = os.path.join(work, "gateway.yaml")

    def start(self, timeout=60):
        """Starts the gateway and waits until it runs and answers on the control socket."""
        if os.path.exists(self.out_pcap):
            os.rename(self.out_pcap, self.out_pcap + ".%d" % time.time_ns())
        cmd = [self.gw_bin, "run", "--config", self.config]
        if self.netns:
            cmd = self.netns.exec_prefix() + cmd
        self.err_file = open(self.stderr_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err_file)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("gateway exited with %d:\n%s" % (self.proc.returncode, self.stderr()))
            # Any answer will do (the caller may have no role): exit 3 is "cannot connect".
            return "lbg-gateway: running" in self.stderr() and self.ctl("status")[0] != 3

        wait_for("the gateway to run", ready, timeout, step=0.1)

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def ctl(self, *args, uid=0, timeout=120):
        cmd = [self.lbgctl, "--socket", self.sock] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=as_uid(uid),
                           cwd=self.work, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def ctl_json(self, *args, uid=0):
        rc, out, err = self.ctl("--json", *args, uid=uid)
        if rc != 0:
            raise RuntimeError("lbgctl %s: rc %d: %s" % (" ".join(map(str, args)), rc, err))
        return json.loads(out)

    def counters(self, uid=0):
        return {c["name"]: c["value"] for c in self.ctl_json("stats", uid=uid)["counters"]}

    def events(self):
        out = []
        try:
            with open(self.log) as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("{"):
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass  # a line torn by kill -9
        except FileNotFoundError:
            pass
        return out


class Sender:
    """Injects frames on vi1 of the namespace, from a helper process in that namespace.

    Frames are written to a file first (one per line, hex) and the helper sends them at `pps`,
    printing how many it sent when done, so that the count is exact."""

    SCRIPT = r"""
import os, socket, sys, time
frames = [bytes.fromhex(l) for l in open(sys.argv[1]) if l.strip()]
pps = float(sys.argv[2])
stop = sys.argv[3] if len(sys.argv) > 3 else ""
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vi1", 0))
sent = 0
t0 = time.monotonic()
for i, f in enumerate(frames):
    s.send(f)
    sent += 1
    if i % 16 == 15 and stop and os.path.exists(stop):
        break
    if pps > 0 and i % 16 == 15:
        ahead = t0 + sent / pps - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
print(sent, flush=True)
"""

    def __init__(self, netns, work):
        self.netns, self.work = netns, work
        self.script = os.path.join(work, "sender.py")
        with open(self.script, "w") as f:
            f.write(self.SCRIPT)
        self.proc = None
        self.n = 0

    def start(self, frames, pps, stop_path=""):
        """Sends `frames` at `pps`; stops early once `stop_path` exists (wait() says how many)."""
        path = os.path.join(self.work, "frames-%d.hex" % self.n)
        self.n += 1
        with open(path, "w") as f:
            for fr in frames:
                f.write(fr.hex() + "\n")
        self.proc = subprocess.Popen(self.netns.exec_prefix() + ["/usr/bin/python3", self.script, path,
                                     str(pps), stop_path], stdout=subprocess.PIPE, text=True)

    def wait(self, timeout=600):
        out, _ = self.proc.communicate(timeout=timeout)
        if self.proc.returncode != 0:
            raise RuntimeError("sender failed")
        return int(out.strip())

    def send(self, frames, pps=2000):
        self.start(frames, pps)
        return self.wait()


def verdicts(events):
    """Flow verdict events: list of dicts with tuple, action, policy version and service."""
    out = []
    for e in events:
        if e.get("event_type") != "flow" or e.get("phase") != "verdict":
            continue
        out.append(e)
    return out
