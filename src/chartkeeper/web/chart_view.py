"""The chart page's shaping, which lives in ``chartkeeper.summary``: re-exported here for the
pages that import it from the web layer."""

from __future__ import annotations

from chartkeeper.summary.chart_elements import concept_text, human_name
from chartkeeper.summary.chart_sections import SECTIONS, Chart, Item, build_chart, item_for

__all__ = ["SECTIONS", "Chart", "Item", "build_chart", "concept_text", "human_name", "item_for"]
