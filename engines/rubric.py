"""Interview rubrics: weighted dimensions whose levels are anchored in observable behaviour.

A rubric is configured per job. Each :class:`Dimension` has a weight, a kind (``hard`` skills the engine
can score with some confidence, ``soft`` skills such as communication or teamwork that it only suggests
for a human) and up to five :class:`Level` anchors written as behaviour, in Chinese or English::

    5  能独立完成三维建模
    3  参与过项目但未主导
    1  没有三维建模经验

:func:`compile_rubric` turns the anchors into the cues the scoring engine looks for. Default rubrics for
a few role families ship as data (:func:`default_rubrics`).

Example:
    >>> rubric = load_default_rubric("mechanical_designer")
    >>> rubric.dimension("modeling_3d").must_have
    True
    >>> Rubric.from_dict(rubric.to_dict()) == rubric
    True
"""

from __future__ import annotations

from engines.behaviour import BEHAVIOUR_CLASSES, BehaviourAnalysis, BehaviourCue, analyze_behaviour, fold_text
from engines.rubric_compile import CompiledDimension, CompiledLevel, CompiledRubric, TopicHit, compile_rubric
from engines.rubric_model import (
    DEFAULT_RUBRIC_IDS,
    Dimension,
    DimensionKind,
    Level,
    Rubric,
    RubricError,
    default_rubrics,
    load_default_rubric,
)

__all__ = [
    "BEHAVIOUR_CLASSES",
    "DEFAULT_RUBRIC_IDS",
    "BehaviourAnalysis",
    "BehaviourCue",
    "CompiledDimension",
    "CompiledLevel",
    "CompiledRubric",
    "Dimension",
    "DimensionKind",
    "Level",
    "Rubric",
    "RubricError",
    "TopicHit",
    "analyze_behaviour",
    "compile_rubric",
    "default_rubrics",
    "fold_text",
    "load_default_rubric",
]
