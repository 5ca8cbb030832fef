#!/usr/bin/env bash
# npm run demo: boot the local demo VM (tiny guest, SPICE on 127.0.0.1) and open
# the viewer on it — the Electron app where an Electron binary is installed,
# else the web host (its URL is printed; open it in a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-5930}
npm run build --silent
LOG=$(mktemp /tmp/spice-demo-vm.XXXXXX.log)
# the VM's serial console is not needed here: feed it nothing, log what it says
bash scripts/demo-vm.sh </dev/null >"$LOG" 2>&1 &
VM=$!
trap 'kill $VM 2>/dev/null || true; pkill -P $VM 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 600); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  kill -0 $VM 2>/dev/null || { echo "demo VM failed to start; log:"; cat "$LOG"; exit 1; }
  sleep 0.2
done
echo "demo VM: spice://127.0.0.1:$PORT (log $LOG)"
if node -e 'const p=require("electron"); process.exit(require("fs").existsSync(p)?0:1)' 2>/dev/null; then
  npx electron dist/main/electron.cjs "spice://127.0.0.1:$PORT"
else
  echo "no Electron binary here: serving the viewer through the web host"
  node dist/main/web.js "spice://127.0.0.1:$PORT" "$@"
fi
