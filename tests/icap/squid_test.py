#!/usr/bin/env python3
"""Squid (Debian package squid) with lbg-icapd as its RESPMOD/REQMOD service.

A local HTTP server on 127.0.0.1 serves a macro document from the corpus, an encrypted document
and a harmless text; curl fetches them through Squid, which sends each response to lbg-icapd.
The macro document must arrive without its VBA project (or as a block page), the encrypted one as
a block page, the text unchanged; an upload (PUT) must reach the server sanitized.
Everything listens on loopback only; Squid runs in the foreground (-N) with its own config, log,
pid and no disk cache, and is stopped at the end. When run as root, Squid drops to an unprivileged
user (cache_effective_user), which owns the temporary Squid directory.
"""

import email.parser
import email.policy
import os
import pwd
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icaptest import *  # noqa: E402,F401,F403

HERE = os.path.dirname(os.path.abspath(__file__))


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def squid_user():
    for name in ("proxy", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    fail("no unprivileged user for squid")


def curl(args):
    p = subprocess.run(["curl", "-sS", "--noproxy", "", *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def main():
    squid = shutil.which("squid") or "/usr/sbin/squid"
    if not os.access(squid, os.X_OK):
        fail("squid not installed (Debian package squid, listed in pkg/deps/icap.txt)")
    with tempdir() as d:
        os.chmod(d, 0o755)
        www = os.path.join(d, "www")
        uploads = os.path.join(d, "uploads")
        os.makedirs(www)
        os.makedirs(uploads)
        # Symlinks: the corpus is read from where it lives, never copied.
        os.symlink(DOCM_WITH_VBA, os.path.join(www, "report.docm"))
        os.symlink(ENCRYPTED_DOCX, os.path.join(www, "secret.docx"))
        text = "harmless text / 無害なテキスト\n".encode() * 100
        with open(os.path.join(www, "notes.txt"), "wb") as f:
            f.write(text)

        web = subprocess.Popen([sys.executable, "-u", os.path.join(HERE, "http_server.py"), www, uploads],
                               stdout=subprocess.PIPE, stderr=open(os.path.join(d, "http.log"), "wb"))
        squid_proc = None
        try:
            line = web.stdout.readline().decode()
            check(line.startswith("PORT "), "local HTTP server started")
            web_port = int(line.split()[1])

            with icapd(d) as (icap_port, log, _):
                sq = os.path.join(d, "squid")
                os.makedirs(sq)
                squid_port = free_port()
                conf = os.path.join(sq, "squid.conf")
                user_line = ""
                if os.geteuid() == 0:
                    user = squid_user()
                    os.chown(sq, user.pw_uid, user.pw_gid)
                    user_line = "cache_effective_user %s\n" % user.pw_name
                with open(conf, "w") as f:
                    f.write(f"""
http_port 127.0.0.1:{squid_port}
{user_line}pid_filename {sq}/squid.pid
cache_log {sq}/cache.log
access_log stdio:{sq}/access.log
coredump_dir {sq}
netdb_filename none
pinger_enable off
cache deny all
cache_mem 8 MB
shutdown_lifetime 1 seconds
visible_hostname lbg-icap-test
http_access allow localhost
http_access deny all
icap_enable on
icap_preview_enable on
icap_persistent_connections on
adaptation_send_client_ip on
icap_service lbg_resp respmod_precache bypass=off icap://127.0.0.1:{icap_port}/sanitize
icap_service lbg_req reqmod_precache bypass=off icap://127.0.0.1:{icap_port}/sanitize
acl upload method PUT POST
adaptation_access lbg_resp allow all
adaptation_access lbg_req allow upload
adaptation_access lbg_req deny all
""")
                rc = subprocess.run([squid, "-k", "parse", "-f", conf], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, timeout=60)
                check(rc.returncode == 0, "squid accepts the configuration:\n" +
                      rc.stdout.decode(errors="replace")[-2000:])
                squid_proc = subprocess.Popen([squid, "-N", "-f", conf],
                                              stdout=subprocess.DEVNULL,
                                              stderr=open(os.path.join(d, "squid.stderr"), "wb"))
                wait_for(lambda: port_open(squid_port) or squid_proc.poll() is not None,
                         "squid to listen")
                check(squid_proc.poll() is None, "squid running on 127.0.0.1:%d" % squid_port)
                proxy = ["-x", "http://127.0.0.1:%d" % squid_port]
                origin = "http://127.0.0.1:%d" % web_port

                rc, body, err = curl(proxy + ["-D", "-", origin + "/report.docm"])
                check(rc == 0, "docm fetched through squid " + err)
                head, _, data = body.partition(b"\r\n\r\n")
                names = zip_names(data)
                if names is not None:
                    check(not has_vba(names), "docm through squid: no vbaProject inside")
                    check(b"X-LBG-Sanitizer: sanitized" in head, "sanitized marker header")
                else:
                    check(b" 403 " in head.split(b"\r\n")[0] and "ブロック".encode() in data,
                          "docm through squid: block page")

                rc, body, err = curl(proxy + ["-D", "-", origin + "/secret.docx"])
                head, _, data = body.partition(b"\r\n\r\n")
                check(rc == 0 and b" 403 " in head.split(b"\r\n")[0], "encrypted docx -> 403")
                check("ブロック".encode() in data and b"File download blocked" in data,
                      "block page in Japanese and English")

                rc, body, err = curl(proxy + [origin + "/notes.txt"])
                check(rc == 0 and body == text, "harmless text arrives unchanged")

                rc, body, err = curl(proxy + ["-T", DOCM_WITH_VBA, origin + "/up/report.docm"])
                uploaded = os.path.join(uploads, "report.docm")
                if os.path.exists(uploaded):
                    got = open(uploaded, "rb").read()
                    check(not has_vba(zip_names(got) or ["vba"]), "upload reached the server sanitized")
                else:
                    check("ブロック".encode() in body, "upload answered with a block page")

                # A browser-style form upload: the file part is sanitized, the field kept.
                rc, body, err = curl(proxy + ["-F", "comment=ほうこく", "-F",
                                              "doc=@%s;filename=plan.docm" % DOCM_WITH_VBA,
                                              origin + "/form"])
                form = os.path.join(uploads, "form.body")
                if os.path.exists(form):
                    ctype = open(os.path.join(uploads, "form.type")).read()
                    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + open(form, "rb").read())
                    parts = {p.get_param("name", header="content-disposition"): p
                             for p in msg.iter_parts()}
                    check(parts["comment"].get_payload(decode=True) == "ほうこく".encode(),
                          "form field arrived unchanged")
                    doc = parts["doc"]
                    check(not has_vba(zip_names(doc.get_payload(decode=True)) or ["vba"]),
                          "form file part arrived sanitized")
                    check(doc.get_filename() == "plan.docx", "form file part renamed to .docx")
                else:
                    check("ブロック".encode() in body, "form upload answered with a block page")

                lines = open(log, encoding="utf-8").read().splitlines()
                check(len(lines) >= 3, "lbg-icapd logged the files (%d lines)" % len(lines))
                check(all('"src_ip":"127.0.0.1"' in l for l in lines), "client IP from squid logged")
        finally:
            if squid_proc is not None:
                stop_process(squid_proc, "squid")
                sys.stderr.write(open(os.path.join(d, "squid", "cache.log"), errors="replace").read()[-3000:]
                                 if os.path.exists(os.path.join(d, "squid", "cache.log")) else "")
            stop_process(web, "http server")
    print("PASS")


if __name__ == "__main__":
    main()
