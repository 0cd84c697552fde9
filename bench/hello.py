"""The ceiling: a bare Flask app under the same gunicorn settings as Academy.

Whatever Academy reaches is compared with this: the gap is our code (templates, database,
sessions), not gunicorn or the machine."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
