#!/usr/bin/env python3
"""lbg-icapd with the real sanitizer engine, spoken to over loopback TCP (RFC 3507).

Covers: OPTIONS, RESPMOD with preview + 100 Continue, a macro document that must come back
without its VBA project (or blocked), an encrypted document that must be blocked with a block page
carrying its SHA-256, REQMOD upload, 204 for a clean text, pipelining, concurrent clients, the
JSON log, malformed input, and a clean stop on SIGTERM.
"""

import hashlib
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icaptest import *  # noqa: E402,F401,F403


def main():
    docm = open(DOCM_WITH_VBA, "rb").read()
    encrypted = open(ENCRYPTED_DOCX, "rb").read()
    check(has_vba(zip_names(docm)), "the corpus docm really carries a VBA project")
    with tempdir() as d, icapd(d, "--workers", "4", "--max-connections", "16", "--max-body", str(4 << 20)) as (port, log, proc):
        c = IcapClient(port)

        c.send(b"OPTIONS icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        st, h, _, _ = c.read_response()
        check(st == 200, "OPTIONS 200")
        check("RESPMOD" in h["methods"] and "REQMOD" in h["methods"], "Methods lists RESPMOD, REQMOD")
        check(h["allow"] == "204" and h["transfer-preview"] == "*", "Allow: 204, Transfer-Preview: *")
        check(h["istag"].startswith('"') and h["max-connections"] == "16", "ISTag, Max-Connections")
        preview = int(h["preview"])

        # Preview of the docm, then the rest after 100 Continue.
        msg = respmod(b"/dl/report.docm",
                      b"Content-Type: application/vnd.ms-word.document.macroEnabled.12\r\n"
                      b"Content-Disposition: attachment; filename=\"report.docm\"\r\n"
                      b"Content-Length: %d\r\nETag: \"v1\"\r\n" % len(docm),
                      b"Preview: %d\r\nAllow: 204\r\n" % preview)
        c.send(msg + chunk(docm[:preview]))
        st, _, _, _ = c.read_response()
        check(st == 100, "100 Continue after a preview of a document")
        c.send(chunk(docm[preview:]))
        st, h, http, body = c.read_response()
        check(st == 200, "RESPMOD of the docm answered 200")
        if http_status(http) == 200:
            names = zip_names(body)
            check(names is not None and not has_vba(names), "sanitized docm has no vbaProject")
            check(http_header(http, "Content-Length") == str(len(body)), "Content-Length fixed")
            check(http_header(http, "ETag") is None, "old ETag dropped")
            cd = http_header(http, "Content-Disposition") or ""
            check(not cd.endswith('.docm"'), "file name no longer says docm: " + cd)
        else:
            check(is_block_page(http_status(http), body), "docm came back as a block page")

        # Encrypted: cannot be inspected, must be blocked, page names the SHA-256.
        c.send(respmod(b"/dl/secret.docx", b"Content-Type: application/octet-stream\r\n")
               + chunk(encrypted))
        st, h, http, body = c.read_response()
        check(st == 200 and is_block_page(http_status(http), body), "encrypted docx blocked")
        check(hashlib.sha256(encrypted).hexdigest().encode() in body, "block page shows SHA-256")
        check(encrypted[:64] not in body, "block page does not carry the original")

        # Pipelined: a clean text twice in one write, Allow: 204.
        text = "lbg test: 自治体 harmless text\n".encode() * 20
        one = respmod(b"/notes.txt", b"Content-Type: text/plain\r\n", b"Allow: 204\r\n") + chunk(text)
        c.send(one + one)
        for i in range(2):
            st, h, http, body = c.read_response()
            check(st in (200, 204), "pipelined text %d answered %d" % (i, st))
            if st == 200:
                check(http_status(http) == 200 and text in body, "text kept its content")
        c.close()

        # REQMOD: uploading the docm.
        c = IcapClient(port)
        put = (b"PUT /upload/report.docm HTTP/1.1\r\nHost: cloud.example.jp\r\n"
               b"Content-Length: %d\r\n\r\n" % len(docm))
        c.send(b"REQMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n"
               b"Encapsulated: req-hdr=0, req-body=%d\r\n\r\n" % len(put) + put + chunk(docm))
        st, h, http, body = c.read_response()
        check(st == 200, "REQMOD answered 200")
        if http.startswith(b"PUT "):
            check(not has_vba(zip_names(body) or ["vba"]), "uploaded docm sanitized")
            check(http_header(http, "Content-Length") == str(len(body)), "upload Content-Length")
        else:
            check(is_block_page(http_status(http), body), "upload answered with a block page")

        # Malformed Encapsulated: 400 and the connection closes.
        c.send(b"RESPMOD icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n"
               b"Encapsulated: res-body=0, res-hdr=5\r\n\r\n")
        st, _, _, _ = c.read_response()
        check(st == 400, "malformed Encapsulated -> 400")
        c.close()

        # Over --max-body: block page, then close.
        c = IcapClient(port)
        big = b"A" * (5 << 20)
        c.send(respmod(b"/big.bin", b"Content-Type: application/octet-stream\r\n"))
        try:
            c.send(chunk(big, size=1 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close while we are still sending
        st, h, http, body = c.read_response()
        check(st == 200 and is_block_page(http_status(http), body), "oversize -> block page")
        check(h.get("connection") == "close", "oversize closes the connection")
        c.close()

        # Concurrent clients, each with the real engine.
        results = []

        def worker(n):
            try:
                cl = IcapClient(port)
                for _ in range(3):
                    cl.send(respmod(b"/c/%d.docm" % n, b"Content-Type: application/octet-stream\r\n")
                            + chunk(docm))
                    s, _, hh, b = cl.read_response()
                    ok = s == 200 and (is_block_page(http_status(hh), b) or
                                       not has_vba(zip_names(b) or ["vba"]))
                    results.append(ok)
                cl.close()
            except Exception as e:  # reported through results
                print("worker error:", e, file=sys.stderr)
                results.append(False)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(len(results) == 12 and all(results), "4 concurrent clients x 3 documents")


def log_check():
    """One JSON object per file, in the EVE-like shape the gateway's log writer takes."""
    with tempdir() as d, icapd(d) as (port, log, proc):
        c = IcapClient(port)
        encrypted = open(ENCRYPTED_DOCX, "rb").read()
        c.send(respmod(b"/dl/secret.docx?x=1", b"Content-Type: application/octet-stream\r\n",
                       b"X-Client-IP: 192.0.2.10\r\n") + chunk(encrypted))
        c.read_response()
        c.close()
        wait_for(lambda: os.path.exists(log) and os.path.getsize(log) > 0, "the log line")
        lines = [json.loads(l) for l in open(log, encoding="utf-8")]
        check(len(lines) == 1, "one log line per file")
        rec = lines[0]
        check(rec["event_type"] == "fileinfo" and rec["measure"] == "AP-SANITIZE", "EVE-style record")
        check(rec["http"]["hostname"] == "files.example.jp", "http.hostname")
        check(rec["http"]["url"] == "http://files.example.jp/dl/secret.docx?x=1", "http.url")
        check(rec["src_ip"] == "192.0.2.10", "src_ip from X-Client-IP")
        check(rec["fileinfo"].get("verdict") == "blocked", "fileinfo.verdict blocked")
        check(rec["fileinfo"].get("input_sha256") == hashlib.sha256(encrypted).hexdigest(),
              "fileinfo.input_sha256")
        check("timestamp" in rec, "timestamp")


if __name__ == "__main__":
    main()
    log_check()
    print("PASS")
