"""Run by tests/test_wheel.py inside an installed wheel, outside the checkout.

    python -S -P installed_wheel.py SAMPLE_DIR OUT_DIR

Trains, evaluates and predicts on the sample corpus through the `routing` console script's
entry point, loads the wheel's agency catalogue, and serves one prediction and the console
in-process. Writes OUT_DIR/report.json with what only this process can see: where `routing`
was imported from, every file it opened and the service's answers. Assertions are the test's.
"""

# ruff: noqa: E402  (the audit hook goes in before any import)

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

opened: set[str] = set()


def _record_open(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        opened.add(os.path.abspath(os.fsdecode(args[0])))


sys.addaudithook(_record_open)  # before the imports below: every read of a data file is seen

from fastapi.testclient import TestClient

import routing
from routing.api import create_app
from routing.catalogue import load_catalogue
from routing.cli import main as routing_main
from routing.datafiles import data_file
from routing.gazetteer import load_gazetteer
from routing.settings import Settings


def run_cli(*args: object) -> None:
    """`routing ARGS...` as the console script runs it; a non-zero exit raises."""
    sys.argv = ["routing", *map(str, args)]
    try:
        routing_main()
    except SystemExit as exc:
        if exc.code:
            raise


def serve_once(model: Path, db: Path, text: str) -> dict:
    settings = Settings(_env_file=None, model=model, db_url=f"sqlite:///{db}", batch_workers=0)
    with TestClient(create_app(settings)) as client:
        predict = client.post("/v1/predict", json={"text": text})
        console = client.get("/console/")
        return {
            "predict_status": predict.status_code,
            "predict": predict.json(),
            "console_status": console.status_code,
            "console_html": "<html" in console.text.lower(),
        }


def main() -> None:
    sample, out = Path(sys.argv[1]), Path(sys.argv[2])
    complaints, incoming, model = sample / "complaints.csv", sample / "incoming.csv", out / "model"
    columns = ("--text-col", "text", "--label-col", "agency")
    run_cli("train", complaints, *columns, "--id-col", "id", "--out", model, "--quiet")
    run_cli("evaluate", complaints, "--model", model, *columns, "--json", out / "metrics.json")
    run_cli(
        "predict", incoming, "--model", model, "--text-col", "text", "--id-col", "id",
        "--explain", "3", "--out", out / "predictions.jsonl", "--quiet",
    )  # fmt: skip
    with open(complaints, encoding="utf-8", newline="") as fh:
        labels = [row["agency"] for row in csv.DictReader(fh)]
    # with the gazetteer: the governments every catalogue generates
    catalogue = load_catalogue(data_file("agencies.csv"), gazetteer=load_gazetteer())
    with open(incoming, encoding="utf-8", newline="") as fh:
        first_text = next(csv.DictReader(fh))["text"]
    report = {
        "routing_file": routing.__file__,
        "module_files": sorted(
            str(module.__file__)
            for name, module in list(sys.modules.items())
            if name.partition(".")[0] in {"routing", "training"} and module.__file__
        ),
        "labels_unknown_to_catalogue": catalogue.map_labels(labels).unknown,
        **serve_once(model, out / "service.db", first_text),
    }
    report["opened"] = sorted(opened)
    (out / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
