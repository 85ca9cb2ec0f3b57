"""Learning-loop replay on LAPOR-10: does the service learn an agency it never saw from admins?

    python benchmarks/learning_loop.py                              # OJK as the new agency
    python benchmarks/learning_loop.py --new-agency "KEMENTERIAN SOSIAL" --steps 20,50,100

1. Deduplicate the data (as `routing train` does) and set aside a fixed test set (with the
   near duplicates of its complaints: identical but for their numbers).
2. Train a champion on history *without* the new agency's complaints; promote it into a
   registry and serve that registry (the in-process app: predict, feedback, admin reload).
3. Stream held-out complaints (the new agency's and the others', shuffled with a seed)
   through POST /v1/predict. A simulated admin knows the true agency: accepts when the top
   suggestion is right, else corrects it (`new_agency` true for an agency the model lacks).
4. After 20, 50 and 100 corrections: export the feedback, `retrain` (history + feedback,
   compared with the champion on the test set; the operator accepts the proposed new agency,
   `--accept-new-agency`, and no other), `promote` through the gate, reload.
5. Report, per model, the acceptance rate on the stream slice it served (new agency and the
   others separately), and its recall / accuracy on the fixed test set.

Prints a Markdown table and writes it to benchmarks/results/learning_loop.md
(`benchmarks/record.py`); no complaint text is printed. The work is one initial training and one
retraining per step, each on a few thousand complaints.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.api import create_app  # noqa: E402
from routing.bundle import load_bundle  # noqa: E402
from routing.registry import promote, resolve_bundle_dir  # noqa: E402
from routing.settings import Settings  # noqa: E402
from routing.storage.db import make_engine, session_factory  # noqa: E402
from routing.storage.feedback_export import export_feedback  # noqa: E402
from routing.text import near_duplicate_groups  # noqa: E402
from training.pipeline import load_training_data, train  # noqa: E402
from training.retrain import retrain  # noqa: E402
from training.split import train_test_split_stratified  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
DEFAULT_NEW = "OTORITAS JASA KEUANGAN"


@dataclass
class Phase:
    """The stream slice served by one model, and what happened at its end."""

    step: int
    corrections_before: int
    model_version: str
    accepted_new: list[bool] = field(default_factory=list)
    accepted_other: list[bool] = field(default_factory=list)
    test_new_recall: float = 0.0
    test_other_accuracy: float = 0.0
    test_macro_f1: float = 0.0
    gate: str = ""


def split(args) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(history without the new agency, fixed test set, shuffled stream). The test set is
    stratified by agency and holds whole groups of near duplicates (`near_duplicate_groups`),
    so no copy of a test complaint is trained on or streamed."""
    data = load_training_data(args.data, "text", "agency", id_col="id").frame
    rng = np.random.default_rng(args.seed)
    data = data.iloc[rng.permutation(len(data))].reset_index(drop=True)
    _, test_rows = train_test_split_stratified(
        data["agency"].tolist(),
        test_size=args.test_size / len(data),
        seed=args.seed,
        groups=near_duplicate_groups(data["text"].tolist()),
    )
    in_test = np.isin(np.arange(len(data)), test_rows)
    test = data[in_test]
    rest = data[~in_test]
    is_new = rest["agency"] == args.new_agency
    new, others = rest[is_new], rest[~is_new]
    history = others.iloc[: args.history_size]
    stream = pd.concat(
        [new.iloc[: args.stream_new], others.iloc[args.history_size :][: args.stream_others]]
    )
    stream = stream.iloc[rng.permutation(len(stream))].reset_index(drop=True)
    return history, test.reset_index(drop=True), stream


def score_on_test(phase: Phase, registry: Path, test: pd.DataFrame, new_agency: str) -> None:
    """The current version's new-agency recall, accuracy on the others and macro-F1."""
    bundle = load_bundle(resolve_bundle_dir(registry))
    predicted = bundle.router.predict(test["text"].tolist())
    truth = test["agency"].to_numpy(dtype=object)
    is_new = truth == new_agency
    phase.test_new_recall = float((predicted[is_new] == new_agency).mean())
    phase.test_other_accuracy = float((predicted[~is_new] == truth[~is_new]).mean())
    phase.test_macro_f1 = float(f1_score(truth, predicted, average="macro"))


def served_agencies(client: TestClient) -> set[str]:
    return {a["agency"] for a in client.get("/v1/agencies").json()["agencies"]}


def run(args) -> list[Phase]:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="learning-loop-"))
    work.mkdir(parents=True, exist_ok=True)
    history, test, stream = split(args)
    # JSON lines: files for the pipeline to read back as they are, not for a spreadsheet
    history.to_json(work / "history.jsonl", orient="records", lines=True, force_ascii=False)
    test.to_json(work / "test.jsonl", orient="records", lines=True, force_ascii=False)
    registry = work / "models"
    say = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr)  # noqa: E731
    say(
        f"history {len(history)} (no {args.new_agency}), test {len(test)}, stream {len(stream)} "
        f"({int((stream['agency'] == args.new_agency).sum())} of the new agency)"
    )
    say("training the champion")
    champion = train(work / "history.jsonl", "text", "agency", work / "champion", id_col="id")
    promote(registry, champion.bundle_path)

    db_url = f"sqlite:///{work / 'service.db'}"
    settings = Settings(
        _env_file=None, model=registry, db_url=db_url, host="127.0.0.1", reload_interval=0
    )
    steps = sorted(int(s) for s in args.steps.split(","))
    phases: list[Phase] = []
    with TestClient(create_app(settings)) as client:
        known = served_agencies(client)
        corrections, tail = 0, 0
        phase = Phase(0, 0, champion.model_version)
        for row in stream.itertuples(index=False):
            response = client.post("/v1/predict", json={"text": row.text, "complaint_id": row.id})
            response.raise_for_status()
            prediction = response.json()
            accepted = prediction["suggestions"][0]["agency"] == row.agency
            feedback = {
                "prediction_id": prediction["prediction_id"],
                "agency": row.agency,
                "new_agency": row.agency not in known,
            }
            client.post("/v1/feedback", json=feedback).raise_for_status()
            is_new = row.agency == args.new_agency
            (phase.accepted_new if is_new else phase.accepted_other).append(accepted)
            corrections += not accepted
            if len(phases) == len(steps):
                tail += 1
                if tail >= args.tail:
                    break
            elif corrections >= steps[len(phases)]:
                score_on_test(phase, registry, test, args.new_agency)
                phase.gate = retrain_and_promote(
                    client, work, registry, db_url, phase, args.new_agency, say
                )
                phases.append(phase)
                known = served_agencies(client)
                version = client.get("/v1/model").json()["model_version"]
                phase = Phase(len(phases), corrections, version)
        score_on_test(phase, registry, test, args.new_agency)
        phases.append(phase)
    return phases


def retrain_and_promote(client, work, registry, db_url, phase, new_agency, say) -> str:
    """Export → retrain (compared on the test set; the new agency accepted) → promote through
    the gate → reload."""
    step = phase.step + 1
    feedback = work / f"feedback-{step}.csv"
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        n = export_feedback(session, feedback)
    engine.dispose()
    say(f"step {step}: exported {n} decisions; retraining")
    result = retrain(
        work / "history.jsonl",
        feedback,
        "text",
        "agency",
        "id",
        work / f"challenger-{step}",
        eval_path=work / "test.jsonl",
        registry=registry,
        accept_new_agencies=[new_agency],
    )
    if result.merge.proposed_agencies:
        say(f"step {step}: held back decisions for {sorted(result.merge.proposed_agencies)}")
    outcome = promote(registry, result.bundle_path)
    if not outcome.promoted:
        say(f"step {step}: promotion refused: {'; '.join(outcome.verdict.reasons)}")
        return "refused"
    reload = client.post("/v1/admin/reload").json()
    assert reload["model_version"] == outcome.version, reload
    say(f"step {step}: promoted and reloaded {outcome.version}")
    return "promoted"


def rate(values: list[bool]) -> str:
    return f"{np.mean(values):.2f} ({len(values)})" if values else "–"


def table(phases: list[Phase], new_agency: str) -> str:
    lines = [
        f"New agency: {new_agency}. Acceptance = top suggestion right (n in brackets), on the "
        "stream slice each model served; test = fixed held-out set.",
        "",
        "| model | trained after | stream: new agency | stream: others | "
        "test: new-agency recall | test: others accuracy | test: macro-F1 | gate at the end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        name = "champion" if p.step == 0 else f"retrain {p.step}"
        lines.append(
            f"| {name} `{p.model_version}` | {p.corrections_before} corrections | "
            f"{rate(p.accepted_new)} | {rate(p.accepted_other)} | {p.test_new_recall:.2f} | "
            f"{p.test_other_accuracy:.3f} | {p.test_macro_f1:.3f} | {p.gate or '–'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--new-agency", default=DEFAULT_NEW, help="Left out of the champion.")
    parser.add_argument("--steps", default="20,50,100", help="Retrain after N corrections.")
    parser.add_argument("--history-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--stream-new", type=int, default=400)
    parser.add_argument("--stream-others", type=int, default=1200)
    parser.add_argument("--tail", type=int, default=300, help="Complaints after the last step.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="Default: a temp dir.")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("learning_loop", argv, args.results):
        phases = run(args)
        print(table(phases, args.new_agency))
        print(f"\n(seed {args.seed})")


if __name__ == "__main__":
    main()
