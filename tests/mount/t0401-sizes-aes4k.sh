#!/usr/bin/env bash
# File sizes 0, 1, 4095, 4096, 4097, 65535, 65536, 65537, 1 MiB-1, 1 MiB,
# 1 MiB+1 on a volume with AES-256-GCM, 4096-byte blocks (the defaults):
# random content written with cp and with 777-byte writes, read back
# exactly, exact plaintext sizes and backing sizes (header + blocks), header
# magic/version/cipher/block size; again after a remount.
. "$(dirname "$0")/../lib.sh"
vol_setup 
grep -qx "block_size = 4096" "$CIPHER/.byokfs.volume" || fail "descriptor block size"
sizes_roundtrip 4096 28 1 0 1 4095 4096 4097 65535 65536 65537 1048575 1048576 1048577
