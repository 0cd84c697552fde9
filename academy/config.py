"""Defaults only. Secrets and per-site values come from instance/config.py or ACADEMY_* env."""

# Database: SQLite in instance/ unless DATABASE_URL says otherwise (resolved in create_app).
SQLALCHEMY_DATABASE_URI = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
SQLITE_BUSY_TIMEOUT_MS = 15000

# Languages: Thai first. Learners in Thai school rooms often sit at PCs set to English, so the
# browser's Accept-Language is deliberately not consulted: Thai unless the person chose English.
LANGUAGES = ("th", "en")
BABEL_DEFAULT_LOCALE = "th"
BABEL_DEFAULT_TIMEZONE = "Asia/Bangkok"
# Buddhist Era years in Thai dates (2569 rather than 2026).
BUDDHIST_ERA = True

# Sessions: a signed cookie naming a row of user_sessions (auth.models.UserSession), so any
# app server can serve any request and signing out ends the session everywhere it is copied.
# A session lasts PERMANENT_SESSION_LIFETIME from sign-in.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # set ACADEMY_SESSION_COOKIE_SECURE=true behind HTTPS
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
WTF_CSRF_TIME_LIMIT = None  # a form left open through a 40-minute period must still submit

# A request still running after this many seconds is stuck: its worker is ended and replaced
# (academy/core/watchdog.py under granian; gunicorn.conf.py's `timeout` under gunicorn).
REQUEST_TIMEOUT_SECONDS = 30

# Files: uploads and generated PDFs. On several app servers this must be shared storage.
DATA_DIR = None  # default: <instance>/data
MAX_CONTENT_LENGTH = 64 * 1024 * 1024
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
# /healthz and admins' pages warn when the disk of the database or of DATA_DIR has less free
# space than this (docs/operations.md, "A full disk").
STORAGE_WARNING_FREE_BYTES = 1024 * 1024 * 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
# A course kept on a phone (docs/phones.md): at most this much per course, videos kept only up
# to this size (a seller's phone is often nearly full, and mobile data is paid by the GB).
OFFLINE_COURSE_MAX_BYTES = 50 * 1024 * 1024
OFFLINE_VIDEO_MAX_BYTES = 8 * 1024 * 1024
# A course uploaded to the studio as a ZIP (docs/course-format.md): limits against zip bombs.
# A starter course is about 60 entries and 1 MB; text compresses about 5 times.
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_BYTES = 256 * 1024 * 1024
ZIP_MAX_RATIO = 100
# JSON bodies (saved answers): checked before parsing, so a deep or huge body is a clear 400.
JSON_MAX_BYTES = 256 * 1024
JSON_MAX_DEPTH = 20

# Sign-in throttling: failures counted in the database so every app server sees them, within
# a sliding window. The numbers and why: docs/security.md, "Sign-in throttling".
SIGNIN_WINDOW_SECONDS = 15 * 60
# One account from one address: what someone guessing at one place may try.
SIGNIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS = 5
# One account from every address together (browsers that never signed in to it): the bound on
# guessing from many places; higher than the pair limit so one stranger cannot reach it.
SIGNIN_MAX_FAILURES_PER_ACCOUNT = 20
# One browser where this account signed in before (its device cookie): not held back by the
# two limits above, so a stranger's failures cannot lock the owner out of their own browser.
SIGNIN_MAX_FAILURES_PER_DEVICE = 5
SIGNIN_DEVICE_COOKIE_DAYS = 180
# One address, every account: a room of 40 behind one NAT address, each learner using their
# whole pair budget (40 x 5), still signs in.
SIGNIN_MAX_FAILURES_PER_ADDRESS = 200
# Networks with no per-address limit (a school's NAT address, the LAN the server sits on), as
# a list or comma-separated: ACADEMY_SIGNIN_EXEMPT_NETWORKS="203.0.113.7/32,10.0.0.0/8". The
# per-account limits still apply there.
SIGNIN_EXEMPT_NETWORKS: list[str] = []

# Password hashes (Argon2id, 19 MiB each) computed at once in one server process; more wait
# their turn, so a storm of sign-ins queues instead of multiplying memory (issue 15). The
# whole server computes at most this times its number of worker processes.
PASSWORD_HASHES_AT_ONCE = 1

# Self-registration for sellers and entrepreneurs; an admin can switch it off in the app.
SELF_REGISTRATION_DEFAULT = True

# Static files carry a content fingerprint, so browsers may keep them for a year.
STATIC_MAX_AGE = 365 * 24 * 3600

# Behind a reverse proxy (nginx), trust this many X-Forwarded-* hops.
PROXY_FIX_HOPS = 0

# Public base URL for links printed on certificates (QR codes); default: the request's host.
PUBLIC_BASE_URL = None

# Certificates: who issues them when a course's certificate design names no one; each issuer
# is printed in Thai with the English name beneath.
CERTIFICATE_ISSUERS = [{"th": "กรุงเทพมหานคร", "en": "Bangkok Metropolitan Administration"}]
# Guessing codes on the public verification page: after this many unknown codes from one
# address within the window, answer 429 until the window has passed.
# The issuer's contact e-mail in the Open Badges Issuer profile (optional).
BADGE_ISSUER_EMAIL = ""
CERTIFICATE_VERIFY_MAX_FAILURES = 20
CERTIFICATE_VERIFY_WINDOW_SECONDS = 15 * 60
# Course outlines each process keeps by course version (academy/courses/outline_cache.py):
# a course's modules and items, a few KB each.
OUTLINE_CACHE_COURSES = 256
# gzip text responses over 1 KB (academy/core/compress.py); harmless behind nginx.
GZIP_RESPONSES = True

# How often a learner's page and the projector board ask whether the period changed (seconds).
# 40 PCs at 5 s is 8 small requests a second per room, most of them answered 304.
PERIOD_POLL_SECONDS = 5

# School servers (docs/sync.md): "city" (the default; PostgreSQL) or "school" (a server on a
# school's LAN that joins the city with `flask --app wsgi academy sync join CITY_URL TOKEN`).
SYNC_ROLE = "city"
# Rows in one pushed batch: about 200 KB compressed, so a slow link still makes progress.
SYNC_BATCH_ROWS = 2000
# A school server started with `python -m academy.serve` runs a round by itself every this many
# minutes (ACADEMY_SYNC_ROUND_MINUTES=15); 0 (the default): only `sync run` (by hand, or a timer).
SYNC_ROUND_MINUTES = 0
