"""docs/alerts.yaml: Prometheus rules that parse, and watch metrics /metrics really has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from intake.security import tokens
from tests.helpers.api import post
from tests.helpers.data import ADULT

RULES = Path(__file__).resolve().parent.parent / "docs" / "alerts.yaml"
# PromQL words that are not metrics.
KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan"}


def metric_names(expression: str) -> set[str]:
    """The metrics a PromQL expression reads: its names, less functions and keywords."""
    bare = re.sub(r'"(?:\\.|[^"\\])*"', "", expression)  # strings (label values)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)  # label matchers, ranges
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "",
                  bare)  # label lists
    return {name for name, call in re.findall(r"\b([a-zA-Z_:][\w:]*)\b(\s*\()?", bare)
            if not call and name.lower() not in KEYWORDS}


def test_metric_names_of_an_expression():
    assert metric_names('increase(a_total{task="b c"}[15m]) > 0 and on(x) c > 2 * 86400') == {
        "a_total", "c"}


def test_every_rule_is_complete_and_reads_metrics_that_metrics_serves(client, submit_token,
                                                                      runtime):
    post(client, submit_token, ADULT)  # a request, so that latency has samples too
    with runtime.db.transaction() as session:
        scraper = tokens.create(session, "prometheus", "metrics")
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"}).text
    served = {line.split()[2] if line.startswith("# HELP ") else re.split(r"[{ ]", line)[0]
              for line in scraped.splitlines() if line and not line.startswith("# TYPE")}

    [group] = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = group["rules"]

    assert {rule["alert"] for rule in rules} >= {
        "IntakeAuthorityNotFetching", "IntakeOutboxBacklog", "IntakeMessagesFailed",
        "IntakeWorkerAbsent"}
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        used = metric_names(rule["expr"])
        assert used, rule["alert"]
        assert used <= served, (rule["alert"], used - served)
