"""Parse Prometheus text exposition with the official Python client's parser (not cloudoptima's).

Usage: prom_parse.py < metrics.txt  ->  JSON list of {"name", "labels", "value", "type"} samples.
Fails (non-zero exit) on text the parser rejects.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    samples = []
    for family in text_string_to_metric_families(sys.stdin.read()):
        for s in family.samples:
            samples.append(
                {"name": s.name, "labels": s.labels, "value": s.value, "type": family.type}
            )
    print(json.dumps(samples))


if __name__ == "__main__":
    main()
