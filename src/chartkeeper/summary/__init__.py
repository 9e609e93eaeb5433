"""Summaries of a chart: the clinician summary, the International Patient Summary, chart
search and plain-language explanations for patients."""
