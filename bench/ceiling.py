"""The machine's ceiling for a web request: a Flask app that only answers, served as intake
serves (`granian --interface wsgi bench.ceiling:app`)."""

from flask import Flask

app = Flask(__name__)


@app.post("/api/v1/registrations")
@app.get("/")
def answer() -> tuple[str, int]:
    return "ok", 201
