"""Interview scoring and outline quality, and scoring speed.

Run: ``.venv/bin/python bench/engines_interview_quality.py [--interviews 600] [--seed 2026] [--outlines 240]``

Prints:

* **scoring agreement** on generated interviews (:mod:`engines.transcripts`, Chinese, English and mixed
  speech with fillers, self-corrections and ASR slips): quadratic weighted kappa between the engine's
  level and the generator's truth on the dimensions both score, exact and within-one agreement, per
  language and for hard and soft dimensions;
* **null accuracy**: of the dimensions the interview never addresses, the share the engine returns as
  ``null``; and the false-null rate (addressed, but returned ``null``);
* the same agreement on the **hand-written** transcripts of ``tests/engines/test_scoring_handwritten.py``
  (written the way people talk; the generator cannot produce them);
* **outline coverage** on generated resumes and jobs (:mod:`engines.resumes`): share of rubric dimensions
  covered, share of truly missing must-haves verified (and verify questions aimed at a truly missing
  one), participated-only skills probed, resumes with a metric whose result is dug into, evidence valid;
* **speed**: transcripts scored per second and outlines generated per second, on one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.extract import extract_features
from engines.outline import generate_outline
from engines.resumes import generate_jobs, generate_resumes
from engines.rubric import default_rubrics, load_default_rubric
from engines.scoring import score_interview
from engines.transcripts import generate_interviews
from tests.engines.test_scoring_handwritten import HANDWRITTEN

# Resume categories of the resume generator that have a shipped rubric.
_CATEGORY_RUBRIC = {
    "backend": "backend_engineer",
    "mechanical": "mechanical_designer",
    "sales": "sales",
    "service": "customer_service_lead",
}


def quadratic_weighted_kappa(pairs: list[tuple[int, int]], levels: int = 5) -> float:
    """Cohen's kappa with quadratic weights on a 1..``levels`` scale (1.0 = perfect, 0 = chance)."""
    if not pairs:
        return float("nan")
    observed = [[0.0] * levels for _ in range(levels)]
    for truth, predicted in pairs:
        observed[truth - 1][predicted - 1] += 1
    n = len(pairs)
    rows = [sum(observed[i]) for i in range(levels)]
    cols = [sum(observed[i][j] for i in range(levels)) for j in range(levels)]
    numerator = denominator = 0.0
    for i in range(levels):
        for j in range(levels):
            weight = (i - j) ** 2 / (levels - 1) ** 2
            numerator += weight * observed[i][j]
            denominator += weight * rows[i] * cols[j] / n
    return 1.0 - numerator / denominator if denominator else 1.0


class Tally:
    """Truth/prediction pairs and null outcomes for one slice."""

    def __init__(self) -> None:
        self.pairs: list[tuple[int, int]] = []
        self.unaddressed = 0
        self.null_when_unaddressed = 0
        self.addressed = 0
        self.null_when_addressed = 0

    def add(self, truth: int | None, predicted: float | None) -> None:
        if truth is None:
            self.unaddressed += 1
            self.null_when_unaddressed += predicted is None
            return
        self.addressed += 1
        if predicted is None:
            self.null_when_addressed += 1
        else:
            self.pairs.append((truth, round(predicted)))

    def line(self, label: str) -> str:
        exact = sum(t == p for t, p in self.pairs) / len(self.pairs) if self.pairs else float("nan")
        within = sum(abs(t - p) <= 1 for t, p in self.pairs) / len(self.pairs) if self.pairs else float("nan")
        null_acc = self.null_when_unaddressed / self.unaddressed if self.unaddressed else float("nan")
        false_null = self.null_when_addressed / self.addressed if self.addressed else float("nan")
        return (
            f"  {label:<14} QWK {quadratic_weighted_kappa(self.pairs):.3f}  exact {exact:.3f}  "
            f"within-1 {within:.3f}  null-accuracy {null_acc:.3f}  false-null {false_null:.3f}  "
            f"(scored {len(self.pairs)}, unaddressed {self.unaddressed})"
        )


def confusion(pairs: Iterable[tuple[int, int]]) -> str:
    counts = Counter(pairs)
    rows = ["    truth\\engine   1     2     3     4     5"]
    for truth in range(1, 6):
        rows.append(f"    {truth:>11}  " + " ".join(f"{counts[(truth, p)]:>5}" for p in range(1, 6)))
    return "\n".join(rows)


def scoring_agreement(count: int, seed: int) -> None:
    interviews = generate_interviews(count, seed=seed)
    rubrics = default_rubrics()
    overall = Tally()
    by_language: defaultdict[str, Tally] = defaultdict(Tally)
    by_kind: defaultdict[str, Tally] = defaultdict(Tally)
    for interview in interviews:
        rubric = rubrics[interview.rubric_id]
        report = score_interview(interview.answers, rubric)
        for dimension, score in zip(rubric.dimensions, report.dimension_scores, strict=True):
            truth = interview.truth_for(dimension.key)
            overall.add(truth, score.score)
            by_language[interview.language].add(truth, score.score)
            by_kind[dimension.kind].add(truth, score.score)
    print(f"Scoring agreement, generated interviews ({count}, seed {seed}):")
    print(overall.line("all"))
    for language in ("zh", "en", "mixed"):
        print(by_language[language].line(f"language {language}"))
    for kind in ("hard", "soft"):
        print(by_kind[kind].line(f"{kind} dims"))
    print(confusion(overall.pairs))


def handwritten_agreement() -> None:
    tally = Tally()
    for case in HANDWRITTEN:
        report = score_interview(case.answers, load_default_rubric(case.rubric_id))
        for key, truth in case.truth.items():
            tally.add(truth, report.score_for(key).score)
    print(f"Scoring agreement, hand-written transcripts ({len(HANDWRITTEN)} interviews):")
    print(tally.line("all"))
    print(confusion(tally.pairs))


def outline_coverage(count: int, seed: int) -> None:
    categories = sorted(_CATEGORY_RUBRIC)
    resumes = generate_resumes(count, seed=seed, categories=categories)
    dims_covered: list[float] = []
    missing_total = missing_verified = verify_total = verify_on_target = 0
    participated_total = participated_probed = 0
    metric_resumes = metric_dug = 0
    evidence_total = evidence_valid = 0
    deterministic = True
    for index, resume in enumerate(resumes):
        job = generate_jobs(1, seed=seed * 1000 + index, categories=[resume.truth.category])[0]
        rubric = load_default_rubric(_CATEGORY_RUBRIC[resume.truth.category])
        features = extract_features(resume.text)
        outline = generate_outline(features, resume.text, job.requirements, rubric)
        if index < 20:
            again = generate_outline(extract_features(resume.text), resume.text, job.requirements, rubric)
            deterministic = deterministic and again == outline
        keys = {d.key for d in rubric.dimensions}
        dims_covered.append(len(outline.covered_dimensions() & keys) / len(keys))

        claimed = {m.skill_id for m in resume.truth.mentions if not m.negated}
        truly_missing = [s for s in job.requirements.must_have if s not in claimed]
        verified = {q.skill_id for q in outline.questions if q.purpose == "verify_must_have"}
        missing_total += len(truly_missing)
        missing_verified += sum(s in verified for s in truly_missing)
        verify_total += len(verified)
        verify_on_target += sum(s in truly_missing for s in verified)

        best: dict[str, int] = {}
        rank = {"listed": 0, "participated": 1, "used": 2, "led": 3}
        for mention in resume.truth.mentions:
            if mention.known and not mention.negated:
                best[mention.skill_id] = max(best.get(mention.skill_id, -1), rank[mention.involvement])
        participated = [s for s, r in best.items() if r == 1]
        probed = {q.skill_id for q in outline.questions if q.purpose == "probe_ownership"}
        # An outline asks at most four ownership questions: count the skills it could have asked about.
        participated_total += min(len(participated), 4)
        participated_probed += min(sum(s in probed for s in participated), 4)

        if any(c.isdigit() for c in resume.text) and ("%" in resume.text or "％" in resume.text):
            metric_resumes += 1
            metric_dug += any(q.purpose == "dig_into_result" for q in outline.questions)
        for question in outline.questions:
            if question.resume_evidence is not None:
                evidence_total += 1
                evidence_valid += question.resume_evidence.is_valid_for(resume.text)

    def share(part: int, whole: int) -> str:
        return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a"

    print(f"Outline coverage, generated resumes and jobs ({count}, seed {seed}):")
    print(f"  rubric dimensions covered           {statistics.fmean(dims_covered):.3f} (mean per outline)")
    print(f"  truly missing must-haves verified   {share(missing_verified, missing_total)}")
    print(f"  verify questions on a missing one   {share(verify_on_target, verify_total)}")
    print(f"  participated-only skills probed     {share(participated_probed, participated_total)}")
    print(f"  resumes with a % metric dug into    {share(metric_dug, metric_resumes)}")
    print(f"  resume evidence valid               {share(evidence_valid, evidence_total)}")
    print(f"  deterministic (20 regenerated)      {deterministic}")


def speed(seconds: float, seed: int) -> None:
    """Per-core throughput from process CPU time, so other work on the machine does not skew it."""
    interviews = generate_interviews(400, seed=seed + 1)
    rubrics = default_rubrics()
    for interview in interviews[:20]:  # warm up: compile rubrics, build matchers
        score_interview(interview.answers, rubrics[interview.rubric_id])
    done = characters = 0
    wall = time.perf_counter()
    cpu = time.process_time()
    while time.perf_counter() - wall < seconds and done < 20_000:
        for interview in interviews:
            score_interview(interview.answers, rubrics[interview.rubric_id])
            done += 1
            characters += sum(len(a.transcript) for a in interview.answers)
    cpu_elapsed = time.process_time() - cpu
    answers = sum(len(i.answers) for i in interviews) / len(interviews)
    print("Speed (per core, CPU time):")
    print(
        f"  scoring: {done / cpu_elapsed:,.0f} interviews/s, {done * answers / cpu_elapsed:,.0f} answers/s "
        f"({characters / done:,.0f} characters and {answers:.1f} answers per interview on average)"
    )
    resumes = generate_resumes(60, seed=seed, categories=sorted(_CATEGORY_RUBRIC))
    prepared = []
    for index, resume in enumerate(resumes):
        job = generate_jobs(1, seed=index, categories=[resume.truth.category])[0]
        rubric = load_default_rubric(_CATEGORY_RUBRIC[resume.truth.category])
        prepared.append((extract_features(resume.text), resume.text, job.requirements, rubric))
    count = 0
    wall = time.perf_counter()
    cpu = time.process_time()
    while time.perf_counter() - wall < seconds:
        for features, text, requirements, rubric in prepared:
            generate_outline(features, text, requirements, rubric)
            count += 1
    cpu_elapsed = time.process_time() - cpu
    mean_chars = statistics.fmean(len(r.text) for r in resumes)
    print(f"  outlines: {count / cpu_elapsed:,.0f} outlines/s (features extracted; resumes {mean_chars:,.0f} chars)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=600)
    parser.add_argument("--outlines", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    scoring_agreement(args.interviews, args.seed)
    print()
    handwritten_agreement()
    print()
    outline_coverage(args.outlines, args.seed)
    print()
    speed(args.seconds, args.seed)


if __name__ == "__main__":
    main()
