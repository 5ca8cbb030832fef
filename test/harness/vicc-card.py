#!/usr/bin/python3
# A vicc ISO 7816 virtual card (vsmartcard's virtualsmartcard library) that
# connects to vpcd at HOST:PORT, optionally presenting another ATR. Used by
# test/harness/pcsc.ts for a T=0 card: vicc itself only offers the T=1 ATR
# 3B951381018073FF01000B. The card's APDU answers are vicc's, unchanged.
# Usage: vicc-card.py HOST PORT [ATR_HEX]
import logging
import sys

from virtualsmartcard.VirtualSmartcard import VirtualICC

host, port = sys.argv[1], int(sys.argv[2])
icc = VirtualICC(None, 'iso7816', host, port, logginglevel=logging.CRITICAL)
if len(sys.argv) > 3:
    icc.os.atr = bytes.fromhex(sys.argv[3])
sys.stdout.write('vicc-card: connected, ATR %s\n' % icc.os.getATR().hex())
sys.stdout.flush()
try:
    icc.run()
except KeyboardInterrupt:
    pass
