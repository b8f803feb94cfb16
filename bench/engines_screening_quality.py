"""Screening quality on generated resumes with known truth, against a BM25 baseline in the same process.

Run: ``.venv/bin/python bench/engines_screening_quality.py [--resumes 3000] [--pool 400] [--seed 1] [--quick]``

Prints:

* skill extraction precision and recall (claimed, non-negated skills), overall, for spellings the
  gazetteer knows, and per language; negation precision and recall; involvement accuracy on skills
  found; years (within 0.15) and education accuracy;
* per job (one per role family), screening a pool of ``--pool`` resumes (40% from the job's family):
  pass/fail precision and recall against the truth, precision at the shortlist size and NDCG@10 for the
  engine and for BM25 over the raw text (Latin words, Chinese character bigrams); the BM25 query is the
  job description plus the required skills' names in English and Chinese (what HR would type).

The truth for screening is the engine's own screening applied to the generator's truth (what a perfect
extractor would score, :func:`engines.resumes.ideal_outcome`), so the figures measure what extraction
errors cost the ranking. The generator cannot write like people do; the hand-written fixtures in
``tests/engines/handwritten.py`` cover that side.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engines.extract import extract_features
from engines.gazetteer import get_gazetteer
from engines.resume_phrases import CATEGORIES
from engines.resumes import (
    DEFAULT_TODAY,
    GeneratedJob,
    GeneratedResume,
    generate_jobs,
    generate_resume,
    generate_resumes,
)
from engines.screening import rank, screen

_TERM = re.compile(r"[a-z0-9+#.]+|[\u4e00-\u9fff]+")


def bm25_terms(text: str) -> list[str]:
    """Lowercase Latin words and Chinese character bigrams (a common segmenter-free choice)."""
    terms: list[str] = []
    for piece in _TERM.findall(text.lower()):
        if "\u4e00" <= piece[0] <= "\u9fff":
            terms.extend(piece[i : i + 2] for i in range(max(1, len(piece) - 1)))
        else:
            terms.append(piece.strip("."))
    return [t for t in terms if t]


class BM25:
    """Okapi BM25 (k1=1.5, b=0.75) over a fixed corpus."""

    def __init__(self, documents: Sequence[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = [Counter(d) for d in documents]
        self.lengths = [len(d) for d in documents]
        self.avg = sum(self.lengths) / max(1, len(documents))
        df: Counter[str] = Counter()
        for counts in self.tf:
            df.update(counts.keys())
        n = len(documents)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for counts, length in zip(self.tf, self.lengths, strict=True):
            score = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / self.avg)
            for term in query:
                f = counts.get(term)
                if f:
                    score += self.idf[term] * f * (self.k1 + 1) / (f + norm)
            out.append(score)
        return out


def bm25_query(job: GeneratedJob) -> str:
    """What HR would type: the job description plus every required skill's name in both languages."""
    gazetteer = get_gazetteer()
    wanted = [*job.requirements.must_have, *(w.skill_id for w in job.requirements.nice_to_have)]
    names = [gazetteer.name(s, lang) for s in wanted for lang in ("en", "zh")]
    return job.description + "\n" + " ".join(names)


def ndcg_at(order: Sequence[str], gains: dict[str, float], k: int = 10) -> float:
    dcg = sum(gains[key] / math.log2(i + 2) for i, key in enumerate(order[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def extraction(resumes: Sequence[GeneratedResume]) -> None:
    stats: Counter[str] = Counter()
    by_lang: dict[str, Counter[str]] = {}
    for resume in resumes:
        features = extract_features(resume.text, today=DEFAULT_TODAY)
        predicted = {s for s in features.skill_ids() if features.has_skill(s)}
        truth = resume.truth.positive_ids()
        known = resume.truth.positive_ids(known_only=True)
        per_language = by_lang.setdefault(resume.language, Counter())
        for counter in (stats, per_language):
            counter["tp"] += len(predicted & truth)
            counter["fp"] += len(predicted - truth)
            counter["fn"] += len(truth - predicted)
            counter["fn_known"] += len(known - predicted)
            counter["tp_known"] += len(predicted & known)
        denied = {s for s in features.skill_ids() if features.is_negated(s)}
        truth_denied = resume.truth.negated_ids()
        stats["neg_tp"] += len(denied & truth_denied)
        stats["neg_fp"] += len(denied - truth_denied)
        stats["neg_fn"] += len(truth_denied - denied)
        for skill in predicted & known:
            stats["inv_n"] += 1
            stats["inv_ok"] += features.best_involvement(skill) == resume.truth.best_involvement(skill, known_only=True)
        if resume.truth.years is None:
            stats["years_ok"] += features.years_experience is None
        elif features.years_experience is not None:
            stats["years_ok"] += abs(features.years_experience - resume.truth.years) <= 0.15
        stats["edu_ok"] += features.education == resume.truth.education
    n = len(resumes)
    unknown = sum(1 for r in resumes for m in r.truth.mentions if not m.known and not m.negated)
    print(f"Skill extraction on {n} generated resumes ({unknown} mentions use spellings the gazetteer lacks)")
    print(f"  precision                 {ratio(stats['tp'], stats['tp'] + stats['fp']):.3f}")
    print(f"  recall, all spellings     {ratio(stats['tp'], stats['tp'] + stats['fn']):.3f}")
    print(f"  recall, known spellings   {ratio(stats['tp_known'], stats['tp_known'] + stats['fn_known']):.3f}")
    for lang, c in sorted(by_lang.items()):
        precision, recall = ratio(c["tp"], c["tp"] + c["fp"]), ratio(c["tp"], c["tp"] + c["fn"])
        print(f"    {lang:6s} precision {precision:.3f}  recall {recall:.3f}")
    print(f"  negation precision        {ratio(stats['neg_tp'], stats['neg_tp'] + stats['neg_fp']):.3f}")
    print(f"  negation recall           {ratio(stats['neg_tp'], stats['neg_tp'] + stats['neg_fn']):.3f}")
    accuracy = ratio(stats["inv_ok"], stats["inv_n"])
    print(f"  involvement accuracy      {accuracy:.3f}  (best involvement, {stats['inv_n']} skills)")
    print(f"  years within 0.15         {ratio(stats['years_ok'], n):.3f}")
    print(f"  education level           {ratio(stats['edu_ok'], n):.3f}")


def pool_for(job: GeneratedJob, size: int, seed: int) -> list[GeneratedResume]:
    rng = random.Random(f"pool:{seed}:{job.job_id}")
    families = sorted(CATEGORIES)
    pool = []
    for i in range(size):
        category = job.category if rng.random() < 0.4 else rng.choice(families)
        pool.append(
            generate_resume(
                f"{job.job_id}-{i}",
                language=("zh", "en", "mixed")[i % 3],
                length=("short", "long")[(i // 3) % 2],
                category=category,
                resume_id=f"{job.job_id}-c{i:04d}",
            )
        )
    return pool


def screening(jobs: Sequence[GeneratedJob], pool_size: int, seed: int) -> None:
    print(f"\nScreening {len(jobs)} jobs x {pool_size} resumes (truth: screening of the generator's truth)")
    columns = ("pass", "P", "R", "k", "P@k", "BM25", "NDCG10", "BM25")
    widths = (5, 6, 6, 4, 6, 6, 7, 6)
    print(f"  {'job':28s} " + " ".join(f"{c:>{w}s}" for c, w in zip(columns, widths, strict=True)))
    totals: Counter[str] = Counter()
    sums = {"p_at_k": 0.0, "bm25_p_at_k": 0.0, "ndcg": 0.0, "bm25_ndcg": 0.0}
    for job in jobs:
        pool = pool_for(job, pool_size, seed)
        ideal = {r.resume_id: screen(r.truth.features(), job.requirements, text=r.text) for r in pool}
        outcomes = {
            r.resume_id: screen(extract_features(r.text, today=DEFAULT_TODAY), job.requirements, text=r.text)
            for r in pool
        }
        truth_pass = {k for k, o in ideal.items() if o.passed}
        engine_pass = {k for k, o in outcomes.items() if o.passed}
        tp, fp, fn = len(engine_pass & truth_pass), len(engine_pass - truth_pass), len(truth_pass - engine_pass)
        totals.update({"tp": tp, "fp": fp, "fn": fn})
        k = max(1, len(truth_pass))
        engine_order = [key for key, _, _ in rank(outcomes)]
        bm25 = BM25([bm25_terms(r.text) for r in pool])
        scores = bm25.scores(bm25_terms(bm25_query(job)))
        by_bm25 = sorted(zip(scores, pool, strict=True), key=lambda p: (-p[0], p[1].resume_id))
        bm25_order = [r.resume_id for _, r in by_bm25]
        gains = {key: o.score for key, o in ideal.items()}
        p_at_k = len(set(engine_order[:k]) & truth_pass) / k
        bm25_p_at_k = len(set(bm25_order[:k]) & truth_pass) / k
        ndcg, bm25_ndcg = ndcg_at(engine_order, gains), ndcg_at(bm25_order, gains)
        for name, value in (("p_at_k", p_at_k), ("bm25_p_at_k", bm25_p_at_k), ("ndcg", ndcg), ("bm25_ndcg", bm25_ndcg)):
            sums[name] += value
        label = f"{job.category}/{job.language} {job.title}"[:28]
        print(
            f"  {label:28s} {len(truth_pass):5d} {ratio(tp, tp + fp):6.3f} {ratio(tp, tp + fn):6.3f} {k:4d} "
            f"{p_at_k:6.3f} {bm25_p_at_k:6.3f} {ndcg:7.3f} {bm25_ndcg:6.3f}"
        )
    n = len(jobs)
    print(
        f"  {'overall':28s} {'':5s} {ratio(totals['tp'], totals['tp'] + totals['fp']):6.3f} "
        f"{ratio(totals['tp'], totals['tp'] + totals['fn']):6.3f} {'':4s} {sums['p_at_k'] / n:6.3f} "
        f"{sums['bm25_p_at_k'] / n:6.3f} {sums['ndcg'] / n:7.3f} {sums['bm25_ndcg'] / n:6.3f}"
    )
    print(
        f"  engine / BM25: precision at shortlist x{ratio_f(sums['p_at_k'], sums['bm25_p_at_k'])}, "
        f"NDCG@10 x{ratio_f(sums['ndcg'], sums['bm25_ndcg'])}"
    )
    print("  P, R: pass/fail precision and recall; k: shortlist size (truly qualified); P@k: precision at k")


def ratio_f(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "inf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resumes", type=int, default=3000)
    parser.add_argument("--pool", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    resumes_n, pool = (300, 120) if args.quick else (args.resumes, args.pool)
    extraction(generate_resumes(resumes_n, seed=args.seed))
    jobs = generate_jobs(len(CATEGORIES) if not args.quick else 3, seed=args.seed)
    screening(jobs, pool, args.seed)


if __name__ == "__main__":
    main()
