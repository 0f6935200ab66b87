#!/usr/bin/env python3
"""lbg-audit end to end: a generated log is verified, reported in HTML that headless Chromium
renders without console errors, printed to PDF (pages and text checked with poppler), and a
tampered copy is detected and located. Usage: report_browser_test.py LBG_AUDIT SAMPLELOG WORKDIR"""
import os
import re
import shutil
import subprocess
import sys

audit, samplelog, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
log, key = os.path.join(work, 'log'), os.path.join(work, 'log.key')
failures = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures.append(what)


def run(*args, expect=0):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=240)
    if expect is not None and p.returncode != expect:
        print(p.stdout[-2000:], p.stderr[-2000:])
    return p


run(samplelog, log, key, '20000', '2026-11-01T00:00:00+09:00', str(3 * 86400), '1000000')
base = [audit, '--dir', log, '--pubkey', key + '.pub']

p = run(*base, 'verify')
check(p.returncode == 0 and 'OK' in p.stdout, 'verify of a clean log succeeds')

html = os.path.join(work, 'report.html')
p = run(*base, 'report', '--from', '2026-11-01', '--to', '2026-11-03', '--format', 'html', '--out', html)
check(p.returncode == 0 and os.path.getsize(html) > 10000, 'HTML report written')

# Chromium renders it; console messages (errors, failed loads) are logged as INFO:CONSOLE lines.
profile = os.path.join(work, 'chromium-profile')
p = subprocess.run(['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
                    '--disable-background-networking', '--disable-component-update', '--disable-sync',
                    '--user-data-dir=' + profile, '--enable-logging=stderr', '--v=0', '--dump-dom',
                    'file://' + os.path.abspath(html)], capture_output=True, text=True, timeout=120)
console = [l for l in p.stderr.splitlines() if 'CONSOLE' in l]
check(p.returncode == 0, 'chromium rendered the report')
check(not console, 'no console messages while rendering: %s' % console[:3])
dom = p.stdout
for sid in ['summary', 'AP-DEST', 'AP-PROCEDURE', 'AP-CERT', 'AP-TENANT', 'AP-SANITIZE', 'AP-IDS',
            'AP-DDOS', 'AP-PRIV', 'AP-LOG']:
    check('<section id="%s">' % sid in dom, 'rendered DOM has section ' + sid)
cert = dom[dom.find('<section id="AP-CERT">'):]
cert = cert[:cert.find('</section>')]
check('証明書を確認した接続先' in cert and 'プローブの統計' in cert and 'cert-probe-timeout' in cert,
      'AP-CERT section shows verified destinations, failures and probe statistics')
check(dom.count('<svg') >= 2, 'rendered DOM has the SVG charts')
check('<script' not in open(html, encoding='utf-8').read(), 'report has no script')

for lang, needles in [('ja', ['監査報告書', '接続先制限', '検証成功', 'AP-LOG', '権限管理', 'C21-0008-2',
                             'プローブの統計']),
                      ('en', ['audit report', 'destination restriction', 'Verified', 'AP-LOG', 'Probe statistics'])]:
    pdf = os.path.join(work, 'report.%s.pdf' % lang)
    p = run(*base, 'report', '--from', '2026-11-01', '--to', '2026-11-03', '--format', 'pdf', '--lang', lang,
            '--out', pdf)
    check(p.returncode == 0 and os.path.exists(pdf), 'PDF (%s) printed by chromium' % lang)
    if not os.path.exists(pdf):
        continue
    info = run('pdfinfo', pdf).stdout
    pages = int(re.search(r'Pages:\s+(\d+)', info).group(1))
    check(4 <= pages <= 12, 'PDF (%s) has %d pages' % (lang, pages))
    text = run('pdftotext', '-layout', pdf, '-').stdout
    for n in needles:
        check(n in text, 'PDF (%s) text contains %r' % (lang, n))

csv = os.path.join(work, 'report.csv')
run(*base, 'report', '--from', '2026-11-01', '--to', '2026-11-03', '--format', 'csv', '--out', csv)
check(open(csv, 'rb').read(3) == b'\xef\xbb\xbf', 'CSV starts with a UTF-8 BOM')

# Tampering: one byte in segment 3, record 10.
seg = os.path.join(log, 'seg-0000000003.jsonl')
lines = open(seg, 'rb').read().split(b'\n')
rec = bytearray(lines[9])
rec[20] = ord('1') if rec[20] == ord('0') else ord('0')  # a digit of the timestamp
lines[9] = bytes(rec)
open(seg, 'wb').write(b'\n'.join(lines))
p = run(*base, 'verify', expect=1)
check(p.returncode == 1, 'verify exits 1 on a tampered log')
check('segment 3 (seg-0000000003.jsonl), record 10' in p.stdout, 'the break is located: ' + p.stdout.strip()[-160:])
p = run(*base, 'report', '--from', '2026-11-01', '--to', '2026-11-03', '--format', 'html', '--out', html, expect=1)
check(p.returncode == 1 and '改ざんまたは欠落を検出' in open(html, encoding='utf-8').read(),
      'the report states the broken integrity plainly')

# Bad input: a corrupt seal and a foreign file give precise errors, never a crash.
seal4 = os.path.join(log, 'seg-0000000004.seal')
sealText = open(seal4).read()
open(seal4, 'w').write(sealText.replace('segment=4\n', 'segment=oops\n'))
open(os.path.join(log, 'notes.txt'), 'w').write('auditor notes\n')
p = run(*base, 'verify', '--json', expect=1)
check(p.returncode == 1 and 'seal unreadable (line 3)' in p.stdout, 'a corrupt seal is named with its line')
p = run(audit, '--dir', log, '--pubkey', os.path.join(work, 'report.csv'), 'verify', expect=3)
check(p.returncode == 3 and 'public key' in p.stderr, 'a wrong key file is a clear error')
p = run(audit, 'bogus', expect=2)
check(p.returncode == 2, 'unknown command is a usage error')

if failures:
    print('%d check(s) failed' % len(failures))
    sys.exit(1)
print('all checks passed')
