#!/usr/bin/env python3
"""c-icap-client (Debian package c-icap) against lbg-icapd: an independent ICAP implementation
must be able to read our OPTIONS and RESPMOD answers, with and without preview."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icaptest import *  # noqa: E402,F401,F403


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", errors="replace")


def main():
    client = shutil.which("c-icap-client")
    if client is None:
        fail("c-icap-client not installed (Debian package c-icap, listed in pkg/deps/icap.txt)")
    with tempdir() as d, icapd(d) as (port, log, proc):
        base = [client, "-i", "127.0.0.1", "-p", str(port), "-s", "sanitize"]

        rc, out = run(base + ["-v"])
        check(rc == 0, "c-icap-client OPTIONS exits 0")
        check("ICAP/1.0 200" in out and "Methods" in out, "OPTIONS answer understood:\n" + out)

        for preview_args, label in ((["-w", "1024"], "preview 1024"), (["-nopreview"], "no preview")):
            outfile = os.path.join(d, "out.bin")
            if os.path.exists(outfile):
                os.unlink(outfile)
            rc, out = run(base + ["-v", "-f", DOCM_WITH_VBA, "-o", outfile,
                                  "-resp", "http://files.example.jp/dl/report.docm",
                                  "-rhx", "Content-Type: application/vnd.ms-word.document.macroEnabled.12",
                                  *preview_args])
            check(rc == 0, "c-icap-client RESPMOD (%s) exits 0:\n%s" % (label, out))
            check("ICAP/1.0 200" in out, "RESPMOD (%s) answered 200" % label)
            data = open(outfile, "rb").read() if os.path.exists(outfile) else b""
            names = zip_names(data)
            if names is not None:
                check(not has_vba(names), "(%s) sanitized body has no vbaProject" % label)
            else:
                check("ブロック".encode() in data and b"SHA-256" in data,
                      "(%s) body is the block page" % label)

        text = os.path.join(d, "notes.txt")
        with open(text, "wb") as f:
            f.write("harmless text / 無害なテキスト\n".encode() * 50)
        outfile = os.path.join(d, "text.out")
        rc, out = run(base + ["-v", "-f", text, "-o", outfile, "-resp", "http://h/notes.txt",
                              "-rhx", "Content-Type: text/plain"])
        check(rc == 0 and ("ICAP/1.0 204" in out or "ICAP/1.0 200" in out),
              "clean text answered 204 or 200:\n" + out)

        rc, out = run([client, "-i", "127.0.0.1", "-p", str(port), "-s", "nosuch", "-v"])
        check("404" in out, "unknown service -> 404")
    print("PASS")


if __name__ == "__main__":
    main()
