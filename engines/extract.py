"""Resume text in, :class:`~engines.features.ResumeFeatures` out: the extraction entry point.

The pipeline and the phrase matcher are built once per process and reused; extraction tokenizes with
``nlp.make_doc`` only (no pipeline components), so a ~1,000-character resume takes about a millisecond.

Involvement of a mention, in order:

1. negated (:mod:`engines.rules`) -> ``listed`` with ``negated=True``;
2. a leadership or participation cue governs it -> ``led`` / ``participated``;
3. in a skills, education, certificates, personal or unclassified section (hobbies, publications), or in
   the ``header`` above the first heading -> ``listed``;
4. in a projects or experience section -> ``used``;
5. in a summary, or in free ``text`` (a resume without headings): ``listed`` after a proficiency claim
   (熟悉, familiar), else ``used``.

Example:
    >>> feats = extract_features("项目经验\\n主导订单系统重构，使用Java；不熟悉Go")
    >>> [(m.skill_id, m.involvement, m.negated) for m in feats.skills]
    [('java', 'led', False), ('golang', 'listed', True)]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from engines.education import extract_education
from engines.evidence import Evidence
from engines.features import ENGINE_VERSION, Involvement, ResumeFeatures, SkillMention
from engines.language import detect_language
from engines.normalize import normalize_width
from engines.rules import MentionContext
from engines.sections import SectionMap, find_sections
from engines.skill_matcher import SkillHit, get_skill_matcher
from engines.years import extract_years

__all__ = ["extract_features", "extract_many"]

_LISTING_SECTIONS = frozenset({"skills", "education", "certificates", "personal", "header", "other"})
_USAGE_SECTIONS = frozenset({"projects", "experience"})


def _mentions(text: str, norm: str, hits: list[SkillHit], sections: SectionMap) -> tuple[SkillMention, ...]:
    if not hits:
        return ()
    gazetteer = get_skill_matcher().gazetteer
    context = MentionContext(norm)
    starts = [hit.start for hit in hits]
    # Above the first heading of a structured resume sits the header (name, title, certificates): a
    # mention there is a claim, not shown work. A resume without headings is all free text.
    structured = sections.has_headings
    mentions: list[SkillMention] = []
    for hit in hits:
        found_in = sections.section_at(hit.start)
        section = found_in.kind
        if section == "other" and found_in.heading_end == found_in.heading_start:
            # Above the first heading: the header of a structured resume, or a resume of free text.
            section = "header" if structured else "text"
        negated = context.is_negated(hit.start, hit.end, starts)
        involvement: Involvement
        if negated:
            involvement = "listed"
        else:
            cue = context.cue_for(hit.start, hit.end)
            if cue == "led" or cue == "participated":
                involvement = cue
            elif section in _LISTING_SECTIONS:
                involvement = "listed"
            elif section in _USAGE_SECTIONS:
                involvement = "used"
            else:
                involvement = "listed" if cue == "proficient" else "used"
        mentions.append(
            SkillMention(
                skill_id=hit.skill_id,
                name=gazetteer.skills[hit.skill_id].name,
                involvement=involvement,
                negated=negated,
                section=section,
                evidence=_evidence(text, hit.start, hit.end),
            )
        )
    return tuple(mentions)


def _evidence(text: str, start: int, end: int) -> Evidence:
    return Evidence(text[start:end], start, end)


def extract_features(text: str, *, today: date | None = None) -> ResumeFeatures:
    """Extract skills (with involvement, negation, section and evidence), years and education.

    Args:
        text: the resume text exactly as received; every evidence offset points into it.
        today: the date ``至今``/``Present`` resolves to; defaults to the current date. Pass a fixed date
            for reproducible results.
    """
    when = date.today() if today is None else today
    matcher = get_skill_matcher()
    norm = normalize_width(text)
    sections = find_sections(text, norm)
    hits = matcher.find(text)
    years = extract_years(text, today=when, norm=norm, sections=sections)
    education = extract_education(text, norm=norm)
    return ResumeFeatures(
        language=detect_language(norm),
        skills=_mentions(text, norm, hits, sections),
        years_experience=years.years,
        years_evidence=years.evidence,
        education=education.level,
        education_evidence=education.evidence,
        engine_version=ENGINE_VERSION,
        gazetteer_version=matcher.gazetteer.version,
    )


def extract_many(texts: Iterable[str], *, today: date | None = None) -> list[ResumeFeatures]:
    """:func:`extract_features` over many texts with one ``today`` (a batch sees one date)."""
    when = date.today() if today is None else today
    return [extract_features(text, today=when) for text in texts]
