#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of every fuzz target into corpus/TARGET/.

Hand-written valid inputs and edge cases, a few each, plus the inputs that
found bugs (named regress-*), so that the runner replays them every time.
Deterministic: run it again after changing it and commit what changed.
The disk images are built here byte by byte (MBR, GPT header and entries
with their CRCs, a tiny squashfs made with
`mksquashfs DIR img -nopad -all-root -mkfs-time 0 -all-time 0`), small
enough that fuzz-gpt pads them with zeros to an image of 64 KiB."""

import os
import struct
import sys
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus')

SQUASHFS = bytes.fromhex(
    '687371730200000000000000000002000100000001001100c0020100040000002000000000000000'
    'd500000000000000cd00000000000000ffffffffffffffff63000000000000008200000000000000'
    'a700000000000000bf0000000000000068690a1d0078da636258c2c800057006143083c5dec28599'
    '906809a83c00466401ba110078da636080004628cd04c469000092006a1080600000000000000003'
    '0000010000000095000000000000000e0078da6360800005280d0001100021af0000000000000004'
    '8000000000c700000000000000')

ROOT_X86_64 = '4f68bce3-e8cd-4db1-96e7-fbcaf984b709'
ROOT_ARM64 = 'b921b045-1df0-41c3-af44-4c6f280d3fae'
USR_X86_64 = '8484680c-9521-48c6-9c11-b0720656f69e'
HOME = '933ac7e1-2eb4-4f13-b844-0e14e2aef915'
ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'
LINUX = '0fc63daf-8483-4772-8e79-3d69d8477de4'

IMAGE_SECTORS = 128  # what fuzz-gpt pads a small input to: 64 KiB


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def mbr(parts, protective=False):
    """parts: (type byte, first LBA, sectors)."""
    b = bytearray(512)
    if protective:
        parts = [(0xee, 1, IMAGE_SECTORS - 1)]
    for i, (t, first, n) in enumerate(parts):
        struct.pack_into('<B3sB3sII', b, 446 + 16 * i, 0, b'\0\2\0', t, b'\xff\xff\xff', first, n)
    b[510:512] = b'\x55\xaa'
    return b


def gpt(parts, sector=512, n_entries=4, alternate=None, corrupt_crc=False):
    """parts: (type uuid, first LBA, last LBA, flags, name). The primary
    header and its entries only: enough for libblkid."""
    n_sectors = IMAGE_SECTORS * 512 // sector
    if alternate is None:
        alternate = n_sectors - 1
    entries = bytearray()
    for t, first, last, flags, name in parts:
        entries += struct.pack('<16s16sQQQ72s', uuid.UUID(t).bytes_le,
                               uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le,
                               first, last, flags, name.encode('utf-16-le'))
    entries += bytes(128 * n_entries - len(entries))
    h = struct.pack('<8sIIIIQQQQ16sQIII', b'EFI PART', 0x10000, 92, 0, 0, 1, alternate,
                    3, n_sectors - 3,
                    uuid.UUID('01234567-89ab-cdef-0123-456789abcdef').bytes_le,
                    2, n_entries, 128, zlib.crc32(entries))
    h = bytearray(h)
    struct.pack_into('<I', h, 16, zlib.crc32(h) ^ (1 if corrupt_crc else 0))
    img = bytearray(mbr([], protective=True))
    img += bytes(sector - 512)
    img += h + bytes(sector - len(h))
    img += entries
    return img


def put(img, offset, data):
    if len(img) < offset + len(data):
        img += bytes(offset + len(data) - len(img))
    img[offset:offset + len(data)] = data
    return img


def gpt_seeds():
    # Byte 0 is even in all of these: fuzz-gpt recomputes the CRCs, which
    # are right already. Byte 1 is 0xff: the native architecture.
    def image(parts, fs_at=(), **kw):
        img = gpt(parts, **kw)
        img[1] = 0xff
        for lba in fs_at:
            put(img, lba * kw.get('sector', 512), SQUASHFS)
        return bytes(img)

    write('fuzz-gpt', 'gpt-root-x86-64', image([(ROOT_X86_64, 3, 63, 0, 'root')], fs_at=[3]))
    write('fuzz-gpt', 'gpt-root-usr-home-esp',
          image([(ROOT_X86_64, 3, 10, 1 << 60, 'root-x86-64'), (USR_X86_64, 11, 18, 0, 'usr-x86-64'),
                 (HOME, 19, 26, 0, 'home'), (ESP, 27, 34, 0, 'esp')], fs_at=[3, 11, 19]))
    write('fuzz-gpt', 'gpt-generic-linux', image([(LINUX, 3, 63, 0, 'linux')], fs_at=[3]))
    write('fuzz-gpt', 'gpt-two-generic',
          image([(LINUX, 3, 10, 0, 'a'), (LINUX, 11, 18, 0, 'b')], fs_at=[3, 11]))
    write('fuzz-gpt', 'gpt-arm64-only', image([(ROOT_ARM64, 3, 63, 0, 'root-arm64')], fs_at=[3]))
    write('fuzz-gpt', 'gpt-no-auto', image([(ROOT_X86_64, 3, 63, 1 << 63, 'root')], fs_at=[3]))
    write('fuzz-gpt', 'gpt-root-no-fs', image([(ROOT_X86_64, 3, 63, 0, 'root')]))
    write('fuzz-gpt', 'gpt-past-end', image([(ROOT_X86_64, 3, 4096, 0, 'root')], fs_at=[3]))
    # Odd byte 0: a header whose CRC is left wrong, and a header that
    # expects a bigger disk than the image.
    bad = bytearray(image([(ROOT_X86_64, 3, 63, 0, 'root')], fs_at=[3], corrupt_crc=True))
    bad[0] = 1
    write('fuzz-gpt', 'pmbr-bad-crc', bytes(bad))
    big = bytearray(image([(ROOT_X86_64, 3, 63, 0, 'root')], alternate=1 << 20, corrupt_crc=True))
    big[0] = 1
    write('fuzz-gpt', 'pmbr-truncated', bytes(big))
    write('fuzz-gpt', 'pmbr-only', bytes(mbr([], protective=True)))
    # A GPT for 4096-byte sectors: header at byte 4096.
    write('fuzz-gpt', 'gpt-4k', image([(ROOT_X86_64, 3, 12, 0, 'root')], fs_at=[3], sector=4096))
    m = mbr([(0x83, 1, 56)])
    m[1] = 0xff
    write('fuzz-gpt', 'mbr-linux', bytes(put(m, 512, SQUASHFS)))
    m = mbr([(0x83, 1, 1), (0x83, 2, 1)])
    write('fuzz-gpt', 'mbr-two-linux', bytes(put(put(m, 512, SQUASHFS), 1024, SQUASHFS)))
    write('fuzz-gpt', 'bare-squashfs', SQUASHFS)
    write('fuzz-gpt', 'gzip', b'\x1f\x8b\x08\x00' + bytes(12))
    # "a text file" only when the first 4 KiB are text.
    write('fuzz-gpt', 'text', b'Not an image at all.\n' * 200)


def sync_seeds():
    # SyncMessage: int type (1 READY, 2 ERROR), int error, char text[240].
    def msg(t, error, text=b'', n_fds=0, last=False, size=248):
        body = struct.pack('<ii240s', t, error, text)[:size]
        body += bytes(size - len(body))
        return struct.pack('<BH', n_fds | (4 if last else 0), len(body)) + body

    write('fuzz-sync-message', 'ready-with-master', msg(1, 0, n_fds=1, last=True))
    write('fuzz-sync-message', 'ready-without-master', msg(1, 0, last=True))
    write('fuzz-sync-message', 'error', msg(2, 2, b'cannot open /sbin/init: No such file'))
    write('fuzz-sync-message', 'ready-then-error', msg(1, 0, n_fds=1) + msg(2, 13, b'cannot set hostname x'))
    write('fuzz-sync-message', 'ready-twice', msg(1, 0, n_fds=1) + msg(1, 0, n_fds=1))
    write('fuzz-sync-message', 'short', msg(2, 5, b'short', size=20))
    write('fuzz-sync-message', 'nothing', b'')
    # These found the bugs fixed in machine_wait_for_payload().
    write('fuzz-sync-message', 'regress-empty-with-fds', bytes([2, 0, 0]))
    write('fuzz-sync-message', 'regress-short-with-fd', msg(2, 5, b'x', n_fds=1, size=8))
    write('fuzz-sync-message', 'regress-negative-errno', msg(2, -1, b'it worked?'))
    write('fuzz-sync-message', 'regress-int-min-errno', msg(2, -2 ** 31, b'overflow'))


def text_seeds():
    seeds = {
        'fuzz-bind': ['\x00/srv/data', '\x00/srv/data:/data', '\x01/srv/data:/data:rw',
                      '\x00/srv:/srv:ro,idmap', '\x00/srv:/srv:noidmap', '\x00/a:/b/../c',
                      '\x00/a::ro', '\x00/a:/b:', '\x00relative:/x', '\x00/a:/b:ro,,rw'],
        'fuzz-port': ['80', '8080:80', 'tcp:8080:80', 'udp:53', 'udp:53:5353', '65535:1', '0',
                      '65536', 'sctp:80', '80:80:80', 'tcp:', '4294967297'],
        'fuzz-private-users': ['pick', 'identity', 'yes', 'no', '0x80000', '524288:65536',
                               '0x80000:1', '0x6fff0000', '0x70000000', '0x80001', '0x80000:0',
                               '0x80000:65537', 'auto', 'chown', ' 0x80000', '0x80000:'],
        'fuzz-network': ['10.133.0.0/16', '192.168.0.0/24', '10.0.0.0/8', '127.0.0.0/8',
                         '169.254.0.0/16', '224.0.0.0/4', '10.133.0.1/16', '10.133.0.0/31',
                         'lab', 'a-zone_12345', 'zone-too-long', 'br0', 'a-rather-long-machine-name',
                         'with space', '..', 'a/b', 'a:b'],
        'fuzz-machine-name': ['debian', 'debian-12.example', '-bad', 'bad-', 'a..b', 'a.-b',
                              'x' * 64, 'x' * 65, '/srv/My Tree!', '/var/lib/machines/deb/', '/',
                              '', 'ünïcode', '....', '/a/b c/'],
        'fuzz-options': ['30', '1.5s', '250ms', '2min', 'nan', 'inf', '1e400', '0x10s', '-1',
                         '0123456789abcdef0123456789abcdef', '01234567-89ab-cdef-0123-456789abcdef',
                         'CAP_NET_ADMIN,sys_admin', 'all', 'cap_bogus', 'interactive', 'pipe', 'auto'],
        'fuzz-os-release': [
            'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
            "ID='alpine'\nVERSION_ID=3.19.0\n",
            '# comment\nID=\nPRETTY_NAME="\nID_LIKE=\'"\n',
            'ID="unterminated\nNAME\nVERSION_ID==\n',
            'IDX=no\nID=yes',
        ],
        'fuzz-syscall-filter': ['@system-service', '~@mount', 'read write\topenat', 'ptrace\0~ptrace',
                                '@clock\0~clock_settime\0@obsolete', '', '~', ' \t', 'not_a_syscall',
                                '@no-such-group', '~~read', 'READ', '@basic-io @file-system',
                                '@system-service\0\0read', 'kexec_load\0~@reboot'],
        # Byte 0: bit 0 trusted, bit 1 the file wins over the command line.
        'fuzz-settings-file': [
            '\x01[Exec]\nBoot=yes\nParameters=--log-level=debug "two words" a\\ b\nEnvironment=A=1\n'
            'PrivateUsers=pick\nHostname=h\nMachineID=0123456789abcdef0123456789abcdef\n'
            'SystemCallFilter=@clock\nNotifyReady=yes\nCapability=CAP_NET_RAW sys_time\n'
            'DropCapability=mknod\nKillTimeoutSec=5\nNoReboot=yes\n',
            '\x01[Files]\nReadOnly=yes\nEphemeral=no\nBind=/srv/a\nBind=/srv/b:/b:ro\nBindReadOnly=/c\n'
            'TemporaryFileSystem=/t\nPrivateUsersOwnership=chown\n',
            '\x00[Network]\nPrivate=yes\nVirtualEthernet=yes\nBridge=br0\nZone=lab\nPort=tcp:8080:80\nPort=\n',
            '\x02[ResourceLimits]\nMemoryMax=64M\nMemoryHigh=10%\nMemorySwapMax=0\nCPUWeight=500\n'
            'CPUQuota=20%\nTasksMax=infinity\nIOWeight=50\nIOReadBandwidthMax=/dev/null 1M\n',
            '\x00# comment\n; comment\nEarly=1\n[Nope]\nBind=/x\n[Exec]\nUnknown=1\nEnvironment=\n',
            '\x00[Exec]\nPrivateUsers=0x80000:65536\nSystemCallFilter=~@swap\n[Files]\nBind=relative\n',
            '\x03[Exec\n', '\x00[]\n', '\x00=x\n', '\x00[Exec]\nParameters="open\n', '\x00[Exec]\nA\0B\n',
            '\x00', '\x01\r\n  [Exec]  \r\n  Hostname = spaced \r\n',
        ],
        'fuzz-passwd': [
            'root\0root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n\0'
            'root:x:0:\nwheel:x:10:alice,root\nusers:x:100:alice\n',
            'alice\0root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n\0'
            'wheel:x:10:alice,bob\nalice:x:1000:alice\nbad:x:notanumber:alice\n',
            '1000\0alice:x:1000:1000::/home/alice:\n\0',
            '4242\0\0',
            '4294967295\0',
            'bob\0bob:x:4294967295:0::/:/bin/sh\nbob:x:5:4294967295::/:/bin/sh\nbob:x:7:7\n\0',
            'eve\0eve:x:1:1:' + 'x' * 100 + ':' + '/h' * 3000 + ':/bin/sh\n\0',
        ],
    }
    for target, inputs in seeds.items():
        for i, s in enumerate(inputs):
            write(target, 'seed-%02d' % i, s)
    # fuzz-syscall-filter expands the groups only for inputs whose size is
    # a multiple of 8: the same values padded with blanks, which the parser
    # skips.
    for i, s in enumerate(seeds['fuzz-syscall-filter']):
        write('fuzz-syscall-filter', 'allowed-%02d' % i, s + ' ' * (-len(s) % 8 or 8))
    # Found by fuzz-options: converting NaN to an integer (parse_seconds()).
    write('fuzz-options', 'regress-nan', 'nan')


def main():
    gpt_seeds()
    sync_seeds()
    text_seeds()
    return 0


if __name__ == '__main__':
    sys.exit(main())
