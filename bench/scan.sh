#!/usr/bin/env bash
# Outside eyes: Debian's wapiti (apt-get install wapiti) against Academy served by the default
# server (academy/serve.py) on loopback, with the demo data, once anonymous and once signed in as the demo instructor and
# the demo admin (a session cookie made with the throwaway instance's key). A documented check
# (docs/security.md), not part of make test. Usage: bench/scan.sh [seconds per scan]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_SCAN=${1:-300}
PORT=${PORT:-5055}
WORK=$(mktemp -d)
OUT=${SCAN_OUT:-$WORK/reports}
mkdir -p "$OUT"
export ACADEMY_INSTANCE_PATH=$WORK/instance ACADEMY_SECRET_KEY=scan-only-secret
.venv/bin/flask --app wsgi db upgrade >/dev/null
.venv/bin/flask --app wsgi academy seed-demo >/dev/null
WEB_CONCURRENCY=2 .venv/bin/python -m academy.serve --host 127.0.0.1 --port "$PORT" 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; echo "reports: $OUT"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

cookie_for() {  # a signed session cookie for a demo account, as the browser would hold it
  .venv/bin/python - "$1" <<'PY'
import sys
from sqlalchemy import select
from academy import create_app
from academy.auth.models import User
from academy.auth.services import start_session
from academy.extensions import db
app = create_app()
with app.app_context():
    user = db.session.scalar(select(User).where(User.username == sys.argv[1]))
    sid = start_session(user)
    db.session.commit()
    print(app.session_interface.get_signing_serializer(app).dumps({"_user_id": user.get_id(), "_fresh": True, "sid": sid}))
PY
}

scan() {  # name, extra wapiti arguments
  local name=$1; shift
  # No -x: Debian's wapiti 3.0.4 crashes on exclusions under Python 3.11 (re.error). Signing
  # out ends the session on the server: if wapiti posts the sign-out form, the rest of that
  # scan runs signed out (check the report's crawled pages).
  wapiti -u "http://127.0.0.1:$PORT/" --scope folder --flush-session \
    --max-scan-time "$SECONDS_PER_SCAN" -f json -o "$OUT/$name.json" "$@" >"$OUT/$name.log" 2>&1 || true
  .venv/bin/python - "$OUT/$name.json" "$name" <<'PY'
import json, sys
from collections import Counter
report = json.load(open(sys.argv[1]))
levels = {1: "low", 2: "medium", 3: "high"}
counts = Counter()
for section in ("vulnerabilities", "anomalies"):
    for category, items in report.get(section, {}).items():
        for item in items:
            counts[f"{section}:{levels.get(item.get('level'), item.get('level'))}"] += 1
            print(f"  {section[:-1]} [{levels.get(item.get('level'))}] {category}: {item.get('method')} {item.get('path')} {item.get('parameter') or ''} {item.get('info', '')[:120]}")
print(f"{sys.argv[2]}: {dict(counts) or 'no findings'}")
PY
}

scan anonymous
scan instructor -H "Cookie: session=$(cookie_for teacher)"
scan admin -H "Cookie: session=$(cookie_for admin)"
